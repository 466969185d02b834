"""Command line of the WhatsApp bulk sender (`python tui.py --help`).

Every user error ends here as one line on stderr and exit status 2 (config's
`exit_on_user_error`); nothing is written before the input has been checked. The config
file and the database are resolved once into a `RunContext` (`args.ctx`) that every
command, the dashboard and the supervisor it starts all use.
"""
from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Sequence

import config as configmod
import dburl
import safefiles

EXIT_USAGE = 2
MAX_TEMPLATE_BYTES = 64 * 1024
MAX_ATTACHMENT_BYTES = 2 * 1024 ** 3  # WhatsApp's limit for a document
MAX_ID = 2 ** 63 - 1


class CliError(configmod.UserError):
    """A user error: shown as one line, exit status 2."""


# ---------------------------------------------------------------------- helpers
def _context(args: argparse.Namespace) -> configmod.RunContext:
    """The run context of this command, resolved once (and its privacy checked once)."""
    if getattr(args, "ctx", None) is None:
        args.ctx = configmod.resolve(args.config, args.db)
        cfg = args.ctx.cfg
        db = cfg.paths.database
        files = [] if dburl.is_url(db) else [db, Path(f"{db}-wal"), Path(f"{db}-shm")]
        warning = safefiles.exposure_warning([*files, cfg.paths.log_dir, cfg.paths.run_dir])
        if warning:
            print(warning, file=sys.stderr)
    return args.ctx


def _load_config(args: argparse.Namespace) -> configmod.Config:
    return _context(args).cfg


def _job_id(text: str) -> int:
    """A job or message id as typed: a whole number from 1 to 2**63 - 1."""
    value = text.strip()
    if not value.isdigit() or not 0 < int(value) <= MAX_ID:
        raise argparse.ArgumentTypeError(f"not an id: {configmod.one_line(text, 40)!r}")
    return int(value)


def _open_store(cfg: configmod.Config, *, must_exist: bool = True):
    from store import Store

    db = cfg.paths.database
    if must_exist and not dburl.exists(db):
        raise CliError(f"{db}: no database yet (import a contact file first)")
    return Store(db)


def jsonable(value: Any) -> Any:
    """json.dumps' hook for the store's typed records."""
    from store.records import jsonable as plain

    out = plain(value)
    if out is value:
        raise TypeError(f"not JSON: {type(value).__name__}")
    return out


def _job(store, job_id: int):
    job = store.get_job(job_id)
    if job is None:
        raise CliError(f"no job {job_id} (see `python tui.py jobs`)")
    return job


def _fmt_time(ts: float | None) -> str:
    return datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M:%S") if ts else "-"


def _progress(job: dict[str, Any]) -> str:
    from store.progress import done_fraction

    return f"{100 * done_fraction(job):.0f}%"


def _eta(store, job: dict[str, Any]) -> float | None:
    """Seconds left at the pace of the last sends (None when there is no pace yet)."""
    from store.progress import ETA_SAMPLES, eta_seconds, open_count

    if job["status"] not in ("running", "waiting_for_login"):
        return None
    return eta_seconds(store.sent_times(job["id"], ETA_SAMPLES), open_count(job["counts"]))


def _parse_start(value: str | None) -> float | None:
    if not value:
        return None
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise CliError(f"--start-at: {value!r} is not a date and time like 2026-12-01T09:30") from None
    return when.astimezone().timestamp() if when.tzinfo is None else when.timestamp()


def _progress_line(every: float = 0.2):
    """A progress callback that redraws one line on a terminal (big files take seconds)."""
    import time

    last = [0.0]

    def show(done: int, total: int) -> None:
        now = time.monotonic()
        if total < 2000 or (now - last[0] < every and done < total):
            return
        last[0] = now
        print(f"\rchecking numbers and writing messages: {100 * done // max(total, 1):3d}% "
              f"({done:,} of {total:,} rows)\033[K", end="", file=sys.stderr, flush=True)

    return show


def _region(args: argparse.Namespace, cfg: configmod.Config) -> str:
    """--region, else [sending] default_region; checked by contacts (the one region check)."""
    from contacts import ContactsError
    from contacts.phones import check_region

    try:
        return check_region(args.region or cfg.sending.default_region) or ""
    except ContactsError:
        raise CliError(f"--region: unknown region {configmod.one_line(args.region, 20)!r} "
                       "(use a two-letter country code such as US, IN, GB)") from None


