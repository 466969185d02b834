"""Worker automation time per text message against the simulator: in-app vs URL navigation,
on each DOM generation.

    .venv/bin/python bench/bench_worker.py [--messages N] [--url-messages M] [--dom 2024 2026]

For each DOM generation, starts a Simulator at its DEFAULT boot time (and default ack
delay), imports N text messages (emoji, formatting, a link, two lines) into a temporary
database, and runs the worker with the shipped config.toml (selectors unchanged) and all
delays at 0, once with `navigation = "in_app"` and once with `navigation = "url"`, in this
one run. The time of a message is claim -> sent as recorded by the store (claimed_at,
sent_at). Prints the medians, the ratio in_app/url and the page loads per message after
login (simulator ledger). Targets: in-app <= 0.25 x URL, in-app <= 1.0 s per message,
0 page loads per message after login, on every generation.

Then, with the shipped pacing (4-8 s between sends, a long pause every 10) and typing on
(`--paced N` messages, 0 to skip): the time between two send clicks must stay inside its
configured range although each text is typed word by word before its click; printed: the
gaps' range against the configured one, how many fell outside, and the typing time (claim
-> click, which also holds opening the chat).
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import itertools

import tomlkit

import settings
from simulator import Simulator
from store import Store
from worker.runner import run_worker

SHIPPED = Path(__file__).resolve().parent.parent / "config.toml"


def write_config(d: Path, url: str, navigation: str) -> Path:
    """The shipped config.toml with the paths, the simulator's address and no delays."""
    doc = tomlkit.parse(SHIPPED.read_text(encoding="utf-8"))
    doc["paths"].update({"database": f"{d}/db.sqlite", "run_dir": f"{d}/run", "log_dir": f"{d}/logs"})
    doc["browser"].update({"profile_dir": f"{d}/profile", "whatsapp_url": url, "navigation": navigation})
    doc["sending"].update({"delay_min": 0.0, "delay_max": 0.0, "long_pause_every": 0, "link_preview_wait": 0.0})
    path = d / "config.toml"
    path.write_text(tomlkit.dumps(doc), encoding="utf-8")
    return path


def run_mode(dom: str, navigation: str, n: int, tmp: Path) -> dict:
    sim = Simulator(port=0, dom=dom)  # default boot_time and ack_delay
    sim.start()
    sim.login()
    try:
        d = tmp / f"{dom}-{navigation}"
        d.mkdir()
        write_config(d, sim.url, navigation)
        cfg = settings.load(d / "config.toml")
        store = Store(cfg.paths.database)
        job = store.create_job(
            f"bench-{navigation}",
            "t",
            [
                {
                    "phone": f"+1202555{1000 + i:04d}",
                    "text": f"Benchmark *message* {i} 👋🏽\nsecond line https://example.com/{i}",
                }
                for i in range(n)
            ],
        )
        stop = threading.Event()
        codes: list[int] = []
        t0 = time.monotonic()
        th = threading.Thread(target=lambda: codes.append(run_worker(cfg, stop_event=stop)), daemon=True)
        th.start()
        # Page loads before the first claim are the login boot.
        while store.counts(job)["sending"] + store.counts(job)["sent"] == 0:
            time.sleep(0.05)
        loads_at_login = sim.ledger()["page_loads"]
        while store.get_job(job)["status"] != "completed":
            if time.monotonic() - t0 > 60 + n * 15:
                raise SystemExit(f"{navigation}: the job did not complete: {store.counts(job)}")
            time.sleep(0.1)
        wall = time.monotonic() - t0
        stop.set()
        th.join(30)
        rows = list(store.iter_messages(job))
        times = [r["sent_at"] - r["claimed_at"] for r in rows if r["status"] == "sent"]
        ledger = sim.ledger()
        store.close()
        return {
            "dom": dom,
            "navigation": navigation,
            "messages": n,
            "sent": len(times),
            "median": statistics.median(times),
            "p90": sorted(times)[int(0.9 * (len(times) - 1))],
            "page_loads_after_login": ledger["page_loads"] - loads_at_login,
            "ledger_messages": len(ledger["messages"]),
            "wall": wall,
            "exit": codes[0] if codes else None,
        }
    finally:
        sim.stop()


