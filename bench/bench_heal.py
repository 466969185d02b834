"""Self-repair when WhatsApp Web changes its page: how long sending stalls, and how many
page variants the worker repairs without a person.

    .venv/bin/python bench/bench_heal.py [--mid-seeds 5] [--sweep 52] [--skip-mid] [--skip-sweep]

1. **Mid-job at default pacing**: for each of `--mid-seeds` seeds, a worker with the
   shipped config.toml and the shipped pacing (4-8 s between messages, a long pause every
   10) sends a job; after its first message the simulator switches to the seed's build
   (`--mutate`). Measured: the time from the first message claimed on the new build to the
   first message sent after the repair (target <= 120 s; median and worst), duplicates in
   the ledger (0), messages left `unknown` (0: they are verified again).
2. **Sweep**: `--sweep` seeds (at least 50), four groups (2024 and 2026 generations, English
   and Portuguese pages), one worker per group at zero pacing, the shipped config reset
   before each seed: a job of 4 messages on the seed's build from its start. Counted:
   variants finished with every message exactly once and no person (repaired, or never
   broken), and for the others why (the repair's own reason). Target >= 90 %, 0 duplicates.

Prints figures and ratios to the targets; nothing contacts anything but 127.0.0.1.
"""

from __future__ import annotations

import argparse
import collections
import logging
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import tomlkit

import settings
from simulator import Simulator
from store import Store
from worker.runner import run_worker

TARGET_STALL = 120.0
TARGET_RATE = 0.90
PROBE = "wa-sender self-check ✓"


def write_config(d: Path, url: str, *, lang: str, default_pacing: bool) -> Path:
    """The shipped config, its selectors and (with `default_pacing`) its pacing untouched."""
    doc = tomlkit.parse((ROOT / "config.toml").read_text(encoding="utf-8"))
    doc["paths"].update({"database": f"{d}/db.sqlite", "run_dir": f"{d}/run", "log_dir": f"{d}/logs"})
    doc["browser"].update({"profile_dir": f"{d}/profile", "whatsapp_url": url, "language": lang})
    doc["heal"]["max_probes_per_hour"] = 60
    if not default_pacing:
        doc["sending"].update({"delay_min": 0.0, "delay_max": 0.0, "long_pause_every": 0, "link_preview_wait": 0.0})
        doc["browser"]["ack_timeout"] = 10.0
    d.mkdir(parents=True, exist_ok=True)
    path = d / "config.toml"
    path.write_text(tomlkit.dumps(doc), encoding="utf-8")
    return path


class Worker:
    """run_worker in a thread; restarted when it asks to be (a supervisor's job)."""

    def __init__(self, cfg_path: Path) -> None:
        self.cfg_path = cfg_path
        self.stop_event = threading.Event()
        self.code: int | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stop_event.is_set():
            self.code = run_worker(settings.load(self.cfg_path), stop_event=self.stop_event)
            if self.code != 75:
                return

    def stop(self) -> None:
        self.stop_event.set()
        self.thread.join(60)


def wait(pred: Any, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.2)
    return False


def ledger_check(sim: Simulator, sent: dict[str, str]) -> tuple[int, int]:
    """(duplicates, missing) among the contacts' messages; probes go only to the own chat."""
    own = sim.settings["own_number"]
    got = collections.Counter((m["phone"], m["text"]) for m in sim.ledger()["messages"] if m["phone"] != own)
    dup = sum(n - 1 for n in got.values() if n > 1)
    missing = sum(1 for item in sent.items() if item not in got)
    assert all(m["text"] == PROBE for m in sim.ledger()["messages"] if m["phone"] == own)
    return dup, missing


# ----------------------------------------------------------------------------- 1. mid-job


def mid_job(seed: int, dom: str, tmp: Path) -> dict[str, Any]:
    sim = Simulator(port=0, dom=dom).start()  # default boot, ack and poll timings
    sim.login()
    cfg_path = write_config(tmp, sim.url, lang="en-US", default_pacing=True)
    cfg = settings.load(cfg_path)
    store = Store(cfg.paths.database)
    texts = {f"+1202570{seed % 10}{i:03d}": f"Offer {i} for you 🎁" for i in range(8)}
    job = store.create_job(f"mid {seed}", "t", [{"phone": p, "text": t} for p, t in texts.items()])
    worker = Worker(cfg_path)
    try:
        assert wait(lambda: store.counts(job)["sent"] >= 1, 120), "no first message"
        t_mut = time.time()
        sim.configure(mutate=seed)
        done = wait(lambda: store.get_job(job)["status"] == "completed", 600)
        msgs = list(store.iter_messages(job))
        repairs = [e for e in store.events(limit=500) if e["kind"] == "selectors_repaired"]
        after = sorted(m["claimed_at"] for m in msgs if m["claimed_at"] and m["claimed_at"] >= t_mut)
        first_fail = after[0] if after else None
        t_rep = min((e["at"] for e in repairs), default=None)
        resumed = sorted(m["sent_at"] for m in msgs if m["sent_at"] and t_rep and m["claimed_at"] >= t_rep)
        stall = (resumed[0] - first_fail) if (resumed and first_fail) else None
        dup, missing = ledger_check(sim, texts)
        return {
            "seed": seed,
            "dom": dom,
            "done": done,
            "repaired": bool(repairs),
            "stall": stall,
            "dup": dup,
            "missing": missing,
            "unknown": store.counts(job)["unknown"],
        }
    finally:
        worker.stop()
        store.close()
        sim.stop()


