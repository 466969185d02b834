"""Selector doctor time on a live simulator page, end to end as a user runs it.

    .venv/bin/python bench/bench_doctor.py [--runs N] [--dom 2024 2026]

For each DOM generation, starts a Simulator at its DEFAULT boot time (logged in, one
message in the own-number chat) and times `python tui.py doctor --json` as a subprocess
(Python start, browser start, app boot, every page state, report) in three cases:

- shipped: the shipped config.toml (every key should be ok);
- broken:  six keys replaced by selectors that match nothing (the doctor searches
           candidates for each and ranks them live);
- held:    shipped config with a worker running on the same profile, idle between
           messages: the doctor asks it to let go of the browser, then gives it back.

Prints the median and worst of N runs per case and whether the ledger stayed unchanged
(the doctor never sends). Target: <= 20 s per run on every generation.
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import tomlkit

import settings
from simulator import Simulator
from worker.runner import run_worker

TARGET = 20.0
BROKEN = ("compose_box", "send_button", "attach_button", "outgoing_message", "logged_in", "message_row")


def write_config(d: Path, url: str, broken: bool) -> Path:
    doc = tomlkit.parse((ROOT / "config.toml").read_text(encoding="utf-8"))
    doc["paths"].update({"database": f"{d}/db.sqlite", "run_dir": f"{d}/run", "log_dir": f"{d}/logs"})
    doc["browser"].update({"profile_dir": f"{d}/profile", "whatsapp_url": url})
    doc["sending"].update({"delay_min": 0.0, "delay_max": 0.0, "long_pause_every": 0, "link_preview_wait": 0.0})
    if broken:
        for key in BROKEN:
            doc["selectors"][key] = [f"#no-such-{key}"]
    d.mkdir(parents=True, exist_ok=True)
    path = d / "config.toml"
    path.write_text(tomlkit.dumps(doc), encoding="utf-8")
    return path


def doctor_once(cfg_path: Path) -> tuple[float, dict]:
    t0 = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "tui.py", "--config", str(cfg_path), "doctor", "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    wall = time.monotonic() - t0
    if proc.returncode != 0:
        raise SystemExit(f"doctor failed ({proc.returncode}): {proc.stderr.strip()[-300:]}")
    return wall, json.loads(proc.stdout)


def run_case(dom: str, case: str, runs: int, tmp: Path) -> dict:
    sim = Simulator(port=0, dom=dom).start()  # default boot_time and ack_delay
    sim.login()
    sim.seed_history(sim.settings["own_number"], "a note to myself", at=time.time() - 3600)
    stop = threading.Event()
    worker = None
    try:
        cfg_path = write_config(tmp / f"{dom}-{case}", sim.url, broken=case == "broken")
        if case == "held":
            cfg = settings.load(cfg_path)
            worker = threading.Thread(target=run_worker, args=(cfg,), kwargs={"stop_event": stop}, daemon=True)
            worker.start()
            deadline = time.monotonic() + 60
            while sim.ledger()["page_loads"] == 0 and time.monotonic() < deadline:
                time.sleep(0.1)
            time.sleep(2)  # the worker is logged in and idle (no job)
        before = len(sim.ledger()["messages"])
        walls, reports = [], []
        for _ in range(runs):
            wall, report = doctor_once(cfg_path)
            walls.append(wall)
            reports.append(report)
        last = reports[-1]
        fixable = [k["key"] for k in last["keys"] if k["status"] in ("failed", "wrong") and k["proposal"]]
        unfixed = [k["key"] for k in last["keys"] if k["status"] in ("failed", "wrong") and not k["proposal"]]
        return {
            "dom": dom,
            "case": case,
            "median": statistics.median(walls),
            "worst": max(walls),
            "in_doctor": statistics.median(r["seconds"] for r in reports),
            "fixable": fixable,
            "unfixed": unfixed,
            "sent_by_doctor": len(sim.ledger()["messages"]) - before,
        }
    finally:
        stop.set()
        if worker is not None:
            worker.join(60)
        sim.stop()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--dom", nargs="+", default=["2024", "2026"], choices=["2024", "2026"])
    args = ap.parse_args()
    logging.getLogger("worker").setLevel(logging.WARNING)
    print(
        f"simulator default boot_time={Simulator(port=0).settings['boot_time']} s; {args.runs} runs per case; "
        "time = `python tui.py doctor --json` wall clock"
    )
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        for dom in args.dom:
            for case in ("shipped", "broken", "held"):
                r = run_case(dom, case, args.runs, Path(tmp))
                print(
                    f"dom {dom} {case:>7}: median {r['median']:.1f} s, worst {r['worst']:.1f} s "
                    f"(inside the doctor {r['in_doctor']:.1f} s), ratio worst/target {r['worst'] / TARGET:.2f}; "
                    f"keys to fix {len(r['fixable'])}{' ' + ','.join(r['fixable']) if r['fixable'] else ''}; "
                    f"unfixed {r['unfixed'] or 'none'}; messages sent by the doctor {r['sent_by_doctor']}"
                )
                ok = ok and r["worst"] <= TARGET and r["sent_by_doctor"] == 0 and not r["unfixed"]
                if case == "broken":
                    ok = ok and set(r["fixable"]) >= set(BROKEN)
    print("PASS" if ok else "MISS")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
