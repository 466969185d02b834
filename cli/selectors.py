"""When WhatsApp Web changes its page: `attention` (is sending stopped on a failing
selector? clear it) and `doctor` (check every selector on the live page, find working
ones, write them)."""

from __future__ import annotations

import argparse
import json
import sys

from .context import AddCommand, CliError, fmt_time, has_database, load_config, open_store, phone, region


def cmd_attention(args: argparse.Namespace) -> int:
    """Whether sending is stopped because a selector keeps failing; --clear to try again."""
    cfg = load_config(args)
    if args.account:
        cfg.get_account(args.account)  # a name that is not in the config: one line, exit 2
    if not has_database(cfg):
        print("Sending is not stopped.")
        return 0
    store = open_store(cfg)
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
        print(
            f"Account {name}: sending is stopped since {fmt_time(doc.get('since'))}: selector "
            f"{doc.get('key')!r} failed on {len(doc.get('messages') or [])} messages in a row."
        )
        if doc.get("detail"):
            print(f"  what it saw: {doc['detail']}")
        others = sorted(k for k in (doc.get("keys") or {}) if k != doc.get("key"))
        if others:
            print(f"  failing with it: {', '.join(others)}")
        if doc.get("dump"):
            print(f"  page saved as {doc['dump']}.html (and .png)")
        heal = doc.get("heal") or {}
        if heal.get("state") == "failed":
            print(f"  self-repair failed: {heal.get('reason')}")
        elif heal.get("state") == "running":
            print("  the worker is repairing it (a probe on the account's own chat)")
        elif heal.get("state") == "waiting":
            print(f"  self-repair waits: {heal.get('reason')}")
        elif cfg.heal.enabled:
            print("  the worker repairs it by itself when it is logged in ([heal] in config.toml)")
    print(
        f"  fix the [selectors] in {cfg.path} by hand: python tui.py doctor --probe --write finds and writes "
        "working ones (the worker reads them at once); or try again unchanged: python tui.py attention --clear"
    )
    return 0


def cmd_doctor(args: argparse.Namespace) -> int:
    """Check every selector on the live page (or a saved one), propose fixes, --write them."""
    from worker import doctor

    cfg = load_config(args).for_account(args.account)
    number = phone(args.number, region(args, cfg)) if args.number else None
    say = (lambda m: print(f"doctor: {m}…", file=sys.stderr)) if not args.json else (lambda m: None)
    if args.probe and (args.page or args.number):
        raise CliError("--probe sends one text to the account's own chat: it goes with neither --page nor --number")
    report = doctor.diagnose(cfg, number=number, page=args.page, probe=args.probe, say=say)
    if args.write:
        doctor.write_winners(cfg, report)
        if report.written:
            store = open_store(cfg, must_exist=False)
            store.clear_attention(
                keys=report.written, why=f"the doctor wrote new selectors for {', '.join(report.written)}"
            )
    if args.json:
        print(json.dumps({**report.to_dict(), "toml": report.toml_lines(cfg)}, ensure_ascii=False, indent=2))
    else:
        print(doctor.format_report(report, cfg))
    return 0


def add_parsers(add: AddCommand) -> None:
    """The `attention` and `doctor` commands and their options."""
    p = add("attention", cmd_attention, "is sending stopped because a selector keeps failing? --clear resumes")
    p.add_argument("--clear", action="store_true", help="try again without changing the config")
    p.add_argument("--account", help="only this account (default: every account)")
    p.add_argument("--json", action="store_true")
    p = add(
        "doctor",
        cmd_doctor,
        "check every WhatsApp Web selector on the live page and find working ones (nothing is sent)",
    )
    p.add_argument("--number", metavar="PHONE", help="the chat to open (default: the account's own)")
    p.add_argument("--page", metavar="FILE.html", help="check a page the worker saved (logs/failures/...)")
    p.add_argument(
        "--probe",
        action="store_true",
        help="prove the bubble keys by sending one short text "
        "([heal] probe_text) to the account's own chat, never to a contact",
    )
    p.add_argument(
        "--write",
        action="store_true",
        help="put the selectors found first in config.toml (a backup is kept) and restart the worker",
    )
    p.add_argument("--region", metavar="CC", help="region of --number when it has no country code")
    p.add_argument("--account", help="the account whose browser to use (default: the first one)")
    p.add_argument("--json", action="store_true")
