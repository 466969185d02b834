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
    import config as configmod

    if args.command == "demo":
        from .demo import run_demo

        return run_demo()
    try:
        configmod.load(args.config)
    except configmod.ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    from . import run

    return run(configmod.config_path(args.config), db=args.db)


if __name__ == "__main__":
    sys.exit(main())
