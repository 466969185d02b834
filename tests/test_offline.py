"""Network loss is a state, not a crash: the worker says `offline` in one line, uses no
attempt and no restart, tries again with a capped backoff for as long as it takes, and
goes on by itself when the network is back (the simulator's offline fault: page loads
and the page's own calls get no answer, the app shows "Computer not connected", sends
wait on the clock)."""

from __future__ import annotations

import collections
import json
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from simulator import Simulator
from store import Store
from tests.test_chaos import write_config as supervised_config
from tests.worker_helpers import PY, ROOT, wait_until, worker_row, write_config


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.browser
@pytest.mark.timeout(120)
def test_whatsapp_unreachable_at_start_is_a_state_not_a_crash(tmp_path: Path) -> None:
    port = free_port()  # nothing listens there: connection refused, as for a host that is down

    class Later:
        url = f"http://127.0.0.1:{port}"

    cfg_path = write_config(tmp_path, Later)
    store = Store(tmp_path / "db.sqlite")
    job = store.create_job("j", "t", [{"phone": f"+1202555{i:04d}", "text": f"hello {i}"} for i in range(3)])
    err = open(tmp_path / "worker.err", "w+")
    proc = subprocess.Popen(
        [PY, "-m", "worker", "--config", str(cfg_path)], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=err, text=True
    )
    sim = None
    try:
        wait_until(lambda: worker_row(store)["state"] == "offline", 30, "offline")
        time.sleep(4.0)  # a few retries later: still there, still offline, nothing used up
        assert proc.poll() is None
        assert worker_row(store)["state"] == "offline"
        assert store.counts(job)["pending"] == 3 and all(m["attempts"] == 0 for m in store.iter_messages(job))
        err.seek(0)
        lines = [ln for ln in err.read().splitlines() if ln.strip()]
        assert len(lines) == 1 and "offline" in lines[0] and "ERR_CONNECTION_REFUSED" in lines[0], lines
        # The network comes back: the app answers on that address now.
        sim = Simulator(port=port, boot_time=0.2, ack_delay=0.05, dblcheck_delay=0.1, dom="2026").start()
        sim.login()
        wait_until(lambda: store.get_job(job)["status"] == "completed", 80, "completed when back online")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        if sim is not None:
            assert len(sim.ledger()["messages"]) == 3
            sim.stop()
    err.seek(0)
    assert "Traceback" not in err.read()
    kinds = [e["kind"] for e in store.events(limit=100)]
    assert "offline" in kinds and "online" in kinds
    store.close()


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.timeout(240)
def test_the_network_away_for_60_s_in_the_middle_of_a_job(tmp_path: Path) -> None:
    sim = Simulator(port=0, boot_time=0.2, ack_delay=0.05, dblcheck_delay=0.1, dom="2026").start()
    sim.login()
    cfg_path = supervised_config(tmp_path, sim.url, max_restarts=1)
    text = (
        cfg_path.read_text().replace("delay_min = 0.0", "delay_min = 0.3").replace("delay_max = 0.0", "delay_max = 0.3")
    )
    cfg_path.write_text(text.replace("max_attempts = 100", "max_attempts = 3"))
    store = Store(tmp_path / "db.sqlite")
    n = 30
    job = store.create_job("j", "t", [{"phone": f"+1303556{i:04d}", "text": f"offer {i} 🎁"} for i in range(n)])
    sup = subprocess.Popen(
        [sys.executable, "tui.py", "worker", "--config", str(cfg_path)],
        cwd=ROOT,
        stdout=open(tmp_path / "supervisor.out", "wb"),
        stderr=subprocess.STDOUT,
    )
    seen_offline = False
    try:
        wait_until(lambda: store.counts(job)["sent"] >= 8, 60, "sending")
        sim.set_offline(True)
        t0 = time.monotonic()
        while time.monotonic() - t0 < 60:
            seen_offline = seen_offline or worker_row(store)["state"] == "offline"
            assert store.counts(job)["failed"] == 0 and store.counts(job)["retrying"] == 0
            time.sleep(0.5)
        assert seen_offline
        sent_while_offline = store.counts(job)["sent"]
        sim.set_offline(False)
        wait_until(lambda: store.get_job(job)["status"] == "completed", 90, "completed")
        state = json.loads((tmp_path / "run" / "supervisor.json").read_text())
        sup.send_signal(signal.SIGTERM)
        assert sup.wait(30) == 0
    finally:
        if sup.poll() is None:
            sup.kill()
            sup.wait(10)
        ledger = sim.ledger()
        sim.stop()
    counts = collections.Counter(m["phone"] for m in ledger["messages"])
    assert len(counts) == n and set(counts.values()) == {1}
    assert sent_while_offline < n
    job_counts = store.counts(job)
    assert job_counts["sent"] == n and job_counts["failed"] == 0
    assert state["restarts"] == 0 and state["state"] != "fatal"  # no restart budget used
    assert all(m["attempts"] <= 1 + m["requeues"] for m in store.iter_messages(job))
    assert ledger["offline_drops"] > 0
    store.close()
