"""The HTTP API and what it tells other systems: `serve` (the API, docs/api.md) and
`webhooks` (where events go, what waits, the dead letters, and trying them again)."""

from __future__ import annotations

import argparse
import json
import time

from common import dburl
from common.errors import one_line

from .context import AddCommand, context, load_config, open_store


def port_arg(text: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise argparse.ArgumentTypeError(f"not a port number (1-65535): {one_line(text, 20)!r}")
    return int(text)


def cmd_serve(args: argparse.Namespace) -> int:
    from api.server import serve

    return serve(context(args), host=args.host, port=args.port, allow_remote=args.allow_remote)


def cmd_webhooks(args: argparse.Namespace) -> int:
    """The webhooks' deliveries: backlog and dead letters per target; --retry-dead queues them again."""
    cfg = load_config(args)
    if not dburl.exists(cfg.paths.database):
        print("No database yet: nothing was delivered.")
        return 0
    store = open_store(cfg)
    if args.retry_dead:
        n = store.retry_dead()
        print(f"{n} dead letter(s) queued again: the supervisor's deliverer tries them now")
        return 0
    summary = store.outbox_summary()
    dead = store.dead_letters(limit=args.limit) if args.dead else []
    if args.json:
        print(json.dumps({"targets": summary, "dead_letters": [d.to_dict() for d in dead]}, indent=2, default=str))
        return 0
    if not summary:
        print("No webhook or alert command has delivered anything yet ([[webhooks]], [alerts] in config.toml).")
    for t in summary.values():
        oldest = (
            f", oldest waiting since {time.strftime('%H:%M:%S', time.localtime(t['oldest']))}" if t["oldest"] else ""
        )
        print(f"{t['label']}: {t['pending']} waiting, {t['dead']} dead letter(s){oldest}")
        if t["last_error"] and t["pending"]:
            print(f"  last error: {one_line(t['last_error'], 100)}")
    for d in dead:
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(d.at))
        print(
            f"  dead: {when} {d.event:<16} {d.account or '-':<12} id {d.uid}  after {d.attempts} attempt(s): "
            f"{one_line(d.last_error or '', 80)}"
        )
    if any(t["dead"] for t in summary.values()) and not args.dead:
        print("Show them: python tui.py webhooks --dead; try them again: python tui.py webhooks --retry-dead")
    return 0


def add_parsers(add: AddCommand) -> None:
    p = add("serve", cmd_serve, "run the HTTP API (token-protected; docs/api.md)")
    p.add_argument("--host", metavar="ADDR", help="address to listen on (default: [api] host, 127.0.0.1)")
    p.add_argument("--port", type=port_arg, metavar="PORT", help="port (default: [api] port, 8080)")
    p.add_argument(
        "--allow-remote",
        action="store_true",
        help="allow an address other machines reach (put TLS in front: a reverse proxy)",
    )
    p = add("webhooks", cmd_webhooks, "where events go (webhooks, alert command): waiting, dead letters")
    p.add_argument("--dead", action="store_true", help="list the dead letters (events given up)")
    p.add_argument("--limit", type=int, default=50, metavar="N", help="at most N dead letters (default 50)")
    p.add_argument("--retry-dead", action="store_true", help="try every dead letter again")
    p.add_argument("--json", action="store_true")
