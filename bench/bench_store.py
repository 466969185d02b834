"""Queue and counts speed with 1,000,000 queued messages, on SQLite and on PostgreSQL.

    .venv/bin/python bench/bench_store.py [--backend sqlite postgresql] [--messages N]
        [--samples K] [--claimers 8] [--pg-url postgresql://...] [--plain]

For each backend: the median time of one claim + mark-sent cycle and of reading one
job's counts at 1,000,000 queued, then the throughput of 8 processes claiming and
marking at once from that queue. PostgreSQL: a throw-away cluster (initdb + pg_ctl,
fsync on, as a server keeps it) unless --pg-url names an empty database.

The queued job has a sending window (09:00-20:00 in each contact's time) and its
contacts are spread over 50 time zones; at the bench's fixed instant (2026-01-15 12:00
UTC) 26 of them are open. The claiming account knows 20,000 contacts, all in closed
zones: every claim first looks in its known contacts' open lanes (empty), then takes a
new contact within a daily budget and the unanswered margin: the slowest path of the
local-hours and known/new rules. --plain: the job of before (no window, no zones).
Targets: SQLite claim + mark <= 1 ms (issue 2, and the local-hours issue); PostgreSQL
<= 2 ms (issue 13, and the local-hours issue); counts <= 20 ms.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from common import localhours
from store import Store

TARGET_MS = {"sqlite": 1.0, "postgresql": 2.0}
ZONES = (
    "Pacific/Pago_Pago", "Pacific/Honolulu", "America/Anchorage", "America/Los_Angeles", "America/Vancouver",
    "America/Phoenix", "America/Denver", "America/Chicago", "America/Mexico_City", "America/New_York",
    "America/Toronto", "America/Bogota", "America/Lima", "America/Caracas", "America/Halifax", "America/Santiago",
    "America/Sao_Paulo", "America/Argentina/Buenos_Aires", "America/St_Johns", "Atlantic/Azores", "Europe/London",
    "Europe/Lisbon", "Africa/Lagos", "Europe/Paris", "Europe/Berlin", "Europe/Madrid", "Africa/Johannesburg",
    "Europe/Athens", "Africa/Cairo", "Europe/Istanbul", "Europe/Moscow", "Asia/Riyadh", "Africa/Nairobi",
    "Asia/Tehran", "Asia/Dubai", "Asia/Karachi", "Asia/Kolkata", "Asia/Kathmandu", "Asia/Dhaka", "Asia/Yangon",
    "Asia/Bangkok", "Asia/Jakarta", "Asia/Shanghai", "Asia/Singapore", "Asia/Manila", "Asia/Tokyo", "Asia/Seoul",
    "Australia/Adelaide", "Australia/Sydney", "Pacific/Auckland",
)  # fmt: skip
WINDOW = localhours.parse_window("09:00-20:00")
NOW = 1_768_478_400.0  # 2026-01-15 12:00 UTC: 26 of the 50 zones are within 09:00-20:00
ACCOUNT = "bench"
KNOWN = 20_000
# The claim's rules as a worker passes them: a day's budget of new contacts (large: the
# bench sends thousands) and the unanswered margin (the counter is far from its cap).
RULES = {"new_today": 10**9, "unanswered_margin": 10}


def fill(store: Store, n: int, plain: bool = False) -> int:
    # A finished job and a paused one in front, so the claim has to look past them.
    done = store.create_job("done", "x", [{"phone": f"+1202555{i:04d}", "text": "x"} for i in range(1000)])
    while (m := store.claim("bench")) is not None:
        store.mark_sent(m["id"], worker_id="bench")
    store.finish_jobs()
    assert store.get_job(done)["status"] == "completed"
    paused = store.create_job("paused", "x", [{"phone": f"+1202556{i:04d}", "text": "x"} for i in range(1000)])
    store.set_job_status(paused, "paused")
    if plain:
        return store.create_job(
            "big",
            "Hello {name}",
            ({"phone": f"+9198{i:08d}", "text": f"Hello contact {i}", "name": f"Contact {i}"} for i in range(n)),
        )
    zones = [(z,) for z in ZONES]
    job = store.create_job(
        "big",
        "Hello {name}",
        (
            {"phone": f"+9198{i:08d}", "text": f"Hello contact {i}", "name": f"Contact {i}", "zones": zones[i % 50]}
            for i in range(n)
        ),
        window=WINDOW,
        timezone="UTC",
        zone_sets=localhours.order_east_first(zones, NOW),
        now=NOW,
    )
    closed = [i for i, z in enumerate(ZONES) if not localhours.is_open((z,), WINDOW, NOW)]
    known = [f"+9198{i:08d}" for i in range(n) if i % 50 in closed][:KNOWN]
    store.sync_accounts({ACCOUNT: True}, now=NOW)
    store.account_seen(ACCOUNT, "logged_in", now=NOW)
    store.note_known(ACCOUNT, known, source="chats", now=NOW)
    store.note_unanswered(ACCOUNT, 3, 50, now=NOW)
    return job


def _claimer(target: str, worker: str, quota: int, kw: dict, ready, start, out) -> None:
    s = Store(target, create=False)
    ready.put(worker)
    start.wait()
    n = 0
    while n < quota and (m := s.claim(worker, **kw)) is not None:
        s.mark_sent(m["id"], worker_id=worker, now=kw.get("now"))
        n += 1
    out.put(n)
    s.close()


def concurrent(target: str, claimers: int, per_claimer: int, kw: dict) -> tuple[float, int]:
    """(messages per second, messages) with `claimers` processes claiming + marking at once."""
    ctx = mp.get_context("spawn")
    ready, out, start = ctx.Queue(), ctx.Queue(), ctx.Event()
    procs = [
        ctx.Process(target=_claimer, args=(target, f"c{i}", per_claimer, kw, ready, start, out))
        for i in range(claimers)
    ]
    for p in procs:
        p.start()
    for _ in procs:
        ready.get(timeout=120)
    t = time.perf_counter()
    start.set()
    done = sum(out.get(timeout=600) for _ in procs)
    elapsed = time.perf_counter() - t
    for p in procs:
        p.join(30)
    return done / elapsed, done


def run(backend: str, target: str, args: argparse.Namespace) -> None:
    store = Store(target)
    t0 = time.perf_counter()
    job = fill(store, args.messages, args.plain)
    print(f"[{backend}] created {args.messages:,} messages in {time.perf_counter() - t0:.1f} s")
    kw = {} if args.plain else {"account": ACCOUNT, "now": NOW, **RULES}
    mark_now = None if args.plain else NOW
    cycle, claim_only, counts, jobs_list = [], [], [], []
    for _ in range(args.samples):
        t = time.perf_counter()
        m = store.claim("bench", **kw)
        store.mark_sent(m["id"], worker_id="bench", now=mark_now)
        cycle.append(time.perf_counter() - t)
    for _ in range(args.samples):
        t = time.perf_counter()
        m = store.claim("bench", **kw)
        claim_only.append(time.perf_counter() - t)
        store.mark_sent(m["id"], worker_id="bench", now=mark_now)
    assert args.plain or not m["known"]  # the known contacts sleep: new ones, in open zones
    for _ in range(200):
        t = time.perf_counter()
        c = store.counts(job)
        counts.append(time.perf_counter() - t)
    for _ in range(50):
        t = time.perf_counter()
        jobs = store.jobs(now=mark_now)
        jobs_list.append(time.perf_counter() - t)
    assert c["sent"] == 2 * args.samples, c
    if not args.plain:
        big = next(j for j in jobs if j.id == job)
        print(
            f"[{backend}] waiting for their morning: {big.waiting:,} of {c['pending']:,} queued "
            f"(24 of 50 zones closed), the next window opens in {(big.opens_at or NOW) - NOW:.0f} s"
        )
    med = statistics.median
    target_ms = TARGET_MS[backend]
    print(
        f"[{backend}] claim + mark sent: median {med(cycle) * 1000:.3f} ms  "
        f"(target <= {target_ms:g} ms, ratio {med(cycle) * 1000 / target_ms:.2f})"
    )
    print(f"[{backend}] claim alone:       median {med(claim_only) * 1000:.3f} ms")
    print(
        f"[{backend}] per-job counts:    median {med(counts) * 1000:.3f} ms  "
        f"(target <= 20 ms, ratio {med(counts) * 1000 / 20:.3f})"
    )
    print(f"[{backend}] jobs() with counts: median {med(jobs_list) * 1000:.3f} ms")
    rate1, n1 = concurrent(target, 1, args.per_claimer * args.claimers, kw)
    rate, n = concurrent(target, args.claimers, args.per_claimer, kw)
    print(f"[{backend}] 1 claimer:  {rate1:,.0f} claim + mark per s ({n1:,} messages)")
    print(
        f"[{backend}] {args.claimers} claimers: {rate:,.0f} claim + mark per s ({n:,} messages), "
        f"ratio to 1 claimer {rate / rate1:.2f}"
    )
    sent = store.counts(job)["sent"]
    assert sent == 2 * args.samples + n1 + n, (sent, n1, n)
    store.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--backend", nargs="+", choices=("sqlite", "postgresql"), default=["sqlite", "postgresql"])
    ap.add_argument("--messages", type=int, default=1_000_000)
    ap.add_argument("--samples", type=int, default=2000)
    ap.add_argument("--claimers", type=int, default=8)
    ap.add_argument("--per-claimer", type=int, default=500, help="claims per process in the concurrent run")
    ap.add_argument("--pg-url", help="an empty PostgreSQL database (default: a throw-away cluster)")
    ap.add_argument("--plain", action="store_true", help="the queued job has no window and no zones")
    args = ap.parse_args()
    for backend in args.backend:
        if backend == "sqlite":
            with tempfile.TemporaryDirectory() as tmp:
                run(backend, str(Path(tmp) / "bench.db"), args)
        elif args.pg_url:
            run(backend, args.pg_url, args)
        else:
            from tests.support.pg_cluster import Cluster

            with Cluster(durable=True) as cluster:
                run(backend, cluster.create_db("bench"), args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