def _phone(raw: str, region: str) -> str:
    from contacts import normalise_phone

    e164, reason = normalise_phone(raw, region)
    if e164 is None:
        raise CliError(f"{raw!r} is not a phone number: {reason}")
    return e164


# ---------------------------------------------------------------------- commands
def cmd_import(args: argparse.Namespace) -> int:
    import gc

    # An import allocates a few objects per row and frees none of them before the end:
    # the cyclic collector would walk them again and again (a tenth of a 100,000-row import).
    gc.disable()
    try:
        return _import(args)
    finally:
        gc.enable()


def _import(args: argparse.Namespace) -> int:
    from contacts import plan_import

    cfg = _load_config(args)
    if args.template_file:
        path = safefiles.regular_file(args.template_file, "template file", max_bytes=MAX_TEMPLATE_BYTES)
        try:
            template = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise CliError(f"{args.template_file}: cannot read template: {exc}") from None
    else:
        template = args.template
        if len(template.encode("utf-8", "replace")) > MAX_TEMPLATE_BYTES:
            raise CliError(f"--template: too long ({len(template):,} characters; at most {MAX_TEMPLATE_BYTES:,} bytes)")
    if not template.strip():
        raise CliError("the template is empty")
    attachment = None
    if args.attach:
        attachment = safefiles.regular_file(args.attach, "attachment", max_bytes=MAX_ATTACHMENT_BYTES)
    start_at = _parse_start(args.start_at)
    accounts = [cfg.get_account(a).name for a in dict.fromkeys(args.accounts or [])]  # unknown: one line, exit 2
    region = _region(args, cfg)
    db_exists = dburl.exists(cfg.paths.database)
    optouts: frozenset[str] = frozenset()
    if db_exists:
        store = _open_store(cfg)
        optouts = store.optout_set()
    plan = plan_import(args.file, template, region=region, optouts=optouts, phone_column=args.phone_column,
                       progress=_progress_line() if sys.stderr.isatty() else None)
    if sys.stderr.isatty():
        print("\r\033[K", end="", file=sys.stderr, flush=True)
    name = args.name or Path(args.file).stem
    result: dict[str, Any] = {"dry_run": bool(args.dry_run), "name": name, **plan.to_dict(messages=False),
                              "preview": plan.messages[:5]}
    job_id = None
    if not args.dry_run:
        if not plan.messages:
            raise CliError(f"{args.file}: no row has a valid number; nothing to send")
        from importer import create_job_from_plan

        store = _open_store(cfg, must_exist=False)
        job_id = create_job_from_plan(store, plan, name=name, template=template, attachment=attachment,
                                      start_at=start_at, source_file=Path(args.file).resolve(), accounts=accounts)
    result["job_id"] = job_id
    result["accounts"] = accounts or "any"
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
        return 0
    s = plan.summary()
    if job_id is None:
        print(f"Dry run: nothing was created. {args.file} would make job {name!r}:")
    else:
        print(f"Job {job_id} {name!r} created from {args.file}:")
    print(f"  format {plan.table.format}, phone column {plan.table.phone_column!r}, {s['total_rows']} rows")
    print(f"  queued      {s['queued']}")
    print(f"  invalid     {s['invalid']}")
    print(f"  duplicates  {s['duplicates']}")
    print(f"  opted out   {s['opted_out']}")
    if s.get("blank"):
        print(f"  blank rows  {s['blank']}")
    problems = plan.problems()
    if args.dry_run:
        print("First messages:")
        for m in plan.messages[:5]:
            shown = m["text"].replace("\n", "\n      ")
            print(f"  {m['phone']}  {shown}")
    if problems:
        limit = len(problems) if args.dry_run else 20
        print("Problem rows:")
        for kind, p in problems[:limit]:
            print(f"  {p.line(kind)}")
        if len(problems) > limit:
            print(f"  ... and {len(problems) - limit} more (see --dry-run or --json)")
    if start_at and job_id is not None:
        print(f"  starts at {_fmt_time(start_at)}")
    if accounts:
        print(f"  sent by     {', '.join(accounts)}")
    return 0


