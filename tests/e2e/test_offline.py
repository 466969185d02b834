"""Network loss is a state, not a crash: the worker says `offline` in one line, uses no
attempt and no restart, tries again with a capped backoff for as long as it takes, and
goes on by itself when the network is back (the simulator's offline fault: page loads
and the page's own calls get no answer, the app shows "Computer not connected", sends
wait on the clock).

The outage in the middle of a job is short (10 s) but longer than every limit that could
turn it into a failure: the supervisor's `heartbeat_timeout` (3 s: a worker that stopped
writing its heartbeat while offline would be killed and restarted three times over) and
the ack timeout (4 s: a message clicked just before the outage waits on its clock; the
time offline must not count against it)."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from simulator import Simulator
from store import Store
from tests.support.config import SUPERVISED, write_config
from tests.support.exactly_once import assert_exactly_once
from tests.support.processes import Supervised, end_worker, spawn_worker
from tests.support.waiting import holds_for, wait_until
from tests.support.workers import worker_row

OUTAGE = 10.0  # seconds without network in the middle of a job
HEARTBEAT_TIMEOUT = 3.0  # the supervisor kills a worker whose heartbeat is older than this
ACK_TIMEOUT = 4.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.browser
@pytest.mark.timeout(120)
def test_whatsapp_unreachable_at_start_is_a_state_not_a_crash(tmp_path: Path) -> None:
    port = free_port()  # nothing listens there: connection refused, as for a host that is down
    cfg_path = write_config(tmp_path, f"http://127.0.0.1:{port}")
    store = Store(tmp_path / "db.sqlite")
    job = store.create_job("j", "t", [{"phone": f"+1202555{i:04d}", "text": f"hello {i}"} for i in range(3)])
    err = open(tmp_path / "worker.err", "w+")  # noqa: SIM115 (read while the worker writes it)
    proc = spawn_worker(cfg_path, err)
    sim = None
    try:
        first = wait_until(lambda: worker_row(store)["state"] == "offline" and worker_row(store), 30, "offline")
        # After a new try (the page is loaded again after 2 s, then 4, ...: the next try is
        # set later): still there, still offline, nothing used up.
        wait_until(
            lambda: worker_row(store)["info"]["next_send_at"] > first["info"]["next_send_at"] + 1.0,
            15,
            "the page loaded again, and failed again",
        )
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
        assert proc.poll() is None
        end_worker(proc, 30)
        assert proc.returncode == 0
    finally:
        end_worker(proc)
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
def test_the_network_away_in_the_middle_of_a_job(tmp_path: Path) -> None:
    sim = Simulator(port=0, boot_time=0.2, ack_delay=0.05, dblcheck_delay=0.1, dom="2026").start()
    sim.login()
    cfg_path = write_config(
        tmp_path,
        sim,
        preset=SUPERVISED,
        sending__delay_min=0.3,
        sending__delay_max=0.3,
        sending__max_attempts=3,
        browser__ack_timeout=ACK_TIMEOUT,
        worker__heartbeat_interval=0.5,
        supervisor__heartbeat_timeout=HEARTBEAT_TIMEOUT,
        supervisor__start_seconds=5.0,  # the first heartbeat may take a busy machine a while
        supervisor__max_restarts=1,
    )
    store = Store(tmp_path / "db.sqlite")
    n = 30
    job = store.create_job("j", "t", [{"phone": f"+1303556{i:04d}", "text": f"offer {i} 🎁"} for i in range(n)])
    seen_offline = False

    def nothing_used_up() -> None:
        """What must hold all along the outage: no attempt failed, nothing waits for a retry."""
        nonlocal seen_offline
        seen_offline = seen_offline or worker_row(store)["state"] == "offline"
        counts = store.counts(job)
        assert counts["failed"] == 0 and counts["retrying"] == 0, counts

    try:
        with Supervised(cfg_path, tmp_path / "supervisor.out") as sup:
            wait_until(lambda: store.counts(job)["sent"] >= 8, 60, "sending")
            sim.set_offline(True)
            holds_for(OUTAGE, nothing_used_up, interval=0.5)
            assert seen_offline
            sent_while_offline = store.counts(job)["sent"]
            sim.set_offline(False)
            wait_until(lambda: store.get_job(job)["status"] == "completed", 90, "completed")
            state = sup.state()
            assert sup.stop() == 0
    finally:
        ledger = sim.ledger()
        sim.stop()
    assert_exactly_once(ledger["messages"], [f"+1303556{i:04d}" for i in range(n)])
    assert sent_while_offline < n
    job_counts = store.counts(job)
    assert job_counts["sent"] == n and job_counts["failed"] == 0
    assert state["restarts"] == 0 and state["state"] != "fatal"  # no restart budget used
    assert all(m["attempts"] <= 1 + m["requeues"] for m in store.iter_messages(job))
    assert ledger["offline_drops"] > 0
    assert " hangs (" not in sup.log(), sup.log()[-3000:]  # the heartbeat watchdog never fired
    store.close()
