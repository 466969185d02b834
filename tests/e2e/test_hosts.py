"""Three hosts, one PostgreSQL database: three real supervisors on this machine, each
with its own run directory, profile and account, and its own host name (WA_SENDER_HOST).
A job is sent by all three while workers are SIGKILLed, and one whole host vanishes
(supervisor, worker and browser killed at once) with a message clicked but not yet
confirmed: nobody else touches that message; the host comes back, its account verifies
it. 0 lost, 0 sent twice (the simulator's ledger)."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from common import runfiles
from simulator import Simulator
from store import Store
from tests.support.accounts import in_doubt, log_in, sigkill_worker
from tests.support.config import ACCOUNTS_SUPERVISED, write_config
from tests.support.exactly_once import assert_each_sent_once_by_its_account
from tests.support.processes import Supervised
from tests.support.waiting import wait_until

HOSTS = {"hostA": ("north", "+15550100011"), "hostB": ("south", "+15550100022"), "hostC": ("east", "+15550100033")}
NUMBERS = dict(HOSTS.values())


def host(tmp: Path, sim: Simulator, name: str, db: str) -> Supervised:
    """`python -m supervisor` as host NAME: its own folder, one account, the shared database."""
    account = HOSTS[name][0]
    folder = tmp / name
    folder.mkdir()
    cfg_path = write_config(folder, sim, accounts={account: {}}, paths__database=db, **ACCOUNTS_SUPERVISED)
    return Supervised(cfg_path, folder / "supervisor.out", entry="module", env={runfiles.HOST_VAR: name})


@pytest.mark.browser
@pytest.mark.xdist_group("chaos-fleet")
def test_three_hosts_one_postgresql_kills_and_a_vanished_host_lose_nothing_and_send_nothing_twice(
    tmp_path: Path, pg_url: str, no_leftover_browsers: None, chaos_seed: int
) -> None:
    rng = random.Random(chaos_seed)
    sim = Simulator(port=0, boot_time=0.2, ack_delay=0.8, dblcheck_delay=0.2, seed=chaos_seed).start()
    hosts = {name: host(tmp_path, sim, name, pg_url) for name in HOSTS}
    store = Store(pg_url)
    kills: list[tuple[str, int]] = []
    try:
        log_in(sim, store, NUMBERS, timeout=120)
        assert {r["host"] for r in store.workers()} == set(HOSTS)
        job = store.create_job(
            "hosts", "Hi", [{"phone": f"+1202558{i:04d}", "text": f"hosts {i} 👋"} for i in range(90)]
        )
        store.refresh_waiting()
        sent = lambda: store.counts(job)["sent"]  # noqa: E731

        def kill(name: str) -> None:
            """SIGKILL the worker of host NAME, a random moment after it runs."""
            sigkill_worker(hosts[name], HOSTS[name][0], jitter=rng.uniform(0.0, 0.5))
            kills.append((name, sent()))

        for name in ("hostA", "hostB", "hostC", "hostA"):
            wait_until(lambda: sent() >= 6 * (len(kills) + 1), 120, "progress")
            kill(name)

        # hostC vanishes while east has clicked a message the server has but not confirmed.
        doubt = wait_until(
            lambda: in_doubt(sim, store, "east", NUMBERS["east"]), 120, "east with a clicked message in doubt"
        )
        hosts["hostC"].vanish()
        at_vanish = sent()
        for name in ("hostB", "hostA"):  # the others go on, and lose workers too
            wait_until(lambda: sent() >= at_vanish + 6 * (len(kills) - 3), 120, "progress without hostC")
            kill(name)
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
            h.close()
        sim.stop()
    rows = list(store.iter_messages(job))
    assert len(rows) == 90
    assert_each_sent_once_by_its_account(
        sim.ledger()["messages"], rows, NUMBERS, note=f"seed {chaos_seed}, kills {kills}"
    )
    assert len(kills) == 6
    store.close()
