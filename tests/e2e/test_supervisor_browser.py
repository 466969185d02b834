"""The supervisor with the real worker and headless Chromium against the simulator.

After every way of stopping (stop file, SIGINT, SIGTERM, SIGKILL of the worker,
browser recycling) no chromium/chromedriver process of the test is left.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest

from simulator import Simulator
from tests.support.browsers import browsers_of_run, name_of
from tests.support.config import SUPERVISED, write_config
from tests.support.processes import Supervised
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def sim() -> Iterator[Simulator]:
    """Acks at once: nothing to wait for between two messages."""
    s = Simulator(port=0, boot_time=0.2, ack_delay=0.0, dblcheck_delay=0.0).start()
    s.login()
    yield s
    s.stop()


def assert_no_browser_left(tmp: Path) -> None:
    wait_until(
        lambda: not browsers_of_run(tmp),
        5,
        "no browser process of the test left",
        interval=0.1,
        seen=lambda: [(p.pid, name_of(p)) for p in browsers_of_run(tmp)],
    )


def at_least_two(procs: list[psutil.Process]) -> list[psutil.Process] | None:
    return procs if len(procs) >= 2 else None


def running_with_browser(st: dict[str, Any], not_pid: int | None = None) -> bool:
    return st.get("state") == "running" and st.get("browser_processes", 0) >= 2 and st.get("worker_pid") != not_pid


def test_no_browser_left_after_any_way_of_stopping(sim: Simulator, tmp_path: Path) -> None:
    cfg_path = write_config(tmp_path, sim, preset=SUPERVISED, supervisor__stop_timeout=8.0)
    out = tmp_path / "supervisor.out"
    # 1. SIGKILL of the worker: its browser is killed, a new worker starts
    with Supervised(cfg_path, out) as sup:
        st = sup.wait(running_with_browser, 60, "a worker with its browser")
        # Chromium starts its processes one after another: wait until we see them too.
        old = wait_until(lambda: at_least_two(browsers_of_run(tmp_path)), 30, "the browser's processes")
        assert len(old) >= 2 and st["memory_mb"] > 50
        psutil.Process(st["worker_pid"]).kill()
        st2 = sup.wait(lambda s: running_with_browser(s, not_pid=st["worker_pid"]), 60, "a new worker")
        assert st2["last_exit"] == "SIGKILL" and st2["restarts"] == 1
        assert [p.pid for p in old if p.is_running() and p.status() != psutil.STATUS_ZOMBIE] == []
        # 2. the stop file
        t0 = time.monotonic()
        (tmp_path / "run" / "stop").touch()
        assert sup.wait_exit(30) == 0
        print(f"\nstop file: supervisor and worker gone in {time.monotonic() - t0:.1f} s")
    assert_no_browser_left(tmp_path)
    assert not (tmp_path / "run" / "stop").exists()
    # 3. SIGINT (Ctrl-C) and 4. SIGTERM
    for sig in (signal.SIGINT, signal.SIGTERM):
        with Supervised(cfg_path, out) as sup:
            sup.wait(running_with_browser, 60, "a worker with its browser")
            assert sup.stop(30, sig=sig) == 0
        assert_no_browser_left(tmp_path)
        assert sup.state()["state"] == "stopped"


def test_browser_recycling_with_the_real_worker(sim: Simulator, tmp_path: Path) -> None:
    # Any real Chromium tree is above 50 MB: the supervisor asks for a restart, the worker
    # leaves between messages (exit 75) and is started again at once.
    cfg_path = write_config(tmp_path, sim, preset=SUPERVISED, supervisor__memory_limit_mb=50)
    with Supervised(cfg_path, tmp_path / "supervisor.out") as sup:
        st = sup.wait(lambda s: s.get("recycles", 0) >= 1, 90, "a recycle")
        assert st["last_exit"] == 75 and st["recent_restarts"] == 0
        assert sup.stop() == 0
    assert_no_browser_left(tmp_path)
    assert "asking for a restart" in sup.log()
