"""The job commands: import, jobs, status, pause, resume, stop, retry, export, review,
replies. Decisions are the job service's (`jobs.service`); this module reads arguments
and prints."""

from __future__ import annotations

import argparse
import gc
import json
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, cast

from common import safefiles
from common.errors import one_line
from jobs import importing
from jobs.service import JobService
from store import Store
from store.progress import done_fraction
from store.records import Job

from .context import (
    AddCommand,
    CliError,
    fmt_time,
    has_database,
    id_arg,
    ids,
    jsonable,
    load_config,
    open_store,
    progress_line,
    region,
)


def _service(args: argparse.Namespace) -> tuple[Store, JobService]:
    store = open_store(load_config(args))
    return store, JobService(store)


def _progress(job: Job) -> str:
    # A Job reads like a mapping (store.records) without being typed as one, and
    # store.progress.done_fraction asks for a Mapping.
    return f"{100 * done_fraction(cast(Mapping[str, Any], job)):.0f}%"


def _accounts(job: Job) -> str:
    return ", ".join(job.accounts or []) or "any"


def cmd_import(args: argparse.Namespace) -> int:
    # An import allocates a few objects per row and frees none of them before the end:
    # the cyclic collector would walk them again and again (a tenth of a 100,000-row import).
    gc.disable()
    try:
        return _import(args)
    finally:
        gc.enable()


def _import(args: argparse.Namespace) -> int:
    """`import`: check every option, plan the import, then create the job (or, with
    --dry-run, only show what it would be); prints a summary or one JSON object."""
    from contacts import plan_import

    cfg = load_config(args)
    if args.template_file:
        template = importing.read_template_file(args.template_file)
    else:
        template = importing.check_template(args.template)
    name = importing.check_name(args.name) if args.name is not None else importing.default_name(args.file)
    attachment = importing.check_attachment(args.attach) if args.attach else None
    start_at = importing.parse_start(args.start_at)
    window = importing.parse_window(args.window)
    timezone = importing.check_timezone(args.timezone)
    accounts = [cfg.get_account(a).name for a in dict.fromkeys(args.accounts or [])]  # unknown: one line, exit 2
    region_code = region(args, cfg)
    optouts: frozenset[str] = open_store(cfg).optout_set() if has_database(cfg) else frozenset()
    plan = plan_import(
        args.file,
        template,
        region=region_code,
        optouts=optouts,
        phone_column=args.phone_column,
        progress=progress_line() if sys.stderr.isatty() else None,
    )
    if sys.stderr.isatty():
        print("\r\033[K", end="", file=sys.stderr, flush=True)
    hours = importing.local_hours(plan, window, timezone)
    result: dict[str, Any] = {  # printed as JSON with --json
        "dry_run": bool(args.dry_run),
        "name": name,
        **plan.to_dict(messages=False),
        "preview": plan.messages[:5],
        "local_hours": hours.to_dict(),
    }
    job_id = None
    if not args.dry_run:
        if not plan.messages:
            raise CliError(f"{args.file}: no row has a valid number; nothing to send")
        store = open_store(cfg, must_exist=False)
        job_id = importing.create_job_from_plan(
            store,
            plan,
            name=name,
            template=template,
            attachment=attachment,
            start_at=start_at,
            source_file=Path(args.file).resolve(),
            accounts=accounts,
            hours=hours,
        )
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
    for line in hours.lines():
        print(f"  {line}")
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
        print(f"  starts at {fmt_time(start_at)}")
    if accounts:
        print(f"  sent by     {', '.join(accounts)}")
    return 0


