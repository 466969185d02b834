"""A supervised program that is not an account's worker: `python tui.py serve` (the HTTP
API) when `[api] enabled = true`. Started, restarted with backoff, made `fatal` and
stopped like a worker (`Program`), but it writes no heartbeat row, sends nothing and does
not pause: it is running while its process lives. Its signal files are under
`run/services/NAME/`, apart from the accounts'."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from store.records import WorkerRow

from .program import Program
from .states import PAUSED, RUNNING, STARTING

if TYPE_CHECKING:
    from .core import Supervisor

SERVICES_DIR = "services"
API = "api"
UP_AFTER = 2.0  # seconds alive before a service counts as running (its start is quick)


def serve_cmd(ctx: Any, project_dir: Any) -> list[str]:
    """`python tui.py serve` with the supervisor's own run context (host and port from its config)."""
    return [sys.executable, str(project_dir / "tui.py"), "serve", *ctx.argv()]


class ServiceProgram(Program):
    """A supervised service that is not an account's worker (`serve`): same restarts and
    backoff, its own signal files under run/services/NAME."""

    def __init__(self, owner: Supervisor, name: str, cmd: Sequence[str], *, where: Any = None) -> None:
        super().__init__(owner, name, cmd)
        self.where = where  # what it was started for (host, port): another one means a restart
        self.own_dir = owner.run_dir / SERVICES_DIR / name
        self.prefix = f"[{name}] "

    @property
    def paused(self) -> bool:
        return False

    def watch(self, mono: float, rows: list[WorkerRow] | None) -> None:
        assert self.proc is not None and self.tree is not None
        age = mono - self.worker_started_mono
        if rows is not None:
            self.tree.refresh()
            self.stats = self.tree.stats()
        new = STARTING if age < min(self.sup.start_seconds, UP_AFTER) else RUNNING
        if new != self.state and not (self.state == PAUSED and new == RUNNING):
            self.move(new)
        if not self.stable_reached and age >= self.sup.stable_seconds:
            self.stable_reached = True
            self.reset_counters()

    def fatal_event(self, reason: str) -> None:
        self.owner.log_fatal(None, f"{self.account}: {reason}", program=self.account)

    def snapshot(self, mono: float) -> dict[str, Any]:
        snap = super().snapshot(mono)
        cfg = self.owner.cfg.api
        snap.update(program=self.account, host=cfg.host, port=cfg.port, url=f"http://{_host(cfg.host)}:{cfg.port}")
        for key in ("worker_id", "heartbeat_at", "paused", "browser_processes"):
            snap.pop(key, None)
        return snap


def _host(host: str) -> str:
    return f"[{host}]" if ":" in host else host
