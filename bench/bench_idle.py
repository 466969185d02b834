"""What waiting costs: a supervisor's look at its own children, and an idle worker.

    .venv/bin/python bench/bench_idle.py [--processes 400] [--polls 0.2 0.5 1.0] [--seconds 10]

1. The supervisor reaps the orphans it adopted (it is a sub-reaper) and looks for them at
   every tick (4 a second), so it lists its own children several times a second. Prints the
   CPU per call of psutil's `Process().children()`, which reads the stat file of every
   process on the machine, and of `supervisor.proctree.own_children()`, which reads
   /proc/self/task/*/children, for 4 children of our own among `--processes` others (a
   busy host: a test run has 300 to 500).
2. A worker with nothing to send: the real worker against a Simulator (shipped config.toml,
   2026 DOM), one message sent, then the CPU of the worker, ChromeDriver and every Chromium
   process over `--seconds`, as a share of one core, for each `[worker] poll_interval`.
"""

from __future__ import annotations

import argparse
import collections
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psutil
import tomlkit

from simulator import Simulator
from store import Store
from supervisor.proctree import own_children

sys.path.insert(0, str(ROOT / "bench"))
from bench_worker_cpu import write_config as worker_cpu_config


def children_cost(extra: int) -> None:
    # The machine's other processes are no children of ours: a shell starts them.
    busy = subprocess.Popen(["sh", "-c", f"for i in $(seq {extra}); do sleep 120 & done; wait"])
    own = [subprocess.Popen(["sleep", "120"]) for _ in range(3)]
    try:
        deadline = time.monotonic() + 20
        while len(psutil.Process(busy.pid).children()) < extra and time.monotonic() < deadline:
            time.sleep(0.1)
        n = len(psutil.pids())
        calls = 200
        costs = {}
        for name, fn in (("psutil Process().children()", psutil.Process().children), ("own_children()", own_children)):
            t0 = time.process_time()
            for _ in range(calls):
                found = fn()
            costs[name] = (time.process_time() - t0) / calls
            assert {p.pid for p in own} | {busy.pid} <= {p.pid for p in found}, name
        for name, c in costs.items():
            print(f"{name:30s} {c * 1000:6.2f} ms CPU per call ({n} processes on the machine)")
        ratio = costs["psutil Process().children()"] / costs["own_children()"]
        print(f"own_children() is {ratio:.0f}x cheaper")
    finally:
        for p in psutil.Process(busy.pid).children():
            p.kill()
        for p in [*own, busy]:
            p.kill()
            p.wait()


def write_config(d: Path, url: str, poll: float) -> Path:
    """bench_worker_cpu's config (the shipped one, every delay at 0) with this poll."""
    path = worker_cpu_config(d, url)
    doc = tomlkit.parse(path.read_text(encoding="utf-8"))
    doc["worker"]["poll_interval"] = poll
    path.write_text(tomlkit.dumps(doc), encoding="utf-8")
    return path


def kind(p: psutil.Process) -> str:
    cmd = p.cmdline()
    types = [a.split("=", 1)[1] for a in cmd if a.startswith("--type=")]
    if types:
        return f"chromium {types[0]}"
    name = p.name()
    return "chromium browser" if "chrom" in name and "driver" not in name else name


def tree_cpu(root: psutil.Process) -> collections.Counter[str]:
    out: collections.Counter[str] = collections.Counter()
    for p in [root, *root.children(recursive=True)]:
        try:
            t = p.cpu_times()
            out[kind(p)] += t.user + t.system
        except psutil.Error:
            pass
    return out


def idle_worker(poll: float, seconds: float) -> None:
    sim = Simulator(port=0, boot_time=0.2, ack_delay=0.0, dblcheck_delay=0.0, dom="2026").start()
    try:
        sim.login()
        with tempfile.TemporaryDirectory(prefix="bench-idle-") as tmp:
            cfg = write_config(Path(tmp), sim.url, poll)
            store = Store(Path(tmp) / "db.sqlite")
            job = store.create_job("idle", "{n}", [{"phone": "+12025550100", "text": "hello"}])
            proc = subprocess.Popen(
                [sys.executable, "-m", "worker", "--config", str(cfg)],
                cwd=ROOT,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            try:
                deadline = time.monotonic() + 60
                while store.counts(job)["sent"] < 1:
                    if time.monotonic() > deadline or proc.poll() is not None:
                        raise SystemExit("the worker sent nothing within 60 s")
                    time.sleep(0.1)
                time.sleep(2)  # the job completes, the worker goes idle
                root = psutil.Process(proc.pid)
                a = tree_cpu(root)
                time.sleep(seconds)
                b = tree_cpu(root)
            finally:
                proc.terminate()
                proc.wait(15)
                store.close()
    finally:
        sim.stop()
    used = {k: (b[k] - a.get(k, 0.0)) / seconds * 100 for k in b}
    parts = ", ".join(f"{k} {v:.1f}%" for k, v in sorted(used.items(), key=lambda kv: -kv[1]) if v >= 0.05)
    print(f"idle worker, poll {poll:.1f} s: {sum(used.values()):.1f}% of a core ({parts})", flush=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--processes", type=int, default=400)
    ap.add_argument("--polls", type=float, nargs="+", default=[0.2, 0.5, 1.0])
    ap.add_argument("--seconds", type=float, default=10.0)
    args = ap.parse_args()
    children_cost(args.processes)
    for poll in args.polls:
        idle_worker(poll, args.seconds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
