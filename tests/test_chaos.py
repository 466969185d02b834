"""Chaos: the supervised real worker against the simulator, killed again and again.

A 200-message job with every delay at 0, on the 2026 DOM (emoji drawn as images, formatting, links). At 10 or more random moments the worker is
SIGKILLed, at 3 more only its browser. The supervisor restarts each time; at the end
the simulator's ledger holds each of the 200 messages exactly once. The figures are
printed (run with -s to see them). Seed: CHAOS_SEED=N to replay a run.
"""

from __future__ import annotations

import json
import os
import random
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psutil
import pytest

from common.runfiles import RUN_DIR_VAR
from simulator import Simulator
from store import Store
from supervisor import pidfile
from supervisor.proctree import tagged

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
N = 200  # = the default daily cap: the job must complete when its last message reaches the cap
WORKER_KILLS = 10
BROWSER_KILLS = 3


def write_config(tmp: Path, url: str, **supervisor: Any) -> Path:
    sup = {
        "start_seconds": 1.0,
        "backoff_initial": 0.1,
        "backoff_max": 0.5,
        "max_restarts": 100,
        "restart_period": 600.0,
        "stable_seconds": 600.0,
        "stop_timeout": 5.0,
        "heartbeat_timeout": 30.0,
        "memory_limit_mb": 0,
    }
    sup.update(supervisor)
    text = (
        f"""
[paths]
database = "{tmp / "db.sqlite"}"
run_dir = "{tmp / "run"}"
log_dir = "{tmp / "logs"}"

[browser]
profile_dir = "{tmp / "profile"}"
whatsapp_url = "{url}"
headless = true
navigation = "in_app"
boot_timeout = 30
chat_timeout = 10
ack_timeout = 10

[sending]
delay_min = 0.0
delay_max = 0.0
long_pause_every = 0
retry_backoff = 0.0
max_attempts = 100

[worker]
heartbeat_interval = 1.0
poll_interval = 0.2

[supervisor]
"""
        + "\n".join(f"{k} = {v}" for k, v in sup.items())
        + "\n"
    )
    path = tmp / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def state(run_dir: Path) -> dict:
    return pidfile.read_json(run_dir / "supervisor.json") or {}


def browser_main(worker_pid: int) -> psutil.Process | None:
    """The Chromium browser process (not a helper: no --type=) under the worker."""
    try:
        for p in psutil.Process(worker_pid).children(recursive=True):
            if (
                "chrom" in p.name()
                and "driver" not in p.name()
                and not any(a.startswith("--type=") for a in p.cmdline())
            ):
                return p
    except psutil.Error:
        pass
    return None


def leftovers(run_dir: Path) -> list[tuple[int, str]]:
    return [(p.pid, p.name()) for p in tagged(RUN_DIR_VAR, str(run_dir))]