def cmd_jobs(args: argparse.Namespace) -> int:
    cfg = _load_config(args)
    if not dburl.exists(cfg.paths.database):
        jobs: list[dict[str, Any]] = []
    else:
        jobs = _open_store(cfg).jobs()
    if args.json:
        print(json.dumps(jobs, ensure_ascii=False, indent=2, default=jsonable))
        return 0
    if not jobs:
        print("No jobs yet. Create one with: python tui.py import FILE --template TEXT")
        return 0
    print(f"{'ID':>4}  {'NAME':<24} {'STATUS':<18} {'DONE':>5} {'SENT':>7} {'FAILED':>7} {'INVALID':>7} {'PENDING':>7}"
          f" {'REPLIED':>7} {'OPTOUT':>6}  ACCOUNTS")
    for j in jobs:
        c = j["counts"]
        print(f"{j['id']:>4}  {j['name'][:24]:<24} {j['status']:<18} {_progress(j):>5} {c['sent']:>7} "
              f"{c['failed']:>7} {c['invalid']:>7} {c['pending'] + c['retrying']:>7} {j.replied:>7} {j.optouts:>6}"
              f"  {_accounts(j)}")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    cfg = _load_config(args)
    store = _open_store(cfg)
    job = _job(store, args.job)
    eta = _eta(store, job)
    if args.json:
        print(json.dumps({**job.to_dict(), "reply_rate": job.reply_rate, "eta_seconds": eta},
                         ensure_ascii=False, indent=2))
        return 0
    print(f"Job {job['id']} {job['name']!r}: {job['status']} ({_progress(job)} of {job['total']})")
    print(f"  created {_fmt_time(job['created_at'])}, started {_fmt_time(job['started_at'])}, "
          f"finished {_fmt_time(job['finished_at'])}")
    if job["start_at"]:
        print(f"  starts at {_fmt_time(job['start_at'])}")
    print(f"  sent by   {_accounts(job)}")
    for status, n in job["counts"].items():
        if n:
            print(f"  {status:<10} {n}")
    if eta is not None:
        print(f"  ETA       {int(eta // 3600)}h{int(eta % 3600 // 60):02d}m at the current pace")
    if job["counts"].get("unknown"):
        print(f"  {job['counts']['unknown']} message(s) wait for a decision: python tui.py review {job['id']}")
    if job.replied or job.counts.get("sent"):
        rate = f"{job.reply_rate:.0%}" if job.reply_rate is not None else "-"
        print(f"  replies   {job.replied} number(s), reply rate {rate}, opted out by reply {job.optouts}"
              + (f", {job.unclear} to look at (python tui.py replies {job.id})" if job.unclear else ""))
    import overview

    many = len(cfg.all_accounts()) > 1
    for name, worker in overview.latest_rows(store.workers()).items():
        if worker["state"] != "stopped" and (not job["accounts"] or name in job["accounts"]):
            detail = (worker.get("info") or {}).get("detail")
            print(f"  worker    {worker['state']}" + (f" ({name})" if many else "") + (f": {detail}" if detail else ""))
    return 0


def _accounts(job: dict[str, Any]) -> str:
    return ", ".join(job.get("accounts") or []) or "any"


def _set_status(args: argparse.Namespace, new: str, verb: str) -> int:
    from store import IllegalTransition

    cfg = _load_config(args)
    store = _open_store(cfg)
    job = _job(store, args.job)
    try:
        old = store.set_job_status(args.job, new)
    except IllegalTransition:
        raise CliError(f"job {args.job} is {job['status']}: it cannot be {verb}") from None
    print(f"Job {args.job}: {old} -> {new}")
    return 0


def cmd_pause(args: argparse.Namespace) -> int:
    return _set_status(args, "paused", "paused")


def cmd_resume(args: argparse.Namespace) -> int:
    return _set_status(args, "running", "resumed")


def cmd_stop(args: argparse.Namespace) -> int:
    return _set_status(args, "stopped", "stopped")


