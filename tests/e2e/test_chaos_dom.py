"""Chaos on each DOM generation with the shipped config: 60 messages, texts and images with
captions in turn, while the worker
(`python -m worker`, its whole process group with the browser) is SIGKILLed 10 times at
random moments and started again at once. At the end the simulator's ledger holds each
message exactly once with its exact text (and attachment), numbers not on WhatsApp end
`invalid`, nothing waits for a person. The kill schedule comes from the test's seed
(tests/support/seeds.py; a failure names it, CHAOS_SEED=N replays it)."""

from __future__ import annotations

import hashlib
import os
import random
import signal
import time
from pathlib import Path

import pytest

from simulator import Simulator
from simulator.server import DOMS
from store import Store
from tests.support.config import write_config
from tests.support.exactly_once import assert_exactly_once
from tests.support.processes import end_worker, spawn_worker
from tests.support.waiting import wait_until

N = 60
KILLS = 10
INVALID = {7, 29, 48}  # message indexes whose numbers are not on WhatsApp

# Under pytest-xdist each generation's run has a process of its own (a group per
# generation; the 200-message chaos and the accounts and hosts chaos have theirs).
GENERATIONS = [pytest.param(dom, marks=pytest.mark.xdist_group(f"chaos-dom-{dom}")) for dom in DOMS]


def with_image(i: int) -> bool:
    """Every other message is an image with its text as caption (both kinds meet the kills)."""
    return i % 2 == 1


def text_for(i: int) -> str:
    """Emoji, WhatsApp formatting and a link in every text; every fifth one long enough to
    be cut behind "Read more" on the 2026 page."""
    text = f"Olá cliente {i} 👋🏽 *oferta {i}* _só hoje_ ~ontem~ ```CUPOM{i}``` https://example.com/p/{i}?r=1"
    if i % 5 == 0:
        text += "\n" + " ".join(f"detalhe{j}" for j in range(150)) + " 🎉"
    return text


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.timeout(240)
@pytest.mark.parametrize("dom", GENERATIONS)
def test_60_messages_exactly_once_through_10_sigkills(tmp_path: Path, dom: str, chaos_seed: int) -> None:
    rng = random.Random(chaos_seed)
    print(f"chaos dom {dom}: seed {chaos_seed}")
    sim = Simulator(port=0, boot_time=0.2, ack_delay=0.05, dblcheck_delay=0.1, dom=dom, seed=chaos_seed).start()
    sim.login()
    phones = [f"+1303555{i:04d}" for i in range(N)]
    sim.configure(invalid_numbers=[phones[i] for i in INVALID])
    cfg_path = write_config(
        tmp_path,
        sim,
        browser__ack_timeout=10,
        browser__chat_timeout=10,
        sending__max_attempts=100,
        sending__attention_after=100,
    )
    img = tmp_path / "oferta.png"
    img.write_bytes(b"\x89PNG\r\n\x1a\n" + rng.randbytes(2000))
    store = Store(tmp_path / "db.sqlite")
    job = store.create_job(
        "chaos",
        "t",
        [
            {"phone": p, "text": text_for(i), **({"attachment": str(img)} if with_image(i) else {})}
            for i, p in enumerate(phones)
        ],
    )
    points = sorted(rng.sample(range(2, N - 6), KILLS))
    kills: list[tuple[int, float]] = []
    errors = open(tmp_path / "worker.err", "wb")  # noqa: SIM115 (the workers' stderr, across restarts)
    proc = spawn_worker(cfg_path, errors)
    t0 = time.monotonic()

    def kill_when_due() -> bool:
        """One step of the schedule; True once every kill is done and the job completed."""
        nonlocal proc
        done = len(sim.ledger()["messages"]) + store.counts(job)["invalid"]
        if points and done >= points[0]:
            points.pop(0)
            jitter = rng.uniform(0.0, 0.6)
            time.sleep(jitter)
            os.killpg(proc.pid, signal.SIGKILL)  # the worker, chromedriver and Chromium
            proc.wait(10)
            kills.append((done, jitter))
            proc = spawn_worker(cfg_path, errors)
        if not points and store.get_job(job)["status"] == "completed":
            return True
        assert proc.poll() is None or proc.returncode == 0, (tmp_path / "worker.err").read_text()
        return False

    try:
        wait_until(kill_when_due, 200, "every kill done and the job completed", seen=lambda: (kills, points))
        elapsed = time.monotonic() - t0
    finally:
        end_worker(proc)
        errors.close()
        ledger = sim.ledger()["messages"]
        sim.stop()
    wanted = [(p, text_for(i)) for i, p in enumerate(phones) if i not in INVALID]
    tally = assert_exactly_once(ledger, wanted, key="phone+text", note=f"seed {chaos_seed}, kills {kills}")
    job_counts = store.counts(job)
    rows = list(store.iter_messages(job))
    verified = sum(1 for m in rows if "verified" in (m["last_error"] or ""))
    requeued = sum(1 for m in rows if m["requeues"])
    print(
        f"chaos dom {dom}: {len(kills)} SIGKILLs at {[k for k, _ in kills]}, {len(ledger)} in the ledger, "
        f"{tally.summary()}, {verified} found by verification, {requeued} proven absent "
        f"and re-sent, elapsed {elapsed:.1f} s, store { ({k: v for k, v in job_counts.items() if v}) }"
    )
    assert len(kills) == KILLS
    assert job_counts["sent"] == N - len(INVALID) and job_counts["invalid"] == len(INVALID)
    assert job_counts["unknown"] == 0 and job_counts["failed"] == 0
    assert store.get_job(job)["status"] == "completed"
    digest = hashlib.sha256(img.read_bytes()).hexdigest()
    images = {p for i, p in enumerate(phones) if with_image(i) and i not in INVALID}
    assert {m["phone"] for m in ledger if m["attachment"]} == images
    assert all(
        m["attachment"]["sha256"] == digest and m["attachment"]["kind"] == "media" for m in ledger if m["attachment"]
    )
    store.close()
