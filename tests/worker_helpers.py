"""Helpers for the tests that run the real worker against the simulator."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil
import pytest
import tomlkit

from simulator import Simulator
from store import Store
from worker.runner import run_worker

ROOT = Path(__file__).resolve().parent.parent
SHIPPED_CONFIG = ROOT / "config.toml"
PY = str(ROOT / ".venv" / "bin" / "python") if (ROOT / ".venv" / "bin" / "python").exists() else sys.executable
DOMS = ("2024", "2026")


def write_config(tmp: Path, sim: Any, **overrides: Any) -> Path:
    """The shipped config.toml (comments, selectors and all) with everything under `tmp`,
    no delays and short timeouts; `section__key=value` overrides more. The selectors are
    never touched unless a test names them."""
    doc = tomlkit.parse(SHIPPED_CONFIG.read_text(encoding="utf-8"))
    values: dict[str, dict[str, Any]] = {
        "paths": {"database": str(tmp / "db.sqlite"), "run_dir": str(tmp / "run"), "log_dir": str(tmp / "logs")},
        "browser": {
            "profile_dir": str(tmp / "profile"),
            "whatsapp_url": sim.url,
            "headless": True,
            "navigation": "in_app",
            "ack_timeout": 5,
            "chat_timeout": 5,
            "boot_timeout": 20,
        },
        "sending": {"delay_min": 0.0, "delay_max": 0.0, "long_pause_every": 0, "retry_backoff": 0.0},
        "worker": {"heartbeat_interval": 1.0, "poll_interval": 0.2},
    }
    for key, value in overrides.items():
        section, name = key.split("__")
        values.setdefault(section, {})[name] = value
    for section, items in values.items():
        table = doc.setdefault(section, tomlkit.table())
        for k, v in items.items():
            table[k] = v
    path = tmp / "config.toml"
    path.write_text(tomlkit.dumps(doc), encoding="utf-8")
    return path


def wait_until(pred: Callable[[], Any], timeout: float = 15.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = pred()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.05)


class WorkerThread:
    """run_worker in a thread, with its own stop event."""

    def __init__(self, cfg: Any, **kwargs: Any) -> None:
        self.stop_event = threading.Event()
        self.code: int | None = None
        self.thread = threading.Thread(target=self._run, args=(cfg,), kwargs=kwargs, daemon=True)

    def _run(self, cfg: Any, **kwargs: Any) -> None:
        self.code = run_worker(cfg, stop_event=self.stop_event, **kwargs)

    def start(self) -> WorkerThread:
        self.thread.start()
        return self

    def stop(self, timeout: float = 20) -> int | None:
        self.stop_event.set()
        self.thread.join(timeout)
        assert not self.thread.is_alive(), "worker did not stop"
        return self.code


def status_of(store: Store, mid: int) -> str:
    row = store.message(mid)
    assert row is not None
    return row["status"]


def ids_of(store: Store, job: int) -> list[int]:
    return [m["id"] for m in store.iter_messages(job)]


def worker_row(store: Store) -> dict[str, Any]:
    return store.latest_worker() or {"state": None, "qr": None, "browser_pids": [], "info": {}}


def our_browser_procs(tmp: Path) -> dict[int, str]:
    """Chromium/chromedriver processes started by this test: descendants of pytest, or using a
    profile under the test's tmp_path, and their descendants."""
    roots: list[psutil.Process] = []
    try:
        roots += psutil.Process().children(recursive=True)
    except psutil.Error:
        pass
    for p in psutil.process_iter(["cmdline"]):
        try:
            if str(tmp) in " ".join(p.info["cmdline"] or []):
                roots.append(p)
                roots += p.children(recursive=True)
        except psutil.Error:
            pass
    out: dict[int, str] = {}
    for p in roots:
        try:
            if "chrom" in p.name().lower() and p.status() != psutil.STATUS_ZOMBIE:
                out[p.pid] = " ".join(p.cmdline())[:120]
        except psutil.Error:
            pass
    return out


@pytest.fixture
def no_leftover_browsers(tmp_path: Path) -> Any:
    before = set(our_browser_procs(tmp_path))
    yield
    deadline = time.monotonic() + 8
    left: dict[int, str] = {}
    while time.monotonic() < deadline:
        left = {pid: c for pid, c in our_browser_procs(tmp_path).items() if pid not in before}
        if not left:
            return
        time.sleep(0.2)
    for pid in left:
        try:
            psutil.Process(pid).kill()
        except psutil.Error:
            pass
    pytest.fail(f"browser processes left behind: {left}")


@pytest.fixture
def sim() -> Any:
    """The simulator as WhatsApp Web is now (2026 DOM), in the browser's language, logged in."""
    s = Simulator(port=0, boot_time=0.2, ack_delay=0.1, dblcheck_delay=0.3, dom="2026")
    s.start()
    s.login()
    yield s
    s.stop()