def cmd_retry(args: argparse.Namespace) -> int:
    cfg = _load_config(args)
    store = _open_store(cfg)
    _job(store, args.job)
    n = store.retry_failed(args.job)
    print(f"Job {args.job}: {n} failed message(s) queued again")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from exporting import export_job_csv

    cfg = _load_config(args)
    out = safefiles.writable_target(args.output, "export")  # before anything is read
    store = _open_store(cfg)
    _job(store, args.job)
    n = export_job_csv(store, args.job, out)
    print(f"Wrote {n} rows to {out}")
    return 0


def _ids(values: list[str], option: str) -> list[int]:
    ids = []
    for v in values:
        for part in v.replace(",", " ").split():
            if not part.isdigit() or not 0 < int(part) <= MAX_ID:
                raise CliError(f"{option}: {part[:40]!r} is not a message id")
            ids.append(int(part))
    return ids


def cmd_review(args: argparse.Namespace) -> int:
    """Messages whose send click happened but nothing proved the outcome: list and decide."""
    from store import IllegalTransition

    cfg = _load_config(args)
    store = _open_store(cfg)
    if args.job is not None:
        _job(store, args.job)
    mark_sent = _ids(args.mark_sent or [], "--mark-sent")
    resend = _ids(args.resend or [], "--resend")
    both = set(mark_sent) & set(resend)
    if both:
        raise CliError(f"message {min(both)} is both in --mark-sent and --resend")
    if mark_sent or resend:
        try:
            for ids, sent in ((mark_sent, True), (resend, False)):
                if ids:
                    store.decide(ids, sent=sent)
        except (IllegalTransition, KeyError) as exc:
            raise CliError(str(exc).strip("'\"")) from None
        for mid in mark_sent:
            print(f"message {mid}: marked sent")
        for mid in resend:
            print(f"message {mid}: queued again (it will be sent once more)")
        return 0
    rows = store.review_list(args.job)
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2, default=jsonable))
        return 0
    if not rows:
        print("Nothing to review: no message is waiting for a decision.")
        return 0
    print(f"{len(rows)} message(s) were clicked but nothing proved whether they arrived. Look at each chat on "
          "the phone, then decide:\n  python tui.py review --mark-sent ID...   (it is in the chat)\n"
          "  python tui.py review --resend ID...      (it is not: send it again)\n")
    for r in rows:
        text = r["text"].replace("\n", " ")
        shown = text if len(text) <= 40 else text[:39] + "…"
        print(f"{r['id']:>8}  job {r['job_id']:<4} {r['phone']:<16} claimed {_fmt_time(r['claimed_at'])}  {shown}")
        print(f"{'':>10}why: {r['review'] or r['last_error'] or 'not verified yet'}")
    return 0


def cmd_attention(args: argparse.Namespace) -> int:
    """Whether sending is stopped because a selector keeps failing; --clear to try again."""
    cfg = _load_config(args)
    if args.account:
        cfg.get_account(args.account)  # a name that is not in the config: one line, exit 2
    if not dburl.exists(cfg.paths.database):
        print("Sending is not stopped.")
        return 0
    store = _open_store(cfg)
    docs = {name: doc for name, doc in store.attentions().items() if not args.account or name == args.account}
    if args.clear:
        cleared = store.clear_attention(args.account, why="sending resumed by hand (python tui.py attention --clear)")
        for name in cleared:
            print(f"Cleared: account {name} sends again (selector {docs[name].get('key')!r} was failing).")
        if not cleared:
            print("Sending was not stopped.")
        return 0
    if args.json:
        print(json.dumps(docs, indent=2))
        return 0
    if not docs:
        print("Sending is not stopped.")
        return 0
    for name, doc in docs.items():
        print(f"Account {name}: sending is stopped since {_fmt_time(doc.get('since'))}: selector "
              f"{doc.get('key')!r} failed on {len(doc.get('messages') or [])} messages in a row.")
        if doc.get("detail"):
            print(f"  last failure: {doc['detail']}")
        if doc.get("dump"):
            print(f"  page saved as {doc['dump']}.html (and .png)")
    print(f"  fix the [selectors] in {cfg.path} (python tui.py doctor finds working ones): the worker restarts "
          "by itself when the file changes; or try again unchanged: python tui.py attention --clear")
    return 0


