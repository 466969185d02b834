"""CPU per message: what one account costs the machine while it sends (the worker, ChromeDriver
and Chromium together), and how many times it looks at the page per message.

    .venv/bin/python bench/bench_worker_cpu.py [--messages N] [--ack 0 0.3 0.8] [--dom 2026]

For each simulator ack delay (the time WhatsApp takes to put the tick on a message), runs
the real worker in this process against a Simulator with the shipped config.toml, all
delays at 0, N text messages. Prints per message: the wall time, the CPU seconds of this
process (worker and simulator) plus ChromeDriver and Chromium (their process tree, read
just before the browser closes), and the page round trips (WebDriver commands) of the
worker. While the tick is awaited the worker waits in the page for a change
(worker/page.py `wait_for_change`) instead of looking every 30 ms: the CPU per message
should grow little with the ack delay. Target: at a 0.8 s ack delay, <= 1.5 x the CPU per
message at 0 s.
"""

from __future__ import annotations

import argparse
import collections
import logging
import resource
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psutil
import tomlkit
from selenium.webdriver.remote.webdriver import WebDriver

import settings
import worker.runner as runner
from simulator import Simulator
from store import Store

ROOT = Path(__file__).resolve().parent.parent
COMMANDS: collections.Counter[str] = collections.Counter()


def count_commands() -> None:
    original = WebDriver.execute

    def execute(self: Any, command: str, params: Any = None) -> Any:
        COMMANDS[command] += 1
        return original(self, command, params)

    WebDriver.execute = execute  # type: ignore[method-assign]


def write_config(d: Path, url: str) -> Path:
    doc = tomlkit.parse((ROOT / "config.toml").read_text(encoding="utf-8"))
    doc["paths"]["database"] = str(d / "db.sqlite")
    doc["paths"]["run_dir"] = str(d / "run")
    doc["paths"]["log_dir"] = str(d / "logs")
    b = doc["browser"]
    b["whatsapp_url"], b["profile_dir"], b["headless"], b["navigation"] = url, str(d / "profile"), True, "in_app"
    s = doc["sending"]
    s["delay_min"] = s["delay_max"] = 0.0
    s["long_pause_every"], s["new_contacts_per_day"], s["typing"] = 0, 100_000, False
    s["link_preview_wait"] = 0.0  # a human-pace wait like the delays: not the worker's cost
    doc["worker"]["poll_interval"] = 0.2
    path = d / "config.toml"
    path.write_text(tomlkit.dumps(doc), encoding="utf-8")
    return path


def tree_cpu() -> float:
    total = 0.0
    for p in psutil.Process().children(recursive=True):
        try:
            t = p.cpu_times()
            total += t.user + t.system
        except psutil.Error:
            pass
    return total


def own_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def run(dom: str, ack: float, n: int, tmp: Path) -> dict[str, float]:
    sim = Simulator(port=0, boot_time=0.2, ack_delay=ack, dblcheck_delay=0.0, seed=1, dom=dom).start()
    try:
        sim.login()
        cfg = settings.load(write_config(tmp, sim.url))
        store = Store(tmp / "db.sqlite")
        job = store.create_job(
            "bench",
            "{n}",
            [{"phone": f"+1202555{i:04d}", "text": f"bench *{i}* 👋🏽 https://example.com/{i}"} for i in range(n + 1)],
        )
        stop = threading.Event()
        marks: dict[str, float] = {}
        browser_cpu = [0.0]
        close = runner.Worker.close_browser

        def close_browser(self: Any) -> None:
            browser_cpu[0] = tree_cpu()
            close(self)

        runner.Worker.close_browser = close_browser  # type: ignore[method-assign]

        def watch() -> None:
            while not stop.is_set():
                sent = store.counts(job)["sent"]
                if sent >= 1 and "t" not in marks:  # from the first message on: the start is left out
                    marks["t"], marks["cpu"], marks["tree"] = time.monotonic(), own_cpu(), tree_cpu()
                    marks["cmds"] = sum(COMMANDS.values())
                if store.get_job(job)["status"] == "completed":
                    marks["end"], marks["cpu_end"] = time.monotonic(), own_cpu()
                    marks["cmds_end"] = sum(COMMANDS.values())
                    stop.set()
                time.sleep(0.02)

        threading.Thread(target=watch, daemon=True).start()
        runner.run_worker(cfg, stop_event=stop)
        runner.Worker.close_browser = close  # type: ignore[method-assign]
        store.close()
    finally:
        sim.stop()
    cpu = (marks["cpu_end"] - marks["cpu"]) + (browser_cpu[0] - marks["tree"])
    return {
        "wall": (marks["end"] - marks["t"]) / n,
        "cpu": cpu / n,
        "cmds": (marks["cmds_end"] - marks["cmds"]) / n,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--messages", type=int, default=40)
    ap.add_argument("--ack", type=float, nargs="+", default=[0.0, 0.3, 0.8])
    ap.add_argument("--dom", default="2026")
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)
    count_commands()
    results = {}
    for ack in args.ack:
        with tempfile.TemporaryDirectory(prefix="bench-cpu-") as d:
            r = results[ack] = run(args.dom, ack, args.messages, Path(d))
        print(
            f"dom {args.dom}, ack delay {ack:.1f} s: {r['wall']:.3f} s per message, "
            f"{r['cpu']:.3f} CPU-s per message (worker + simulator + ChromeDriver + Chromium), "
            f"{r['cmds']:.1f} page round trips per message",
            flush=True,
        )
    base, slowest = results[min(results)], results[max(results)]
    ratio = slowest["cpu"] / base["cpu"]
    print(
        f"CPU per message at {max(results):.1f} s / at {min(results):.1f} s ack delay: "
        f"ratio {ratio:.2f} (target <= 1.5)"
    )
    print("PASS" if ratio <= 1.5 else "MISS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