def cmd_jobs(args: argparse.Namespace) -> int:
    """`jobs`: every job with its progress and counts (a table, or JSON)."""
    cfg = load_config(args)
    jobs = open_store(cfg).jobs() if has_database(cfg) else []
    if args.json:
        print(json.dumps(jobs, ensure_ascii=False, indent=2, default=jsonable))
        return 0
    if not jobs:
        print("No jobs yet. Create one with: python tui.py import FILE --template TEXT")
        return 0
    print(
        f"{'ID':>4}  {'NAME':<24} {'STATUS':<18} {'DONE':>5} {'SENT':>7} {'FAILED':>7} {'INVALID':>7} {'PENDING':>7}"
        f" {'REPLIED':>7} {'OPTOUT':>6}  ACCOUNTS"
    )
    for j in jobs:
        c = j.counts
        name = one_line(j.name, 24)[:24]  # a name from before names were checked may hold a tab
        print(
            f"{j.id:>4}  {name:<24} {j.status:<18} {_progress(j):>5} {c['sent']:>7} "
            f"{c['failed']:>7} {c['invalid']:>7} {c['pending'] + c['retrying']:>7} {j.replied:>7} {j.optouts:>6}"
            f"  {_accounts(j)}"
        )
    return 0


def _health_view(store: Any, name: str) -> dict[str, Any]:
    """One account's health for `status`: what it shows, and the limit WhatsApp put on it."""
    now = time.time()
    limit = store.account_limit(name, now=now)
    return {
        "health": str(store.account_health(name, now=now)),
        "limit": str(limit.state) if limit else None,
        "until": limit.until if limit else None,
        "time_left_s": round(limit.until - now) if limit and limit.until else None,
        "reason": limit.reason if limit else None,
    }


def _left(seconds: float | None) -> str:
    s = int(seconds or 0)
    return f"{s // 3600}h{s % 3600 // 60:02d}m"


def cmd_status(args: argparse.Namespace) -> int:
    """`status JOB`: one job's dates, counts, ETA, replies and the workers sending it."""
    from jobs import overview

    cfg = load_config(args)
    store, service = _service(args)
    job = service.job(args.job)
    eta = service.eta(job)
    workers = {
        name: {"state": w["state"], "detail": (w.get("info") or {}).get("detail")}
        for name, w in overview.latest_rows(store.workers()).items()
        if not job.accounts or name in job.accounts
    }
    stops = {name: _stop_view(doc) for name, doc in store.attentions().items()}
    health = {name: _health_view(store, name) for name in (job.accounts or [a.name for a in cfg.all_accounts()])}
    if args.json:
        doc = {
            **job.to_dict(),
            "reply_rate": job.reply_rate,
            "eta_seconds": eta,
            "workers": workers,
            "sending_stopped": stops,
            "account_health": health,
        }
        print(json.dumps(doc, ensure_ascii=False, indent=2))
        return 0
    print(f"Job {job.id} {job.name!r}: {job.status} ({_progress(job)} of {job.total})")
    print(
        f"  created {fmt_time(job.created_at)}, started {fmt_time(job.started_at)}, "
        f"finished {fmt_time(job.finished_at)}"
    )
    if job.start_at:
        print(f"  starts at {fmt_time(job.start_at)}")
    print(f"  sent by   {_accounts(job)}")
    if job.window:
        print(f"  window    {job.window} in each contact's local time (numbers without a zone: {job.timezone})")
    for status, n in job.counts.items():
        if n:
            print(f"  {status:<10} {n}")
    if job.waiting:
        print(
            f"  waiting   {job.waiting} contact(s) outside their window now (their night); "
            f"the next morning comes at {fmt_time(job.opens_at)}"
        )
    if job.status == "waiting_for_login":
        print(f"  waiting   no account that may send it can send now: {_why_waiting(store, job)}")
    if eta is not None:
        print(f"  ETA       {int(eta // 3600)}h{int(eta % 3600 // 60):02d}m at the current pace")
    if job.counts.get("unknown"):
        print(f"  {job.counts['unknown']} message(s) wait for a decision: python tui.py review {job.id}")
    if job.replied or job.counts.get("sent"):
        rate = f"{job.reply_rate:.0%}" if job.reply_rate is not None else "-"
        print(
            f"  replies   {job.replied} number(s), reply rate {rate}, opted out by reply {job.optouts}"
            + (f", {job.unclear} to look at (python tui.py replies {job.id})" if job.unclear else "")
        )
    many = len(cfg.all_accounts()) > 1
    for name, worker in workers.items():
        if worker["state"] != "stopped":
            detail = worker["detail"]
            print(f"  worker    {worker['state']}" + (f" ({name})" if many else "") + (f": {detail}" if detail else ""))
    for name, h in health.items():
        if h["limit"] == "banned":
            print(f"  account {name}: banned by WhatsApp, for good: {h['reason']}")
        elif h["limit"]:
            end = f"until {fmt_time(h['until'])} ({_left(h['time_left_s'])} left)" if h["until"] else "until lifted"
            print(f"  account {name}: {h['limit'].replace('_', ' ')} {end}: {h['reason']}")
    for name, stop in stops.items():
        if stop["self_repair"] == "failed" and workers.get(name, {}).get("state") != "needs_attention":
            print(f"  account {name}: sending stopped; self-repair failed: {stop['reason']}")
    return 0