def cmd_doctor(args: argparse.Namespace) -> int:
    """Check every selector on the live page (or a saved one), propose fixes, --write them."""
    from worker import doctor

    cfg = _load_config(args).for_account(args.account)
    number = _phone(args.number, _region(args, cfg)) if args.number else None
    say = (lambda m: print(f"doctor: {m}…", file=sys.stderr)) if not args.json else (lambda m: None)
    report = doctor.diagnose(cfg, number=number, page=args.page, say=say)
    if args.write:
        doctor.write_winners(cfg, report)
        if report.written:
            store = _open_store(cfg, must_exist=False)
            store.clear_attention(keys=report.written,
                                  why=f"the doctor wrote new selectors for {', '.join(report.written)}")
    if args.json:
        print(json.dumps({**report.to_dict(), "toml": report.toml_lines(cfg)}, ensure_ascii=False, indent=2))
    else:
        print(doctor.format_report(report, cfg))
    return 0


def cmd_optout(args: argparse.Namespace) -> int:
    cfg = _load_config(args)
    region = _region(args, cfg)
    if args.action == "list":
        if not dburl.exists(cfg.paths.database):
            rows: list[dict[str, Any]] = []
        else:
            rows = _open_store(cfg).optouts()
        if args.json:
            print(json.dumps(rows, indent=2, default=jsonable))
        else:
            for r in rows:
                print(f"{r['phone']}  {_fmt_time(r['added_at'])}  {r['reason'] or ''}")
            if not rows:
                print("No opted-out numbers.")
        return 0
    if not args.phones:
        raise CliError(f"optout {args.action}: give at least one phone number")
    phones = [_phone(p, region) for p in args.phones]  # check them all before writing
    store = _open_store(cfg, must_exist=False)
    for phone in phones:
        if args.action == "add":
            changed = store.add_optout(phone, args.reason)
            print(f"{phone}: {'opted out' if changed else 'already opted out'}")
        else:
            changed = store.remove_optout(phone)
            print(f"{phone}: {'removed' if changed else 'was not opted out'}")
    return 0


def cmd_simulator(args: argparse.Namespace) -> int:
    from simulator.cli import main as simulator_main

    return simulator_main(args.rest)


def cmd_worker(args: argparse.Namespace) -> int:
    import supervisor

    return supervisor.run_foreground(_context(args))


def cmd_demo(args: argparse.Namespace) -> int:
    from dashboard.demo import run_demo

    return run_demo()


def cmd_accounts(args: argparse.Namespace) -> int:
    import cli_accounts

    return cli_accounts.cmd_accounts(args, _load_config, _open_store)


def cmd_login(args: argparse.Namespace) -> int:
    import cli_accounts

    return cli_accounts.cmd_login(args, _context, _open_store)


def cmd_migrate(args: argparse.Namespace) -> int:
    """Copy this (SQLite) database into an empty PostgreSQL database."""
    import supervisor
    from store import Store
    from store.migrate import copy_database, message_statuses

    cfg = _load_config(args)
    src_db = cfg.paths.database
    if not dburl.is_url(args.to):
        raise CliError(f"--to: must be a postgresql://user@host/db URL, not {configmod.one_line(args.to, 60)!r}")
    if dburl.is_url(src_db):
        raise CliError(f"{dburl.redact(src_db)}: the database to copy from must be an SQLite file")
    if not dburl.exists(src_db):
        raise CliError(f"{src_db}: no database to copy")
    st = supervisor.status(cfg)
    if st and st.get("alive"):
        raise CliError("the supervisor is running on this database: stop it first (python tui.py worker, Ctrl-C)")
    src = Store(src_db)
    dst = Store(args.to)
    result = copy_database(src, dst)
    statuses = (message_statuses(src), message_statuses(dst))
    print(f"copied {src_db} -> {dburl.redact(args.to)}")
    print(f"{'TABLE':<14} {'SQLITE':>10} {'POSTGRESQL':>11}")
    for table, (a, b) in result.items():
        print(f"{table:<14} {a:>10} {b:>11}{'' if a == b else '  MISMATCH'}")
    for status in sorted(set(statuses[0]) | set(statuses[1])):
        a, b = statuses[0].get(status, 0), statuses[1].get(status, 0)
        print(f"  {status:<12} {a:>10} {b:>11}{'' if a == b else '  MISMATCH'}")
    same = all(a == b for a, b in result.values()) and statuses[0] == statuses[1]
    if not same:
        print("error: the copy differs from the source (see MISMATCH above)", file=sys.stderr)
        return 1
    print(f"Use it: [paths] database = \"{dburl.redact(args.to)}\" in the config of every host")
    return 0