def run_paced(dom: str, n: int, tmp: Path) -> dict:
    """The shipped pacing and typing: the gaps between two clicks against their range."""
    sim = Simulator(port=0, dom=dom).start()
    sim.login()
    try:
        d = tmp / f"{dom}-paced"
        d.mkdir()
        doc = tomlkit.parse(SHIPPED.read_text(encoding="utf-8"))
        doc["paths"].update({"database": f"{d}/db.sqlite", "run_dir": f"{d}/run", "log_dir": f"{d}/logs"})
        doc["browser"].update({"profile_dir": f"{d}/profile", "whatsapp_url": sim.url})
        (d / "config.toml").write_text(tomlkit.dumps(doc), encoding="utf-8")
        cfg = settings.load(d / "config.toml")
        s = cfg.sending
        store = Store(cfg.paths.database)
        texts = [f"Olá {i}, a new offer is ready for you 🎁 " + "and a few more words " * (i % 4) for i in range(n)]
        job = store.create_job("paced", "t", [{"phone": f"+1202556{i:04d}", "text": t} for i, t in enumerate(texts)])
        stop = threading.Event()
        th = threading.Thread(target=lambda: run_worker(cfg, stop_event=stop), daemon=True)
        th.start()
        deadline = (
            time.monotonic() + n * (s.delay_max + 5) + s.long_pause_max * (n // max(s.long_pause_every, 1) + 1) + 60
        )
        while store.get_job(job)["status"] != "completed":
            if time.monotonic() > deadline:
                raise SystemExit(f"paced: the job did not complete: {store.counts(job)}")
            time.sleep(0.2)
        stop.set()
        th.join(30)
        rows = sorted(store.iter_messages(job), key=lambda r: r["clicked_at"])
        clicks = [r["clicked_at"] for r in rows]
        gaps = [b - a for a, b in itertools.pairwise(clicks)]
        outside = 0
        for i, g in enumerate(gaps, start=1):  # the i-th send's delay follows it
            lo, hi = s.delay_min, s.delay_max
            if s.long_pause_every and i % s.long_pause_every == 0:
                lo, hi = lo + s.long_pause_min, hi + s.long_pause_max
            outside += not (lo - 0.5 <= g <= hi + 0.5)  # half a second for the page's own latency
        typing = [r["clicked_at"] - r["claimed_at"] for r in rows[1:]]
        store.close()
        return {
            "gaps": gaps,
            "outside": outside,
            "typing": typing,
            "range": (s.delay_min, s.delay_max),
            "sent": sum(1 for r in rows if r["status"] == "sent"),
        }
    finally:
        sim.stop()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--messages", type=int, default=30, help="text messages for the in-app run")
    ap.add_argument("--url-messages", type=int, default=15, help="text messages for the URL run (each boots the app)")
    ap.add_argument("--dom", nargs="+", default=["2024", "2026"], choices=["2024", "2026"])
    ap.add_argument("--paced", type=int, default=12, help="messages at the shipped pacing with typing (0: skip)")
    args = ap.parse_args()
    logging.getLogger("worker").setLevel(logging.WARNING)
    print(
        f"simulator defaults: boot_time={Simulator(port=0).settings['boot_time']} s, "
        f"ack_delay={Simulator(port=0).settings['ack_delay']} s; worker delays 0; shipped selectors"
    )
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        for dom in args.dom:
            results = [
                run_mode(dom, "in_app", args.messages, Path(tmp)),
                run_mode(dom, "url", args.url_messages, Path(tmp)),
            ]
            for r in results:
                print(
                    f"dom {dom} {r['navigation']:>6}: {r['sent']}/{r['messages']} sent "
                    f"(ledger {r['ledger_messages']}), median {r['median']:.3f} s, p90 {r['p90']:.3f} s per "
                    f"message, page loads after login {r['page_loads_after_login']} "
                    f"({r['page_loads_after_login'] / r['messages']:.2f} per message), wall {r['wall']:.1f} s"
                )
            in_app, url = results
            ratio = in_app["median"] / url["median"]
            per_load = in_app["page_loads_after_login"] / in_app["messages"]
            print(
                f"dom {dom}: ratio in_app/url {ratio:.3f} (target <= 0.25), in_app median "
                f"{in_app['median']:.3f} s (target <= 1.0 s), in_app page loads per message {per_load:.2f} "
                "(target 0)"
            )
            ok = ok and ratio <= 0.25 and in_app["median"] <= 1.0 and in_app["page_loads_after_login"] == 0
        if args.paced:
            r = run_paced("2026", args.paced, Path(tmp))
            plain = [g for i, g in enumerate(r["gaps"], start=1) if i % 10]
            print(
                f"paced with typing (dom 2026, {r['sent']}/{args.paced} sent): gaps between clicks "
                f"{min(plain):.2f}..{max(plain):.2f} s without the long pause (configured "
                f"{r['range'][0]:g}..{r['range'][1]:g} s), {r['outside']} of {len(r['gaps'])} outside their "
                f"range (target 0); claim -> click (chat opening + typing) median "
                f"{statistics.median(r['typing']):.2f} s, max {max(r['typing']):.2f} s"
            )
            ok = ok and r["outside"] == 0
    print("PASS" if ok else "MISS")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