# ----------------------------------------------------------------------------- 2. sweep


def sweep_group(dom: str, lang: str, seeds: list[int], tmp: Path) -> list[dict[str, Any]]:
    sim = Simulator(port=0, boot_time=0.5, ack_delay=0.1, dblcheck_delay=0.3, dom=dom, lang=lang).start()
    sim.login()
    cfg_path = write_config(tmp, sim.url, lang=lang, default_pacing=False)
    store = Store(settings.load(cfg_path).paths.database)
    worker = Worker(cfg_path)
    out = []
    sent: dict[str, str] = {}
    try:
        for n, seed in enumerate(seeds):
            write_config(tmp, sim.url, lang=lang, default_pacing=False)  # the shipped selectors again
            time.sleep(2.5)  # the worker looks at the file every 2 s
            sim.configure(mutate=seed)
            texts = {f"+1202571{n:02d}{i:02d}": f"Olá {i}, build {seed} 👋" for i in range(4)}
            sent.update(texts)
            repairs_before = sum(1 for e in store.events(limit=1000) if e["kind"] == "selectors_repaired")
            job = store.create_job(f"sweep {seed}", "t", [{"phone": p, "text": t} for p, t in texts.items()])
            done = wait(lambda: store.get_job(job)["status"] == "completed", 150)  # noqa: B023
            stop = store.get_attention("default")
            why = None
            if not done:
                heal = (stop or {}).get("heal") or {}
                why = heal.get("reason") or (
                    f"stopped on {stop.get('key')}: {heal.get('state') or 'no repair'}"
                    if stop
                    else f"not finished: {store.counts(job)}"
                )
                store.clear_attention(why="bench: next seed")
                store.set_job_status(job, "stopped")
            repairs = sum(1 for e in store.events(limit=1000) if e["kind"] == "selectors_repaired") - repairs_before
            dup, missing = ledger_check(sim, texts)
            out.append(
                {
                    "seed": seed,
                    "dom": dom,
                    "lang": lang,
                    "done": done and missing == 0,
                    "dup": dup,
                    "repaired": repairs > 0,
                    "why": why,
                }
            )
            print(
                f"  seed {seed:>3} {dom} {lang}: {'ok' if done else 'NOT repaired'}"
                f"{' (repaired)' if repairs else ' (nothing broke)'}{'' if not why else ': ' + why[:100]}"
                f"{'' if not dup else f', {dup} DUPLICATES'}",
                flush=True,
            )
    finally:
        worker.stop()
        store.close()
        sim.stop()
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mid-seeds", type=int, default=5)
    ap.add_argument("--sweep", type=int, default=52)
    ap.add_argument("--skip-mid", action="store_true")
    ap.add_argument("--skip-sweep", action="store_true")
    args = ap.parse_args()
    logging.basicConfig(level=logging.ERROR)
    tmp = Path(tempfile.mkdtemp(prefix="bench-heal-"))
    if not args.skip_mid:
        print(f"1. a new build mid-job at the shipped pacing, {args.mid_seeds} seeds:", flush=True)
        rows = []
        for i, seed in enumerate(range(101, 101 + args.mid_seeds)):
            dom = "2026" if i % 2 == 0 else "2024"
            r = mid_job(seed, dom, tmp / f"mid-{seed}")
            rows.append(r)
            stall = f"{r['stall']:.1f} s" if r["stall"] is not None else "-"
            print(
                f"  seed {seed} ({dom}): finished {r['done']}, repaired {r['repaired']}, stall {stall}, "
                f"duplicates {r['dup']}, missing {r['missing']}, unknown {r['unknown']}",
                flush=True,
            )
        stalls = [r["stall"] for r in rows if r["stall"] is not None]
        if stalls:
            med, worst = statistics.median(stalls), max(stalls)
            print(
                f"  first failed message -> next message sent after the repair: median {med:.1f} s, worst "
                f"{worst:.1f} s (target <= {TARGET_STALL:.0f} s, ratio {worst / TARGET_STALL:.2f})"
            )
        print(
            f"  duplicates {sum(r['dup'] for r in rows)}, unknown left {sum(r['unknown'] for r in rows)}, "
            f"finished {sum(r['done'] for r in rows)}/{len(rows)}"
        )
    if not args.skip_sweep:
        groups = [("2024", "en-US"), ("2024", "pt-BR"), ("2026", "en-US"), ("2026", "pt-BR")]
        seeds = list(range(1, args.sweep + 1))
        print(f"2. sweep over {len(seeds)} builds (4 groups), shipped config reset before each:", flush=True)
        results: list[dict[str, Any]] = []
        for g, (dom, lang) in enumerate(groups):
            mine = seeds[g :: len(groups)]
            results += sweep_group(dom, lang, mine, tmp / f"sweep-{dom}-{lang}")
        ok = [r for r in results if r["done"]]
        rate = len(ok) / len(results)
        print(
            f"  finished without a person: {len(ok)}/{len(results)} ({rate:.0%}; target >= {TARGET_RATE:.0%}, "
            f"ratio {rate / TARGET_RATE:.2f}); repaired by itself {sum(r['repaired'] for r in ok)}, "
            f"nothing broke {sum(not r['repaired'] for r in ok)}; duplicates {sum(r['dup'] for r in results)}"
        )
        for r in results:
            if not r["done"]:
                print(f"  not repaired: seed {r['seed']} ({r['dom']}, {r['lang']}): {r['why']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
