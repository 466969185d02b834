"""Three hosts, one PostgreSQL database: three real supervisors on this machine, each
with its own run directory, profile and account, and its own host name (WA_SENDER_HOST).
A job is sent by all three while workers are SIGKILLed, and one whole host vanishes
(supervisor, worker and browser killed at once) with a message clicked but not yet
confirmed: nobody else touches that message; the host comes back, its account verifies
it. 0 lost, 0 sent twice (the simulator's ledger)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

import settings
from common import runfiles
from simulator import Simulator
from store import Store
from tests.test_accounts import (
    Run,
    assert_each_sent_once_by_its_account,
    in_doubt,
    log_in,
    sigkill_worker,
    with_accounts,
)
from tests.worker_helpers import ROOT, no_leftover_browsers, wait_until, write_config  # noqa: F401

HOSTS = {"hostA": ("north", "+15550100011"), "hostB": ("south", "+15550100022"), "hostC": ("east", "+15550100033")}
NUMBERS = dict(HOSTS.values())


class Host(Run):
    """`python -m supervisor` as host NAME: its own folder, one account, the shared database."""

    def __init__(self, tmp: Path, sim: Simulator, name: str, db: str) -> None:
        account = HOSTS[name][0]
        self.tmp = tmp / name
        self.tmp.mkdir()
        path = write_config(
            self.tmp,
            sim,
            paths__database=db,
            sending__daily_cap=0,
            sending__delay_min=0.1,
            sending__delay_max=0.4,
            supervisor__start_seconds=1.0,
            supervisor__backoff_initial=0.2,
            supervisor__backoff_max=1.0,
            supervisor__max_restarts=20,
            supervisor__stop_timeout=5.0,
        )
        self.cfg_path = with_accounts(path, self.tmp, {account: {}})
        self.cfg = settings.load(self.cfg_path)
        self.store = Store(db)
        self.env = {**os.environ, runfiles.HOST_VAR: name}
        self.start()

    def start(self) -> None:
        self.out = open(self.tmp / "supervisor.out", "ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "supervisor", "--config", str(self.cfg_path)],
            cwd=ROOT,
            stdout=self.out,
            stderr=subprocess.STDOUT,
            env=self.env,
        )

    def vanish(self) -> None:
        """The host is gone at once: every process of it SIGKILLed, nothing said to anyone."""
        top = psutil.Process(self.proc.pid)
        procs = [top, *top.children(recursive=True)]
        for p in procs:
            try:
                p.kill()
            except psutil.NoSuchProcess:
                pass
        psutil.wait_procs(procs, timeout=10)
        self.proc.wait(10)
        self.out.close()


@pytest.mark.browser
def test_three_hosts_one_postgresql_kills_and_a_vanished_host_lose_nothing_and_send_nothing_twice(
    tmp_path: Path, pg_url: str, no_leftover_browsers: None
) -> None:
    sim = Simulator(port=0, boot_time=0.2, ack_delay=0.8, dblcheck_delay=0.2).start()
    hosts = {name: Host(tmp_path, sim, name, pg_url) for name in HOSTS}
    store = Store(pg_url)
    try:
        log_in(sim, store, NUMBERS, timeout=120)
        assert {r["host"] for r in store.workers()} == set(HOSTS)
        job = store.create_job(
            "hosts", "Hi", [{"phone": f"+1202558{i:04d}", "text": f"hosts {i} 👋"} for i in range(90)]
        )
        store.refresh_waiting()
        sent = lambda: store.counts(job)["sent"]  # noqa: E731
        kills = 0
        for name in ("hostA", "hostB", "hostC", "hostA"):
            wait_until(lambda: sent() >= 6 * (kills + 1), 120, "progress")
            sigkill_worker(hosts[name], HOSTS[name][0])
            kills += 1

        # hostC vanishes while east has clicked a message the server has but not confirmed.
        doubt = wait_until(
            lambda: in_doubt(sim, store, "east", NUMBERS["east"]), 120, "east with a clicked message in doubt"
        )
        hosts["hostC"].vanish()
        at_vanish = sent()
        for name in ("hostB", "hostA"):  # the others go on, and lose workers too
            wait_until(lambda: sent() >= at_vanish + 6 * (kills - 3), 120, "progress without hostC")
            sigkill_worker(hosts[name], HOSTS[name][0])
            kills += 1
        wait_until(lambda: sent() >= at_vanish + 20, 120, "hostA and hostB go on")
        row = store.message(doubt["id"])
        assert row["status"] in ("sending", "unknown") and row["account"] == "east"
        assert [m["account"] for m in sim.ledger()["messages"] if m["phone"] == doubt["phone"]] == [NUMBERS["east"]]
        # hostC comes back: its account finds its own message in its chat.
        hosts["hostC"].start()
        wait_until(lambda: store.message(doubt["id"])["status"] == "sent", 120, "east verified its message")
        assert store.message(doubt["id"])["last_error"] == "verified in the chat of account east"
        wait_until(lambda: store.get_job(job)["status"] == "completed", 240, "the job completes")
    finally:
        for h in hosts.values():
            h.stop()
        sim.stop()
    assert_each_sent_once_by_its_account(sim, store, job, 90, NUMBERS)
    assert kills == 6
    store.close()
