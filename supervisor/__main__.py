"""`python -m supervisor [run|status|stop|start] [--config P] [--db D]` (`python tui.py worker` = run)."""
from __future__ import annotations

import argparse
import json
import sys

import config as configmod

from . import api


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m supervisor", description=__doc__)
    parser.add_argument("action", nargs="?", default="run", choices=["run", "status", "stop", "start"])
    parser.add_argument("--config", metavar="PATH")
    parser.add_argument("--db", metavar="PATH")
    args = parser.parse_args(argv)
    if args.action == "run":
        return api.run_foreground(configmod.config_path(args.config), db=args.db)
    try:
        if args.action == "status":
            print(json.dumps(api.status(args.config), indent=1))
            return 0
        if args.action == "start":
            print(api.start_detached(args.config, db=args.db))
            return 0
        return 0 if api.stop(args.config) else 1
    except (configmod.ConfigError, api.AlreadyRunning, api.SupervisorError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
