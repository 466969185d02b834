"""Shared set-up of the dashboard tests (their fixtures, `env`, `empty_env` and `utc`, are
in tests/integration/conftest.py).

Everything is deterministic: a fixed clock, fixed timestamps in the database, TZ=UTC,
and a fake supervisor status, so screens and snapshots never depend on the machine.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import settings
from store import Store
from tests.support.waiting import await_until

T0 = 1_780_000_000.0  # 2026-05-28 20:26:40 UTC
NOW = T0 + 60
SUP_RUNNING = {
    "pid": 4242,
    "worker_pid": 4243,
    "state": "running",
    "restarts": 1,
    "uptime": 3723.0,
    "cpu_percent": 12.5,
    "memory_mb": 312.0,
    "browser_processes": 5,
    "alive": True,
}
SUP_STOPPED = {"pid": 4242, "state": "stopped", "alive": False}


CONFIG_TEXT = """\
# Test configuration of the dashboard (its own text: the project's config.toml may change).
[paths]
# SQLite database.
database = "data/t.db"
run_dir = "run"
log_dir = "logs"

[sending]
default_region = "US"
# Random delay between two messages, in seconds (uniform between min and max).
delay_min = 4.0
delay_max = 8.0
long_pause_every = 10
# Most messages sent per local calendar day across all jobs (0 = no cap).
daily_cap = 0
"""


def make_cfg(tmp: Path) -> settings.Config:
    text = CONFIG_TEXT
    path = tmp / "config.toml"
    path.write_text(text, encoding="utf-8")
    cfg = settings.load(path)
    return dataclasses.replace(
        cfg,
        paths=dataclasses.replace(cfg.paths, database=tmp / "data" / "t.db", run_dir=tmp / "run", log_dir=tmp / "logs"),
    )


def fill(store: Store, *, jobs: int = 3, per_job: int = 300, sent: int = 19) -> None:
    for j in range(jobs):
        store.create_job(
            f"campaign {j}",
            "Hi {name}",
            ({"phone": f"+1555{j}{i:06d}", "name": f"Person {i}", "text": f"Hi Person {i}"} for i in range(per_job)),
            now=T0 + j,
        )
    if jobs >= 1:
        store.set_job_status(1, "paused", now=T0 + 5)
    for i in range(sent):
        m = store.claim("w1", now=T0 + 10 + i)
        if m is None:
            break
        if i == 3:
            store.mark_failed_attempt(m["id"], "chat did not open", max_attempts=1, backoff=1, now=T0 + 11 + i)
        else:
            store.mark_sent(m["id"], now=T0 + 11 + i)
    store.register_worker("w1", 4243, now=T0)
    store.heartbeat("w1", state="sending", info={"login": "logged_in", "next_send_at": NOW + 40}, now=NOW - 1)


class Env:
    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.cfg = make_cfg(tmp)
        self.store = Store(self.cfg.paths.database)
        self.sup: dict[str, Any] | None = dict(SUP_RUNNING)
        self.demo_logins = 0

    def app(self, **kw: Any):
        from dashboard.app import WaSenderApp

        kw.setdefault("clock", lambda: NOW)
        kw.setdefault("poll_interval", 0.2)
        return WaSenderApp(self.cfg, store=self.store, supervisor_status=lambda: self.sup, **kw)


async def settle(pilot, app, refreshes: int = 1, timeout: float = 5.0) -> None:
    """Wait until the app applied `refreshes` more snapshots (and Textual idled)."""
    target = app.refreshes + refreshes
    await await_until(pilot, lambda: app.refreshes >= target, timeout, "the poller to deliver a snapshot")
    await pilot.pause()


def aio(fn):
    """Run an async test with asyncio.run (no pytest-asyncio in requirements)."""
    import asyncio
    import functools

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        asyncio.run(fn(*args, **kwargs))

    return wrapper


async def wizard_at_columns(pilot, app, csv: Path):
    """Open the new-job wizard, choose `csv` and wait for the columns step; returns the wizard."""
    await settle(pilot, app)
    await pilot.press("n")
    wiz = app.screen
    wiz.query_one("#file-path").value = str(csv)
    await pilot.press("enter")
    await await_until(pilot, lambda: wiz.step == "columns", what="the columns step")
    return wiz


@contextlib.contextmanager
def utc_zone() -> Iterator[None]:
    """TZ=UTC inside, the machine's own zone after: screens never depend on the machine."""
    old = os.environ.get("TZ")
    os.environ["TZ"] = "UTC"
    time.tzset()
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = old
        time.tzset()


CSV = """Name,Mobile,City
Asha,+1 415 555 0101,Pune
Ravi,(415) 555-0102,Goa
Bad,12345,Nowhere
Asha again,+1 415 555 0101,Pune
Opted,+1 415 555 0199,Delhi
"""


def write_csv(tmp: Path) -> Path:
    path = tmp / "contacts.csv"
    path.write_text(CSV, encoding="utf-8")
    return path


QR_DATA = "2@" + "A" * 88 + "," + "B" * 44 + "," + "C" * 44 + "," + "D" * 24
