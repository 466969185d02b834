"""`python -m dashboard [--config PATH] [--db PATH]` and `python -m dashboard demo`."""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dashboard")
    parser.add_argument("command", nargs="?", choices=("demo",))
    parser.add_argument("--config", default=None)
    parser.add_argument("--db", default=None)
    args = parser.parse_args(argv)
    import settings
    from common import safefiles
    from common.errors import exit_on_user_error

    safefiles.private_umask()
    if args.command == "demo":
        from .demo import run_demo

        return run_demo()
    from . import run

    return exit_on_user_error(lambda: run(settings.resolve(args.config, args.db)))()


if __name__ == "__main__":
    sys.exit(main())
