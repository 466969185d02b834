"""Benchmark: the dashboard over a database of 1,000,000 messages.

    .venv/bin/python bench/bench_dashboard.py [--messages 1000000] [--db PATH] [--no-tmux]

Targets (issue): start to first paint <= 1.5 s, one refresh cycle <= 50 ms, memory <= 150 MB.
Prints each figure and its ratio to the target (ratio < 1 is within the target).

- first paint (headless): from creating the app (store open included) until the first
  snapshot from the poller is applied to the tables (Textual `run_test`, 120x40).
- first paint (tmux): `python tui.py --db DB` in a real tmux terminal until the screen
  shows the messages' page title (process start, imports and all).
- refresh cycle: the poller's read (jobs + counts, one page of messages, worker row,
  supervisor status, new events) plus applying it to the widgets, measured on 30 cycles
  while the worker "sends" (the counts and one row change between cycles).
- memory: RSS of the process after start-up and after paging through 50 pages.
The database is built once (store.create_job from a generator) and kept in bench/out/.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psutil

import settings
from store import Store

TARGET_PAINT = 1.5
TARGET_REFRESH_MS = 50.0
TARGET_RSS_MB = 150.0


def build_db(path: Path, n: int) -> None:
    if path.exists():
        store = Store(path)
        jobs = store.jobs()
        if jobs and sum(j["total"] for j in jobs) >= n:
            print(f"reusing {path} ({sum(j['total'] for j in jobs):,} messages)")
            store.close()
            return
        store.close()
        path.unlink()
    path.parent.mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    store = Store(path)
    small = store.create_job(
        "small",
        "Hi {name}",
        ({"phone": f"+1415555{i:04d}", "name": f"Small {i}", "text": f"Hi {i}"} for i in range(10)),
    )
    store.create_job(
        "million",
        "Hi {name}",
        ({"phone": f"+9198{i:08d}", "name": f"Person {i}", "text": f"Hello Person {i}"} for i in range(n)),
    )
    now = time.time() - 600
    for i in range(300):  # some history: sends, a failure, events; gives an ETA
        m = store.claim("bench", now=now + i)
        if i % 50 == 7:
            store.mark_failed_attempt(m["id"], "chat did not open", max_attempts=1, backoff=1, now=now + i)
        else:
            store.mark_sent(m["id"], now=now + i + 0.5)
    store.set_job_status(small, "paused")
    store.close()
    print(f"built {path}: {n:,} messages in {time.perf_counter() - t:.1f} s")


def make_cfg(tmp: Path, db: Path) -> settings.Config:
    path = tmp / "config.toml"
    path.write_text(f'[paths]\ndatabase = "{db}"\nrun_dir = "{tmp / "run"}"\nlog_dir = "{tmp / "logs"}"\n')
    return settings.load(path)


def rss_mb() -> float:
    return psutil.Process().memory_info().rss / 1e6


async def headless(cfg: settings.Config, db: Path) -> dict:
    from dashboard.app import WaSenderApp
    from dashboard.components.messages_table import MessagesTable

    t0 = time.perf_counter()
    store = Store(db)
    app = WaSenderApp(
        cfg,
        store=store,
        poll_interval=1.0,
        supervisor_status=lambda: {
            "pid": 1,
            "state": "running",
            "alive": True,
            "uptime": 10,
            "cpu_percent": 3.0,
            "memory_mb": 300,
            "restarts": 0,
        },
    )
    out: dict = {}
    async with app.run_test(size=(120, 40)) as pilot:
        while app.first_paint_at is None:
            await asyncio.sleep(0.005)
        out["paint"] = app.first_paint_at - t0
        await pilot.pause(0.3)
        # the million job is the newest: selected at start
        while app.view.job_id != 2 or not app.query_one(MessagesTable).row_count:
            await asyncio.sleep(0.01)
        out["rss_start"] = rss_mb()
        writer = Store(db)
        reads, applies = [], []
        for _ in range(30):
            m = writer.claim("bench2")
            if m:
                writer.mark_sent(m["id"])
            n = app.refreshes
            app.refresh_now()
            while app.refreshes == n:
                await asyncio.sleep(0.001)
            reads.append(app.snapshot.read_ms)
            applies.append(app.apply_ms)
        out["read_ms"] = reads
        out["apply_ms"] = applies
        table = app.query_one(MessagesTable)
        table.focus()
        page_times = []
        for _ in range(50):
            first = table.keys[0]
            t = time.perf_counter()
            table.action_page_next()  # what PgDn does (pilot.press adds its own idle waits)
            while table.keys[0] == first:
                await asyncio.sleep(0.001)
            page_times.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        table.action_page_last()
        while table.keys[-1] != str(1_000_010) and time.perf_counter() - t < 5:
            await asyncio.sleep(0.001)
        out["end_ms"] = (time.perf_counter() - t) * 1000
        out["page_ms"] = page_times
        out["rss_scrolled"] = rss_mb()
        out["last_id"] = table.keys[-1]
        writer.close()
    return out


def tmux_paint(db: Path, cfg_path: Path) -> float | None:
    tmux = shutil.which("tmux")
    if not tmux:
        return None
    session = f"bench-dash-{os.getpid()}"
    t0 = time.perf_counter()
    subprocess.run(
        [
            tmux,
            "new-session",
            "-d",
            "-s",
            session,
            "-x",
            "120",
            "-y",
            "40",
            f"{sys.executable} {ROOT / 'tui.py'} --config {cfg_path} --db {db}",
        ],
        check=True,
    )
    try:
        while time.perf_counter() - t0 < 20:
            text = subprocess.run([tmux, "capture-pane", "-p", "-t", session], capture_output=True, text=True).stdout
            if "Messages · job" in text and "+9198" in text:
                return time.perf_counter() - t0
            time.sleep(0.01)
        return None
    finally:
        subprocess.run([tmux, "send-keys", "-t", session, "q"])
        time.sleep(0.5)
        subprocess.run([tmux, "kill-session", "-t", session], capture_output=True)


def line(label: str, value: float, unit: str, target: float) -> None:
    print(f"  {label:<38} {value:9.1f} {unit:<3} target {target:g} {unit:<3} ratio {value / target:5.2f}")


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--messages", type=int, default=1_000_000)
    p.add_argument("--db", type=Path, default=ROOT / "bench" / "out" / "dashboard-1m.db")
    p.add_argument("--no-tmux", action="store_true")
    args = p.parse_args()
    build_db(args.db, args.messages)
    tmp = Path(tempfile.mkdtemp(prefix="bench-dash-"))
    try:
        cfg = make_cfg(tmp, args.db)
        tmux_runs = (
            [] if args.no_tmux else [t for t in (tmux_paint(args.db, cfg.path) for _ in range(5)) if t is not None]
        )
        tmux_s = statistics.median(tmux_runs) if tmux_runs else None
        r = asyncio.run(headless(cfg, args.db))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    cycle = [a + b for a, b in zip(r["read_ms"], r["apply_ms"])]
    print(f"Dashboard over {args.messages:,} messages (+10), {os.cpu_count()} CPUs")
    line("start to first paint (headless)", r["paint"], "s", TARGET_PAINT)
    if tmux_s is not None:
        line("start to first paint (tmux, real), median of 5", tmux_s, "s", TARGET_PAINT)
        print(f"    runs: {', '.join(f'{t:.2f}' for t in tmux_runs)} s")
    line("refresh cycle, median (read + apply)", statistics.median(cycle), "ms", TARGET_REFRESH_MS)
    line("refresh cycle, max", max(cycle), "ms", TARGET_REFRESH_MS)
    print(
        f"    read median {statistics.median(r['read_ms']):.1f} ms, apply median "
        f"{statistics.median(r['apply_ms']):.1f} ms"
    )
    # No target of its own in the issue; shown against the refresh target for scale.
    line("next page (PgDn to shown), median", statistics.median(r["page_ms"]), "ms", TARGET_REFRESH_MS)
    line("last page (End to shown)", r["end_ms"], "ms", TARGET_REFRESH_MS)
    line("RSS after start-up", r["rss_start"], "MB", TARGET_RSS_MB)
    line("RSS after 50 pages + End", r["rss_scrolled"], "MB", TARGET_RSS_MB)
    return 0


if __name__ == "__main__":
    sys.exit(main())
