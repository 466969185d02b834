"""Chaos on each DOM generation with the shipped config: 60 messages while the worker
(`python -m worker`, its whole process group with the browser) is SIGKILLed 10 times at
random moments and started again at once. At the end the simulator's ledger holds each
message exactly once with its exact text (and attachment), numbers not on WhatsApp end
`invalid`, nothing waits for a person. Seed: CHAOS_SEED=N replays a kill schedule."""

from __future__ import annotations

import collections
import hashlib
import os
import random
import signal
import subprocess
import time
from pathlib import Path

import pytest

from simulator import Simulator
from store import Store
from tests.worker_helpers import DOMS, PY, ROOT, write_config

N = 60
KILLS = 10
INVALID = {7, 29, 48}  # message indexes whose numbers are not on WhatsApp


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
@pytest.mark.parametrize("attachment", [False, True], ids=["text", "image"])
@pytest.mark.parametrize("dom", DOMS)
def test_60_messages_exactly_once_through_10_sigkills(tmp_path: Path, dom: str, attachment: bool) -> None:
    seed = int(os.environ.get("CHAOS_SEED", random.randrange(1_000_000)))
    rng = random.Random(seed)
    print(f"\nchaos dom {dom} {'image' if attachment else 'text'}: seed {seed}")
    sim = Simulator(port=0, boot_time=0.2, ack_delay=0.05, dblcheck_delay=0.1, dom=dom, seed=seed).start()
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
    img.write_bytes(b"\x89PNG\r\n\x1a\n" + os.urandom(2000))
    store = Store(tmp_path / "db.sqlite")
    job = store.create_job(
        "chaos",
        "t",
        [
            {"phone": p, "text": text_for(i), **({"attachment": str(img)} if attachment else {})}
            for i, p in enumerate(phones)
        ],
    )
    points = sorted(rng.sample(range(2, N - 6), KILLS))
    kills: list[tuple[int, float]] = []
    errors = open(tmp_path / "worker.err", "wb")

    def spawn() -> subprocess.Popen:
        return subprocess.Popen(
            [PY, "-m", "worker", "--config", str(cfg_path)],
            cwd=ROOT,
            start_new_session=True,
            stdout=subprocess.DEVNULL,
            stderr=errors,
        )

    proc = spawn()
    t0 = time.monotonic()
    try:
        while time.monotonic() - t0 < 200:
            done = len(sim.ledger()["messages"]) + store.counts(job)["invalid"]
            if points and done >= points[0]:
                points.pop(0)
                jitter = rng.uniform(0.0, 0.6)
                time.sleep(jitter)
                os.killpg(proc.pid, signal.SIGKILL)  # the worker, chromedriver and Chromium
                proc.wait(10)
                kills.append((done, jitter))
                proc = spawn()
            if not points and store.get_job(job)["status"] == "completed":
                break
            assert proc.poll() is None or proc.returncode == 0, (tmp_path / "worker.err").read_text()
            time.sleep(0.05)
        elapsed = time.monotonic() - t0
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(10)
        errors.close()
        ledger = sim.ledger()["messages"]
        sim.stop()
    counts = collections.Counter((m["phone"], m["text"]) for m in ledger)
    wanted = {(p, text_for(i)) for i, p in enumerate(phones) if i not in INVALID}
    duplicated = sum(n - 1 for n in counts.values() if n > 1)
    lost = len(wanted - set(counts))
    job_counts = store.counts(job)
    rows = list(store.iter_messages(job))
    verified = sum(1 for m in rows if "verified" in (m["last_error"] or ""))
    requeued = sum(1 for m in rows if m["requeues"])
    print(
        f"chaos dom {dom}: {len(kills)} SIGKILLs at {[k for k, _ in kills]}, {len(ledger)} in the ledger, "
        f"lost {lost}, duplicated {duplicated}, {verified} found by verification, {requeued} proven absent "
        f"and re-sent, elapsed {elapsed:.1f} s, store { ({k: v for k, v in job_counts.items() if v}) }"
    )
    assert len(kills) == KILLS
    assert duplicated == 0 and lost == 0 and set(counts) == wanted
    assert job_counts["sent"] == N - len(INVALID) and job_counts["invalid"] == len(INVALID)
    assert job_counts["unknown"] == 0 and job_counts["failed"] == 0
    assert store.get_job(job)["status"] == "completed"
    if attachment:
        digest = hashlib.sha256(img.read_bytes()).hexdigest()
        assert all(
            m["attachment"] and m["attachment"]["sha256"] == digest and m["attachment"]["kind"] == "media"
            for m in ledger
        )
    store.close()
