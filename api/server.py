"""Running the API: `python tui.py serve` (alone, or as the supervisor's program).

Loopback by default; another address needs `--allow-remote` (or `[api] allow_remote`)
and gets a warning that TLS belongs to a reverse proxy. The socket is bound here first,
so a port in use is one clear line (exit 2), not a traceback.
"""

from __future__ import annotations

import logging
import os
import socket
import sys
from pathlib import Path
from typing import Any

from common import applog
from common.errors import UserError

log = logging.getLogger("api")


class ServeError(UserError):
    """The API cannot start (address, port, token file): one line, exit 2."""


def _loopback(host: str) -> bool:
    import settings

    return bool(settings.is_loopback(host))


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ServeError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    # Answers leave at once (headers and body are two writes: with Nagle on, the second
    # would wait for a delayed ACK, 40 ms on a keep-alive connection). Inherited by accepted sockets.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def serve(ctx: Any, *, host: str | None = None, port: int | None = None, allow_remote: bool = False) -> int:
    """Serve until SIGTERM or Ctrl-C; 0 after a stop. Raises ServeError (a user error)."""
    import uvicorn

    from . import token as tokens
    from .app import create_app

    cfg = ctx.cfg
    host = host or cfg.api.host
    port = cfg.api.port if port is None else port
    if not 0 < port < 65536:
        raise ServeError(f"--port: must be between 1 and 65535, not {port}")
    if not _loopback(host) and not (allow_remote or cfg.api.allow_remote):
        raise ServeError(
            f"--host {host}: other machines could reach the API there; add --allow-remote to mean it "
            "(and put TLS in front: a reverse proxy, docs/api.md)"
        )
    detached = bool(os.environ.get("WA_SENDER_SUPERVISOR_PID"))
    applog.setup("api", Path(cfg.paths.log_dir), stream=sys.stderr, stream_format="api: %(message)s")
    token, created = tokens.load_or_create(cfg.api.token_file)
    if created:
        log.warning(
            "a new API token was written to %s (owner-only): give it to the systems that call the API",
            cfg.api.token_file,
        )
    if not _loopback(host):
        log.warning(
            "listening on %s: other machines can reach the API; it speaks plain HTTP, so put TLS in front of it "
            "(a Caddy or nginx reverse proxy, docs/api.md)",
            host,
        )
    sock = bind(host, port)
    app = create_app(cfg, token=token)
    config = uvicorn.Config(
        app,
        log_level="warning",
        access_log=False,
        server_header=False,
        date_header=True,
        lifespan="off",
        timeout_graceful_shutdown=5,
        log_config=None,
    )
    server = uvicorn.Server(config)
    shown = f"[{host}]" if ":" in host else host
    log.info(
        "API on http://%s:%d (docs: /docs, OpenAPI: /openapi.json)%s",
        shown,
        port,
        " under the supervisor" if detached else "",
    )
    server.run(sockets=[sock])
    log.info("API stopped")
    return 0
