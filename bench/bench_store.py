"""Queue and counts speed with 1,000,000 queued messages.

    .venv/bin/python bench/bench_store.py [--messages N] [--samples K]

Prints the median time of one claim + mark-sent cycle and of reading one job's counts.
Targets (issue 2): claim + mark sent median <= 1 ms; counts <= 20 ms.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from store import Store  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--messages", type=int, default=1_000_000)
    ap.add_argument("--samples", type=int, default=2000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "bench.db")
        t0 = time.perf_counter()
        # A finished job and a paused one in front, so the claim has to look past them.
        done = store.create_job("done", "x", [{"phone": f"+1202555{i:04d}", "text": "x"} for i in range(1000)])
        while (m := store.claim("bench")) is not None:
            store.mark_sent(m["id"], worker_id="bench")
        store.finish_jobs()
        assert store.get_job(done)["status"] == "completed"
        paused = store.create_job("paused", "x", [{"phone": f"+1202556{i:04d}", "text": "x"} for i in range(1000)])
        store.set_job_status(paused, "paused")
        job = store.create_job("big", "Hello {name}", (
            {"phone": f"+9198{i:08d}", "text": f"Hello contact {i}", "name": f"Contact {i}"}
            for i in range(args.messages)))
        created = time.perf_counter() - t0
        print(f"created {args.messages:,} messages in {created:.1f} s")

        cycle = []
        for _ in range(args.samples):
            t = time.perf_counter()
            m = store.claim("bench")
            store.mark_sent(m["id"], worker_id="bench")
            cycle.append(time.perf_counter() - t)
        claim_only = []
        for _ in range(args.samples):
            t = time.perf_counter()
            m = store.claim("bench")
            claim_only.append(time.perf_counter() - t)
            store.mark_sent(m["id"], worker_id="bench")
        counts = []
        for _ in range(200):
            t = time.perf_counter()
            c = store.counts(job)
            counts.append(time.perf_counter() - t)
        jobs_list = []
        for _ in range(50):
            t = time.perf_counter()
            store.jobs()
            jobs_list.append(time.perf_counter() - t)
        assert c["sent"] == 2 * args.samples, c
        med = statistics.median
        print(f"claim + mark sent: median {med(cycle) * 1000:.3f} ms  (target <= 1 ms, ratio {med(cycle) * 1000 / 1.0:.2f})")
        print(f"claim alone:       median {med(claim_only) * 1000:.3f} ms")
        print(f"per-job counts:    median {med(counts) * 1000:.3f} ms  (target <= 20 ms, ratio {med(counts) * 1000 / 20:.3f})")
        print(f"jobs() with counts: median {med(jobs_list) * 1000:.3f} ms")
        store.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
