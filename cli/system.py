"""Running the parts: the dashboard, the supervised worker, the simulator, the demo, and
moving the database to PostgreSQL (`migrate`)."""

from __future__ import annotations

import argparse
import sys

from common import dburl
from common.errors import one_line

from .context import AddCommand, CliError, context, load_config


def cmd_dashboard(args: argparse.Namespace) -> int:
    import dashboard

    return dashboard.run(context(args))


def cmd_worker(args: argparse.Namespace) -> int:
    import supervisor

    return supervisor.run_foreground(context(args))


def cmd_simulator(args: argparse.Namespace) -> int:
    from simulator.cli import main as simulator_main

    return simulator_main(args.rest)


def cmd_demo(args: argparse.Namespace) -> int:
    from dashboard.demo import run_demo

    return run_demo()


def cmd_migrate(args: argparse.Namespace) -> int:
    """Copy this (SQLite) database into an empty PostgreSQL database."""
    import supervisor
    from store import Store
    from store.migrate import copy_database, message_statuses

    cfg = load_config(args)
    src_db = cfg.paths.database
    if not dburl.is_url(args.to):
        raise CliError(f"--to: must be a postgresql://user@host/db URL, not {one_line(dburl.redact(args.to), 60)!r}")
    target = dburl.check_url(args.to, what="--to")
    if dburl.is_url(src_db):
        raise CliError(f"{dburl.redact(src_db)}: the database to copy from must be an SQLite file")
    if not dburl.exists(src_db):
        raise CliError(f"{src_db}: no database to copy")
    st = supervisor.status(cfg)
    if st and st.get("alive"):
        raise CliError("the supervisor is running on this database: stop it first (python tui.py worker, Ctrl-C)")
    src = Store(src_db)
    dst = Store(target)
    result = copy_database(src, dst)
    statuses = (message_statuses(src), message_statuses(dst))
    print(f"copied {src_db} -> {dburl.redact(target)}")
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
    print(f'Use it: [paths] database = "{dburl.redact(target)}" in the config of every host')
    return 0


def add_parsers(add: AddCommand) -> None:
    p = add(
        "migrate", cmd_migrate, "copy this SQLite database into an empty PostgreSQL database (several hosts share it)"
    )
    p.add_argument("--to", required=True, metavar="URL", help="postgresql://user@host/db (a new, empty database)")
    add("worker", cmd_worker, "run the supervised worker(s) in the foreground (headless; Ctrl-C stops)")
    p = add("simulator", cmd_simulator, "run the local WhatsApp Web simulator (see `simulator --help`)")
    p.add_argument("rest", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    add("demo", cmd_demo, "try everything against the simulator with a throw-away database")