def _why_waiting(store: Store, job: Job) -> str:
    """Each account that may send the job and what keeps it from sending (its health)."""
    import time

    from store.states import shown_health

    now = time.time()
    out = []
    for acc in store.accounts():
        if job.accounts and acc.name not in job.accounts:
            continue
        health = shown_health(acc.login, acc.limit_state, acc.limit_until, now=now)
        what = "disabled" if not acc.enabled else str(health).replace("_", " ")
        if health in ("restricted", "limited_new") and acc.limit_until:
            what += f" until {fmt_time(acc.limit_until)}"
        out.append(f"{acc.name} {what}")
    return ", ".join(out) or "no account has logged in yet"


def _stop_view(doc: dict[str, Any]) -> dict[str, Any]:
    """A line stop as `status --json` shows it: the key, what it saw, the self-repair."""
    heal = doc.get("heal") or {}
    return {
        "key": doc.get("key"),
        "detail": doc.get("detail"),
        "since": doc.get("since"),
        "keys": sorted((doc.get("keys") or {}).keys()),
        "self_repair": heal.get("state") or "pending",
        "reason": heal.get("reason") or None,
    }


def cmd_pause(args: argparse.Namespace) -> int:
    change = _service(args)[1].pause(args.job)
    print(f"Job {change.job_id}: {change.old} -> {change.new}")
    return 0


def cmd_resume(args: argparse.Namespace) -> int:
    change = _service(args)[1].resume(args.job)
    print(f"Job {change.job_id}: {change.old} -> {change.new}")
    return 0


def cmd_stop(args: argparse.Namespace) -> int:
    change = _service(args)[1].stop(args.job)
    print(f"Job {change.job_id}: {change.old} -> {change.new}")
    return 0


def cmd_retry(args: argparse.Namespace) -> int:
    n = _service(args)[1].retry(args.job)
    print(f"Job {args.job}: {n} failed message(s) queued again")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from jobs.exporting import export_job_csv

    cfg = load_config(args)
    out = safefiles.writable_target(args.output, "export")  # before anything is read
    store = open_store(cfg)
    JobService(store).job(args.job)
    n = export_job_csv(store, args.job, out)
    print(f"Wrote {n} rows to {out}")
    return 0


def cmd_review(args: argparse.Namespace) -> int:
    """Messages whose send click happened but nothing proved the outcome: list and decide."""
    store, service = _service(args)
    if args.job is not None:
        service.job(args.job)
    mark_sent = ids(args.mark_sent or [], "--mark-sent")
    resend = ids(args.resend or [], "--resend")
    if mark_sent or resend:
        decision = service.review(mark_sent, resend, job_id=args.job)
        for mid in decision.marked_sent:
            print(f"message {mid}: marked sent")
        for mid in decision.resent:
            print(f"message {mid}: queued again (it will be sent once more)")
        return 0
    rows = store.review_list(args.job)
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2, default=jsonable))
        return 0
    if not rows:
        print("Nothing to review: no message is waiting for a decision.")
        return 0
    print(
        f"{len(rows)} message(s) were clicked but nothing proved whether they arrived. Look at each chat on "
        "the phone, then decide:\n  python tui.py review --mark-sent ID...   (it is in the chat)\n"
        "  python tui.py review --resend ID...      (it is not: send it again)\n"
    )
    for r in rows:
        text = (r.text or "").replace("\n", " ")  # text is NOT NULL in the table
        shown = text if len(text) <= 40 else text[:39] + "…"
        print(f"{r.id:>8}  job {r.job_id:<4} {r.phone:<16} claimed {fmt_time(r.claimed_at)}  {shown}")
        print(f"{'':>10}why: {r.review or r.last_error or 'not verified yet'}")
    return 0


