"""The `optout` command: numbers that must never be messaged."""

from __future__ import annotations

import argparse
import json

from store.records import OptOut

from .context import AddCommand, CliError, fmt_time, has_database, jsonable, load_config, open_store, phone, region


def cmd_optout(args: argparse.Namespace) -> int:
    """`optout add|remove|list [PHONE...]`: every number is checked before anything is written."""
    cfg = load_config(args)
    region_code = region(args, cfg)
    if args.action == "list":
        rows: list[OptOut] = open_store(cfg).optouts() if has_database(cfg) else []
        if args.json:
            print(json.dumps(rows, indent=2, default=jsonable))
        else:
            for r in rows:
                print(f"{r['phone']}  {fmt_time(r['added_at'])}  {r['reason'] or ''}")
            if not rows:
                print("No opted-out numbers.")
        return 0
    if not args.phones:
        raise CliError(f"optout {args.action}: give at least one phone number")
    phones = [phone(p, region_code) for p in args.phones]  # check them all before writing
    store = open_store(cfg, must_exist=False)
    for number in phones:
        if args.action == "add":
            changed = store.add_optout(number, args.reason)
            print(f"{number}: {'opted out' if changed else 'already opted out'}")
        else:
            changed = store.remove_optout(number)
            print(f"{number}: {'removed' if changed else 'was not opted out'}")
    return 0


def add_parsers(add: AddCommand) -> None:
    p = add("optout", cmd_optout, "numbers that must never be messaged: add, remove, list")
    p.add_argument("action", choices=("add", "remove", "list"))
    p.add_argument("phones", nargs="*", metavar="PHONE")
    p.add_argument("--reason", help="why (kept with the number)")
    p.add_argument("--region", metavar="CC", help="region for numbers without country code")
    p.add_argument("--json", action="store_true")
