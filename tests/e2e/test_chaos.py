"""Chaos: the supervised real worker against the simulator, killed again and again.

A 200-message job with every delay at 0, on the 2026 DOM (emoji drawn as images,
formatting, links). At 10 or more random moments the worker is SIGKILLed, at 3 more only
its browser. The supervisor restarts each time; at the end the simulator's ledger holds
each of the 200 messages exactly once. The figures are printed (run with -s to see
them). The kill schedule comes from the test's seed (tests/support/seeds.py; a failure
names it, CHAOS_SEED=N replays it).
"""

from __future__ import annotations

import json
import random
import time
from pathlib import Path

import psutil
import pytest

from simulator import Simulator
from store import Store
from tests.support.browsers import browser_main, leftovers
from tests.support.config import SUPERVISED, write_config
from tests.support.exactly_once import assert_exactly_once
from tests.support.processes import Supervised
from tests.support.waiting import wait_until

N = 200  # = the default daily cap: the job must complete when its last message reaches the cap
WORKER_KILLS = 10
BROWSER_KILLS = 3

# Under pytest-xdist the heavy chaos tests (this one, the accounts and the hosts chaos) run
# one after another in one process.
pytestmark = pytest.mark.xdist_group("chaos")


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.timeout(300)
def test_chaos_200_messages_exactly_once_through_kills(tmp_path: Path, chaos_seed: int) -> None:
    rng = random.Random(chaos_seed)
    sim = Simulator(port=0, boot_time=0.2, ack_delay=0.0, dblcheck_delay=0.0, seed=chaos_seed, dom="2026").start()
    sim.login()
    cfg_path = write_config(tmp_path, sim, preset=SUPERVISED)
    store = Store(tmp_path / "db.sqlite")
    phones = [f"+1202555{i:04d}" for i in range(N)]
    job = store.create_job(
        "chaos",
        "chaos {n}",
        [{"phone": p, "text": f"chaos *message* {i} 👋🏽 https://example.com/{i}"} for i, p in enumerate(phones)],
    )
    # Kill points by progress (messages in the ledger), at least 8 apart, plus a random jitter.
    kinds = ["worker"] * WORKER_KILLS + ["browser"] * BROWSER_KILLS
    rng.shuffle(kinds)
    points = sorted(rng.sample(range(3, 185 // 8), len(kinds)))
    plan = [(p * 8 + rng.randrange(8), kind, rng.uniform(0.0, 0.4)) for p, kind in zip(points, kinds)]
    done: list[tuple[str, int, int]] = []
    t0 = time.monotonic()
    try:
        with Supervised(cfg_path, tmp_path / "supervisor.out") as sup:

            def kill_when_due() -> bool:
                """One step of the schedule; True once every kill is done and the job completed."""
                assert sup.alive(), sup.log()[-3000:]
                if plan and len(sim.ledger()["messages"]) >= plan[0][0]:
                    st = sup.state()
                    if st.get("state") == "running" and st.get("worker_pid"):
                        at, kind, jitter = plan.pop(0)
                        time.sleep(jitter)
                        victim: psutil.Process | None = None
                        try:  # the published worker may have just exited (a previous kill, a restart)
                            victim = (
                                psutil.Process(st["worker_pid"]) if kind == "worker" else browser_main(st["worker_pid"])
                            )
                        except psutil.NoSuchProcess:
                            pass
                        if victim is not None:
                            try:
                                victim.kill()
                                done.append((kind, len(sim.ledger()["messages"]), victim.pid))
                            except psutil.NoSuchProcess:
                                plan.insert(0, (at, kind, 0.0))
                        else:
                            plan.insert(0, (at, kind, 0.0))  # no browser yet: try again in a moment
                return not plan and store.get_job(job)["status"] == "completed"

            wait_until(kill_when_due, 240, "every kill done and the job completed", seen=lambda: (done, plan))
            elapsed = time.monotonic() - t0
            final = sup.state()
            assert sup.stop() == 0
        log = sup.log()
    finally:
        sim_ledger = sim.ledger()["messages"]
        sim.stop()

    worker_kills = sum(1 for k, _, _ in done if k == "worker")
    browser_kills = sum(1 for k, _, _ in done if k == "browser")
    job_counts = store.counts(job)
    note = f"seed {chaos_seed}, kills {done}"
    tally = assert_exactly_once(sim_ledger, phones, note=note)
    print(
        f"chaos: {N} messages, {worker_kills} worker SIGKILLs + {browser_kills} browser SIGKILLs "
        f"(at ledger counts {[n for _, n, _ in done]}), supervisor restarts {final.get('restarts')}, "
        f"{tally.summary()}, elapsed {elapsed:.1f} s; store: {json.dumps({k: v for k, v in job_counts.items() if v})}"
    )
    assert worker_kills >= WORKER_KILLS and browser_kills >= BROWSER_KILLS, (done, log[-3000:])
    assert len(sim_ledger) == N
    assert job_counts["sent"] == N
    assert final.get("restarts", 0) >= WORKER_KILLS, final
    assert final.get("state") != "fatal", final
    wait_until(lambda: not leftovers(sup.run_dir), 5, "nothing of the tree left", seen=lambda: leftovers(sup.run_dir))
    assert sup.state()["state"] == "stopped"
    store.close()