def cmd_replies(args: argparse.Namespace) -> int:
    """What contacts answered to a job: each reply with its number, time and flag."""
    store, service = _service(args)
    job = service.job(args.job)
    rows = store.replies(job.id)
    if args.flagged:
        rows = [r for r in rows if r.flag]
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2, default=jsonable))
        return 0
    rate = f"{job.reply_rate:.0%}" if job.reply_rate is not None else "-"
    print(
        f"Job {job.id} {job.name!r}: {job.replied} number(s) replied (reply rate {rate}), "
        f"{job.optouts} opted out by reply, {job.unclear} unclear"
    )
    if not rows:
        print("No replies yet." if not args.flagged else "No flagged replies.")
        return 0
    flags = {"optout": "OPT-OUT", "unclear": "LOOK"}
    for r in rows:
        what = r.text if r.text is not None else f"[{r.kind}]"
        if r.attachment_name:
            what += f" [{r.kind}: {r.attachment_name}]"
        print(f"  {fmt_time(r.at or r.read_at)}  {r.phone:<16} {flags.get(r.flag or '', ''):<8} {one_line(what, 80)}")
    if job.unclear:
        print("LOOK: may mean stop; nothing was done. Opt a number out with: python tui.py optout add PHONE")
    return 0


def add_parsers(add: AddCommand) -> None:
    """The job commands and their options."""
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
    p.add_argument(
        "--window",
        metavar="HH:MM-HH:MM",
        help="send to each contact only within these hours of their own time zone, e.g. 09:00-20:00 "
        "(default: any time; overnight windows are refused)",
    )
    p.add_argument(
        "--timezone",
        metavar="ZONE",
        help="the job's IANA time zone, for numbers without one of their own, e.g. America/Sao_Paulo "
        "(default: this machine's)",
    )
    p.add_argument(
        "--account",
        action="append",
        metavar="NAME",
        dest="accounts",
        help="only this account may send the job (repeat for several; default: any account)",
    )
    p.add_argument("--dry-run", action="store_true", help="create nothing; show messages and problem rows")
    p.add_argument("--json", action="store_true", help="print the result as one JSON object")

    p = add("jobs", cmd_jobs, "list jobs with their progress")
    p.add_argument("--json", action="store_true")
    p = add("status", cmd_status, "show one job's counts and ETA")
    p.add_argument("job", type=id_arg)
    p.add_argument("--json", action="store_true")
    for name, func, help_ in (
        ("pause", cmd_pause, "pause a job"),
        ("resume", cmd_resume, "resume a paused job"),
        ("stop", cmd_stop, "stop a job for good"),
        ("retry", cmd_retry, "queue a job's failed messages again"),
    ):
        add(name, func, help_).add_argument("job", type=id_arg)
    p = add("export", cmd_export, "write a job's results to CSV (phone, name, status, attempts, sent_at, error)")
    p.add_argument("job", type=id_arg)
    p.add_argument("-o", "--output", required=True, metavar="FILE.csv")
    p = add("review", cmd_review, "messages clicked but not proven sent: list them, mark them sent or send again")
    p.add_argument("job", type=id_arg, nargs="?", help="only this job's messages")
    p.add_argument("--mark-sent", nargs="+", metavar="ID", help="these messages are in their chats: mark them sent")
    p.add_argument("--resend", nargs="+", metavar="ID", help="these messages are not in their chats: send again")
    p.add_argument("--json", action="store_true")
    p = add("replies", cmd_replies, "what contacts answered to a job (opt-outs and replies to look at flagged)")
    p.add_argument("job", type=id_arg)
    p.add_argument("--flagged", action="store_true", help="only opt-outs and replies to look at")
    p.add_argument("--json", action="store_true")
