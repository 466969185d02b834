"""Command line of the WhatsApp bulk sender (`python tui.py --help`).

One module per command group (`jobs`, `accounts`, `selectors`, `optout`, `system`), one
shared context and printing module (`context`). The config file and the database are
resolved once into a `RunContext` (`args.ctx`) that every command, the dashboard and the
supervisor it starts all use. Every user error, argparse's own included, is one line on
stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

import settings
from common import safefiles
from common.errors import exit_on_user_error

from . import accounts, jobs, optout, selectors, serve, system
from .context import OneLineParser


def build_parser() -> argparse.ArgumentParser:
    """The whole command line: the global options, then each command group's commands."""
    common = OneLineParser(add_help=False)
    common.add_argument(
        "--config",
        metavar="PATH",
        default=argparse.SUPPRESS,
        help=f"config file (default: ${settings.ENV_VAR} or config.toml)",
    )
    common.add_argument(
        "--db",
        metavar="PATH",
        default=argparse.SUPPRESS,
        help="database file or postgresql:// URL (overrides [paths] database)",
    )

    parser = OneLineParser(
        prog="python tui.py",
        parents=[common],
        description="Send one WhatsApp message to every contact of a list, through your own "
        "WhatsApp Web session, at a human pace. Without a command: the dashboard.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=OneLineParser)

    def add(name: str, func: Callable[[argparse.Namespace], int], help_: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, parents=[common], help=help_, description=help_)
        p.set_defaults(func=func)
        return p

    jobs.add_parsers(add)
    selectors.add_parsers(add)
    optout.add_parsers(add)
    accounts.add_parsers(add)
    system.add_parsers(add)
    serve.add_parsers(add)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    safefiles.private_umask()  # every file this tool (and Chromium under it) writes is owner-only
    parser = build_parser()
    args_list = list(sys.argv[1:] if argv is None else argv)
    # `simulator` hands everything after it to the simulator's own parser.
    head, rest = _split_simulator(args_list)
    args = parser.parse_args(head)
    if rest is not None:
        args.rest = rest
    return _run(args)


def _split_simulator(argv: list[str]) -> tuple[list[str], list[str] | None]:
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
        return (argv[: i + 1], argv[i + 1 :]) if a == "simulator" else (argv, None)
    return argv, None


def _run(args: argparse.Namespace) -> int:
    args.config = getattr(args, "config", None)
    args.db = getattr(args, "db", None)
    args.ctx = None
    func = getattr(args, "func", system.cmd_dashboard)
    try:
        return exit_on_user_error(func)(args)
    except KeyboardInterrupt:
        return 130