def cmd_replies(args: argparse.Namespace) -> int:
    """What contacts answered to a job: each reply with its number, time and flag."""
    cfg = _load_config(args)
    store = _open_store(cfg)
    job = _job(store, args.job)
    rows = store.replies(job.id)
    if args.flagged:
        rows = [r for r in rows if r.flag]
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2, default=jsonable))
        return 0
    rate = f"{job.reply_rate:.0%}" if job.reply_rate is not None else "-"
    print(f"Job {job.id} {job.name!r}: {job.replied} number(s) replied (reply rate {rate}), "
          f"{job.optouts} opted out by reply, {job.unclear} unclear")
    if not rows:
        print("No replies yet." if not args.flagged else "No flagged replies.")
        return 0
    flags = {"optout": "OPT-OUT", "unclear": "LOOK"}
    for r in rows:
        what = r.text if r.text is not None else f"[{r.kind}]"
        if r.attachment_name:
            what += f" [{r.kind}: {r.attachment_name}]"
        print(f"  {_fmt_time(r.at or r.read_at)}  {r.phone:<16} {flags.get(r.flag or '', ''):<8} "
              f"{configmod.one_line(what, 80)}")
    if job.unclear:
        print("LOOK: may mean stop; nothing was done. Opt a number out with: python tui.py optout add PHONE")
    return 0


def cmd_dashboard(args: argparse.Namespace) -> int:
    import dashboard

    return dashboard.run(_context(args))


