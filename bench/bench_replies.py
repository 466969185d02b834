"""Reading replies during a job at default pacing: how late does any send start, and how
soon is a reply stored?

    .venv/bin/python bench/bench_replies.py [--messages 50] [--dom 2026] [--reply-every 15] [--baseline]

A Simulator (default boot time and ack delay), the shipped config.toml (default pacing:
4-8 s between messages, a 20-40 s pause every 10, replies read every 20 s, no look
starting within 4 s of a due send), a job of N text messages. While it runs, every
`--reply-every` seconds a contact that already got its message answers (every third
with "STOP"). Figures: the worst lateness of a send against the time it was due (the
worker measures it at each claim: target <= 5 s), the median and worst delay from a
reply's arrival to its row in the store, the replies stored, the opt-outs. With
--baseline the same job runs first with reading off, for the lateness it has anyway.
"""

from __future__ import annotations

import argparse
import logging
import random
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import tomlkit

import settings
from simulator import Simulator
from store import Store
from worker.runner import run_worker

SHIPPED = Path(__file__).resolve().parent.parent / "config.toml"
TARGET_LATE = 5.0


def write_config(d: Path, url: str, replies: bool) -> Path:
    doc = tomlkit.parse(SHIPPED.read_text(encoding="utf-8"))
    doc["paths"].update({"database": f"{d}/db.sqlite", "run_dir": f"{d}/run", "log_dir": f"{d}/logs"})
    doc["browser"].update({"profile_dir": f"{d}/profile", "whatsapp_url": url})
    doc["replies"]["enabled"] = replies
    path = d / "config.toml"
    path.write_text(tomlkit.dumps(doc), encoding="utf-8")
    return path


def run(dom: str, n: int, reply_every: float, replies: bool, tmp: Path) -> dict:
    sim = Simulator(port=0, dom=dom)
    sim.start()
    sim.login()
    d = tmp / f"{dom}-{'replies' if replies else 'baseline'}"
    d.mkdir()
    cfg = settings.load(write_config(d, sim.url, replies))
    store = Store(cfg.paths.database)
    phones = [f"+1202555{2000 + i:04d}" for i in range(n)]
    job = store.create_job("bench replies", "t", [{"phone": p, "text": f"Hello {p}, our offer 👋"} for p in phones])
    stop = threading.Event()
    th = threading.Thread(target=lambda: run_worker(cfg, stop_event=stop), daemon=True)
    th.start()
    rng = random.Random(7)
    delivered: dict[str, float] = {}
    t0 = time.monotonic()
    next_reply = time.monotonic() + reply_every
    try:
        while store.get_job(job).status != "completed":
            if time.monotonic() - t0 > 60 + n * 40:
                raise SystemExit(f"the job did not complete: {store.counts(job)}")
            if replies and time.monotonic() >= next_reply:
                got = [m["phone"] for m in sim.ledger()["messages"] if m["phone"] not in delivered]
                if got:
                    phone = rng.choice(got)
                    sim.deliver(phone, "STOP" if len(delivered) % 3 == 0 else "Thanks, how much?")
                    delivered[phone] = time.time()
                next_reply = time.monotonic() + reply_every
            time.sleep(0.1)
        # The replies delivered near the end are read while idle.
        deadline = time.monotonic() + 60
        while replies and len(store.replies(job)) < len(delivered) and time.monotonic() < deadline:
            time.sleep(0.2)
        wall = time.monotonic() - t0
        row = next(w for w in store.workers())
        stop.set()
        th.join(30)
        stored = store.replies(job)
        delays = [r.read_at - delivered[r.phone] for r in stored if r.phone in delivered]
        return {
            "late_max": (row.info or {}).get("late_max_s", 0.0),
            "wall": wall,
            "sent": store.counts(job)["sent"],
            "delivered": len(delivered),
            "stored": len(stored),
            "optouts": len(store.optout_set()),
            "delay_median": statistics.median(delays) if delays else None,
            "delay_max": max(delays) if delays else None,
        }
    finally:
        store.close()
        sim.stop()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--messages", type=int, default=50)
    ap.add_argument("--dom", default="2026", choices=["2024", "2026"])
    ap.add_argument("--reply-every", type=float, default=15.0)
    ap.add_argument("--baseline", action="store_true", help="also run the job with reading replies off")
    args = ap.parse_args()
    logging.getLogger("worker").setLevel(logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        if args.baseline:
            b = run(args.dom, args.messages, args.reply_every, False, Path(tmp))
            print(
                f"baseline (replies off): {b['sent']}/{args.messages} sent in {b['wall']:.0f} s, "
                f"worst send lateness {b['late_max']:.3f} s"
            )
        r = run(args.dom, args.messages, args.reply_every, True, Path(tmp))
    print(
        f"dom {args.dom}: {r['sent']}/{args.messages} sent in {r['wall']:.0f} s at default pacing; "
        f"{r['delivered']} replies delivered, {r['stored']} stored, {r['optouts']} opt-outs"
    )
    print(
        f"worst send lateness {r['late_max']:.3f} s (target <= {TARGET_LATE:g} s, ratio "
        f"{r['late_max'] / TARGET_LATE:.2f})"
    )
    if r["delay_median"] is not None:
        print(f"reply stored after: median {r['delay_median']:.1f} s, worst {r['delay_max']:.1f} s")
    ok = r["late_max"] <= TARGET_LATE and r["stored"] == r["delivered"]
    print("PASS" if ok else "MISS")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