def digits(phone: str) -> str:
    return re.sub(r"\D", "", phone)


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.timeout(300)
def test_chaos_200_messages_exactly_once_through_kills(tmp_path: Path) -> None:
    seed = int(os.environ.get("CHAOS_SEED", random.randrange(1_000_000)))
    rng = random.Random(seed)
    print(f"\nchaos seed {seed} (CHAOS_SEED={seed} replays the kill schedule)")
    sim = Simulator(port=0, boot_time=0.2, ack_delay=0.0, dblcheck_delay=0.0, seed=seed, dom="2026").start()
    sim.login()
    cfg_path = write_config(tmp_path, sim.url)
    run_dir = tmp_path / "run"
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
    out = open(tmp_path / "supervisor.out", "wb")
    t0 = time.monotonic()
    sup = subprocess.Popen(
        [PY, "tui.py", "worker", "--config", str(cfg_path)], cwd=ROOT, stdout=out, stderr=subprocess.STDOUT
    )
    done: list[tuple[str, int, int]] = []
    try:
        deadline = t0 + 240
        sent_in_ledger = 0
        while time.monotonic() < deadline:
            assert sup.poll() is None, (tmp_path / "supervisor.out").read_text()
            sent_in_ledger = len(sim.ledger()["messages"])
            if plan and sent_in_ledger >= plan[0][0]:
                st = state(run_dir)
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
            job_row = store.get_job(job)
            if not plan and job_row["status"] == "completed":
                break
            time.sleep(0.05)
        elapsed = time.monotonic() - t0
        final = state(run_dir)
        sup.send_signal(signal.SIGTERM)
        assert sup.wait(30) == 0
    finally:
        if sup.poll() is None:
            sup.kill()
            sup.wait(10)
        out.close()
        sim_ledger = sim.ledger()["messages"]
        sim.stop()
    log = (tmp_path / "supervisor.out").read_text(errors="replace")

    counts: dict[str, int] = {}
    for m in sim_ledger:
        counts[digits(m["phone"])] = counts.get(digits(m["phone"]), 0) + 1
    wanted = {digits(p) for p in phones}
    lost = len(wanted - set(counts))
    duplicated = sum(n - 1 for n in counts.values() if n > 1)
    extra = len(set(counts) - wanted)
    worker_kills = sum(1 for k, _, _ in done if k == "worker")
    browser_kills = sum(1 for k, _, _ in done if k == "browser")
    job_counts = store.counts(job)
    print(
        f"chaos: {N} messages, {worker_kills} worker SIGKILLs + {browser_kills} browser SIGKILLs "
        f"(at ledger counts {[n for _, n, _ in done]}), supervisor restarts {final.get('restarts')}, "
        f"ledger {len(sim_ledger)} entries: {len(counts)} distinct, lost {lost}, duplicated {duplicated}, "
        f"elapsed {elapsed:.1f} s; store: {json.dumps({k: v for k, v in job_counts.items() if v})}"
    )
    assert worker_kills >= WORKER_KILLS and browser_kills >= BROWSER_KILLS, (done, log[-3000:])
    assert lost == 0 and duplicated == 0 and extra == 0
    assert len(sim_ledger) == N and len(counts) == N
    assert job_counts["sent"] == N
    assert final.get("restarts", 0) >= WORKER_KILLS, final
    assert final.get("state") != "fatal", final
    deadline = time.monotonic() + 5
    while leftovers(run_dir) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert leftovers(run_dir) == [], "processes left behind"
    assert state(run_dir)["state"] == "stopped"
    store.close()


def test_worker_crashing_at_start_goes_fatal_after_the_budget_not_a_tight_loop(tmp_path: Path) -> None:
    """Through `python tui.py worker`, with a worker that dies at once: fatal after max_restarts."""
    cfg_path = write_config(
        tmp_path, "http://127.0.0.1:9", max_restarts=4, backoff_initial=0.2, backoff_max=0.4, start_seconds=2.0
    )
    run_dir = tmp_path / "run"
    env = dict(os.environ, WA_SENDER_WORKER_CMD=json.dumps([PY, "-c", "import sys; sys.exit(1)"]))
    t0 = time.monotonic()
    sup = subprocess.Popen(
        [PY, "tui.py", "worker", "--config", str(cfg_path)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = t0 + 30
        while state(run_dir).get("state") != "fatal" and time.monotonic() < deadline:
            assert sup.poll() is None
            time.sleep(0.05)
        elapsed = time.monotonic() - t0
        st = state(run_dir)
        assert st["state"] == "fatal", st
        time.sleep(1.5)  # and it stays there: no more starts
        assert state(run_dir)["starts"] == 5 and state(run_dir)["state"] == "fatal"
        assert elapsed >= 0.2 + 0.4 + 0.4 + 0.4
        sup.send_signal(signal.SIGTERM)
        assert sup.wait(10) == 0
    finally:
        if sup.poll() is None:
            sup.kill()
    output = sup.stdout.read()
    assert output.count("worker started") == 5 and "FATAL" in output
    print(f"\ncrash at start: {st['starts']} starts, fatal after {elapsed:.1f} s: {st['fatal_reason']}")
