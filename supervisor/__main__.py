"""`python -m supervisor [run|status|stop|start] [--config P] [--db D]` (`python tui.py worker` = run)."""

from __future__ import annotations

import argparse
import json
import sys

import settings
from common.errors import exit_on_user_error

from . import api


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m supervisor", description=__doc__)
    parser.add_argument("action", nargs="?", default="run", choices=["run", "status", "stop", "start"])
    parser.add_argument("--config", metavar="PATH")
    parser.add_argument("--db", metavar="PATH")
    args = parser.parse_args(argv)
    return _act(args)


@exit_on_user_error
def _act(args: argparse.Namespace) -> int:
    ctx = settings.resolve(args.config, args.db)
    if args.action == "run":
        return api.run_foreground(ctx)
    if args.action == "status":
        print(json.dumps(api.status(ctx), indent=1))
        return 0
    if args.action == "start":
        print(api.start_detached(ctx))
        return 0
    return 0 if api.stop(ctx) else 1


if __name__ == "__main__":
    sys.exit(main())