# ---------------------------------------------------------------------- parser
def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", metavar="PATH", default=argparse.SUPPRESS,
                        help=f"config file (default: ${configmod.ENV_VAR} or config.toml)")
    common.add_argument("--db", metavar="PATH", default=argparse.SUPPRESS,
                        help="database file or postgresql:// URL (overrides [paths] database)")

    parser = argparse.ArgumentParser(
        prog="python tui.py", parents=[common],
        description="Send one WhatsApp message to every contact of a list, through your own "
                    "WhatsApp Web session, at a human pace. Without a command: the dashboard.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def add(name: str, func: Callable[[argparse.Namespace], int], help_: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, parents=[common], help=help_, description=help_)
        p.set_defaults(func=func)
        return p

    p = add("import", cmd_import, "create a job from a contact file (CSV, XLSX, VCF) and a template")
    p.add_argument("file", help="contact file: .csv, .txt, .tsv, .xlsx or .vcf")
    tpl = p.add_mutually_exclusive_group(required=True)
    tpl.add_argument("--template", metavar="TEXT", help="message text with {column} and {Hi|Hello} spintax")
    tpl.add_argument("--template-file", metavar="F", help="read the message template from a file")
    p.add_argument("--name", metavar="N", help="job name (default: the file name)")
    p.add_argument("--attach", metavar="PATH", help="file sent with every message (the text is its caption)")
    p.add_argument("--phone-column", metavar="COL", help="column holding the phone numbers")
    p.add_argument("--region", metavar="CC", help="region for numbers without country code, e.g. IN")
    p.add_argument("--start-at", metavar="ISO", help="do not send before this local time, e.g. 2026-12-01T09:00")
    p.add_argument("--account", action="append", metavar="NAME", dest="accounts",
                   help="only this account may send the job (repeat for several; default: any account)")
    p.add_argument("--dry-run", action="store_true", help="create nothing; show messages and problem rows")
    p.add_argument("--json", action="store_true", help="print the result as one JSON object")

    p = add("jobs", cmd_jobs, "list jobs with their progress")
    p.add_argument("--json", action="store_true")
    p = add("status", cmd_status, "show one job's counts and ETA")
    p.add_argument("job", type=_job_id)
    p.add_argument("--json", action="store_true")
    for name, func, help_ in (("pause", cmd_pause, "pause a job"), ("resume", cmd_resume, "resume a paused job"),
                              ("stop", cmd_stop, "stop a job for good"),
                              ("retry", cmd_retry, "queue a job's failed messages again")):
        add(name, func, help_).add_argument("job", type=_job_id)
    p = add("export", cmd_export, "write a job's results to CSV (phone, name, status, attempts, sent_at, error)")
    p.add_argument("job", type=_job_id)
    p.add_argument("-o", "--output", required=True, metavar="FILE.csv")
    p = add("review", cmd_review, "messages clicked but not proven sent: list them, mark them sent or send again")
    p.add_argument("job", type=_job_id, nargs="?", help="only this job's messages")
    p.add_argument("--mark-sent", nargs="+", metavar="ID", help="these messages are in their chats: mark them sent")
    p.add_argument("--resend", nargs="+", metavar="ID", help="these messages are not in their chats: send again")
    p.add_argument("--json", action="store_true")
    p = add("attention", cmd_attention, "is sending stopped because a selector keeps failing? --clear resumes")
    p.add_argument("--clear", action="store_true", help="try again without changing the config")
    p.add_argument("--account", help="only this account (default: every account)")
    p.add_argument("--json", action="store_true")
    p = add("doctor", cmd_doctor, "check every WhatsApp Web selector on the live page and find working ones "
                                  "(nothing is sent)")
    p.add_argument("--number", metavar="PHONE", help="the chat to open (default: the account's own)")
    p.add_argument("--page", metavar="FILE.html", help="check a page the worker saved (logs/failures/...)")
    p.add_argument("--write", action="store_true", help="put the selectors found first in config.toml "
                                                         "(a backup is kept) and restart the worker")
    p.add_argument("--region", metavar="CC", help="region of --number when it has no country code")
    p.add_argument("--account", help="the account whose browser to use (default: the first one)")
    p.add_argument("--json", action="store_true")
    p = add("replies", cmd_replies, "what contacts answered to a job (opt-outs and replies to look at flagged)")
    p.add_argument("job", type=_job_id)
    p.add_argument("--flagged", action="store_true", help="only opt-outs and replies to look at")
    p.add_argument("--json", action="store_true")
    p = add("optout", cmd_optout, "numbers that must never be messaged: add, remove, list")
    p.add_argument("action", choices=("add", "remove", "list"))
    p.add_argument("phones", nargs="*", metavar="PHONE")
    p.add_argument("--reason", help="why (kept with the number)")
    p.add_argument("--region", metavar="CC", help="region for numbers without country code")
    p.add_argument("--json", action="store_true")
    import cli_accounts

    cli_accounts.add_parsers(add, cmd_accounts, cmd_login)
    p = add("migrate", cmd_migrate, "copy this SQLite database into an empty PostgreSQL database "
                                    "(several hosts share it)")
    p.add_argument("--to", required=True, metavar="URL", help="postgresql://user@host/db (a new, empty database)")
    p = add("worker", cmd_worker, "run the supervised worker(s) in the foreground (headless; Ctrl-C stops)")
    p = add("simulator", cmd_simulator, "run the local WhatsApp Web simulator (see `simulator --help`)")
    p.add_argument("rest", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    add("demo", cmd_demo, "try everything against the simulator with a throw-away database")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    safefiles.private_umask()  # every file this tool (and Chromium under it) writes is owner-only
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    # `simulator` hands everything after it to the simulator's own parser.
    head, rest = _split_simulator(parser, argv)
    args = parser.parse_args(head)
    if rest is not None:
        args.rest = rest
    return _run(args)


def _split_simulator(parser: argparse.ArgumentParser, argv: list[str]) -> tuple[list[str], list[str] | None]:
    """(our arguments, the simulator's) when the command is `simulator`, else (argv, None).
    Global options may come first, with their values (`--config PATH simulator --port P`)."""
    i = 0
    while i < len(argv):
        a = argv[i]
        if a in ("--config", "--db"):
            i += 2
            continue
        if a.startswith(("--config=", "--db=")) or a in ("-h", "--help"):
            i += 1
            continue
        return (argv[:i + 1], argv[i + 1:]) if a == "simulator" else (argv, None)
    return argv, None


def _run(args: argparse.Namespace) -> int:
    args.config = getattr(args, "config", None)
    args.db = getattr(args, "db", None)
    args.ctx = None
    func = getattr(args, "func", cmd_dashboard)
    try:
        return configmod.exit_on_user_error(func)(args)
    except KeyboardInterrupt:
        return 130
