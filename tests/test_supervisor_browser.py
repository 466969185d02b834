"""The supervisor with the real worker and headless Chromium against the simulator.

After every way of stopping (stop file, SIGINT, SIGTERM, SIGKILL of the worker,
browser recycling) no chromium/chromedriver process of the test is left.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil
import pytest

from common.runfiles import RUN_DIR_VAR
from simulator import Simulator
from supervisor import pidfile
from supervisor.proctree import tagged

from .test_chaos import write_config

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def sim():
    s = Simulator(port=0, boot_time=0.2, ack_delay=0.0, dblcheck_delay=0.0).start()
    s.login()
    yield s
    s.stop()


def browsers_of_test(tmp: Path) -> list[psutil.Process]:
    """Chromium/chromedriver started for this test: carrying its run dir's tag or its profile path."""
    found = {p for p in tagged(RUN_DIR_VAR, str(tmp / "run")) if "chrom" in p.name()}
    for p in psutil.process_iter(["name", "cmdline"]):
        try:
            if (
                "chrom" in (p.info["name"] or "")
                and str(tmp) in " ".join(p.info["cmdline"] or [])
                and p.status() != psutil.STATUS_ZOMBIE
            ):
                found.add(p)
        except psutil.Error:
            pass
    return sorted(found, key=lambda p: p.pid)


def state(tmp: Path) -> dict:
    return pidfile.read_json(tmp / "run" / "supervisor.json") or {}


def wait(pred: Callable[[], Any], timeout: float, what: str, proc: subprocess.Popen | None = None) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = pred()
        if value:
            return value
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"supervisor exited ({proc.returncode}) while waiting for {what}")
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def start(tmp: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [PY, "tui.py", "worker", "--config", str(tmp / "config.toml")],
        cwd=ROOT,
        stdout=open(tmp / "supervisor.out", "ab"),
        stderr=subprocess.STDOUT,
    )


def assert_no_browser_left(tmp: Path) -> None:
    deadline = time.monotonic() + 5
    while browsers_of_test(tmp) and time.monotonic() < deadline:
        time.sleep(0.1)
    left = [(p.pid, p.name()) for p in browsers_of_test(tmp)]
    assert left == [], f"browser processes left behind: {left}"


def running_with_browser(tmp: Path, not_pid: int | None = None) -> dict | None:
    st = state(tmp)
    ok = st.get("state") == "running" and st.get("browser_processes", 0) >= 2 and st.get("worker_pid") != not_pid
    return st if ok else None


def test_no_browser_left_after_any_way_of_stopping(sim: Simulator, tmp_path: Path) -> None:
    write_config(tmp_path, sim.url, stop_timeout=8.0)
    # 1. SIGKILL of the worker: its browser is killed, a new worker starts
    sup = start(tmp_path)
    try:
        st = wait(lambda: running_with_browser(tmp_path), 60, "a worker with its browser", sup)
        old = list(browsers_of_test(tmp_path))
        assert len(old) >= 2 and st["memory_mb"] > 50
        psutil.Process(st["worker_pid"]).kill()
        st2 = wait(lambda: running_with_browser(tmp_path, not_pid=st["worker_pid"]), 60, "a new worker", sup)
        assert st2["last_exit"] == "SIGKILL" and st2["restarts"] == 1
        assert [p.pid for p in old if p.is_running() and p.status() != psutil.STATUS_ZOMBIE] == []
        # 2. the stop file
        t0 = time.monotonic()
        (tmp_path / "run" / "stop").touch()
        assert sup.wait(30) == 0
        print(f"\nstop file: supervisor and worker gone in {time.monotonic() - t0:.1f} s")
    finally:
        if sup.poll() is None:
            sup.kill()
    assert_no_browser_left(tmp_path)
    assert not (tmp_path / "run" / "stop").exists()
    # 3. SIGINT (Ctrl-C) and 4. SIGTERM
    for sig in (signal.SIGINT, signal.SIGTERM):
        sup = start(tmp_path)
        try:
            wait(lambda: running_with_browser(tmp_path), 60, "a worker with its browser", sup)
            sup.send_signal(sig)
            assert sup.wait(30) == 0
        finally:
            if sup.poll() is None:
                sup.kill()
        assert_no_browser_left(tmp_path)
        assert state(tmp_path)["state"] == "stopped"


def test_browser_recycling_with_the_real_worker(sim: Simulator, tmp_path: Path) -> None:
    # Any real Chromium tree is above 50 MB: the supervisor asks for a restart, the worker
    # leaves between messages (exit 75) and is started again at once.
    write_config(tmp_path, sim.url, memory_limit_mb=50)
    sup = start(tmp_path)
    try:
        st = wait(lambda: state(tmp_path).get("recycles", 0) >= 1 and state(tmp_path), 90, "a recycle", sup)
        assert st["last_exit"] == 75 and st["recent_restarts"] == 0
        sup.send_signal(signal.SIGTERM)
        assert sup.wait(30) == 0
    finally:
        if sup.poll() is None:
            sup.kill()
    assert_no_browser_left(tmp_path)
    assert "asking for a restart" in (tmp_path / "supervisor.out").read_text()
