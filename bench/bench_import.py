"""End-to-end import of a 100,000-row CSV: `python tui.py import` as a user runs it.

    .venv/bin/python bench/bench_import.py [--rows 100000] [--region IN]

Prints the wall time of the whole command (Python start-up, reading, normalising,
rendering, one transaction into SQLite), the phonenumbers floor (parse +
is_valid_number on the same raw values in one process) and their ratio.
Target (issue 2): at most 5 s on a 2-core machine.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_parse import floor, make_numbers, write_csv  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--region", default="IN")
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    rng = random.Random(42)
    numbers = make_numbers(args.rows, rng)
    with tempfile.TemporaryDirectory() as tmp:
        csv_path = Path(tmp) / "contacts.csv"
        write_csv(csv_path, numbers, rng)
        times = []
        cpus = []
        for i in range(args.runs):
            db = Path(tmp) / f"run{i}.db"
            t = time.perf_counter()
            c0 = os.times()
            proc = subprocess.run(
                [sys.executable, str(ROOT / "tui.py"), "--db", str(db), "import", str(csv_path),
                 "--template", "{Hi|Hello} {name}, your code is {phone}", "--region", args.region, "--json"],
                capture_output=True, text=True)
            times.append(time.perf_counter() - t)
            c1 = os.times()
            cpus.append((c1.children_user - c0.children_user) + (c1.children_system - c0.children_system))
            if proc.returncode != 0:
                print(proc.stderr, file=sys.stderr)
                return 1
            summary = json.loads(proc.stdout)["summary"]
        best = min(times)
        base, base_cpu = floor(numbers, args.region)
        print(f"rows: {args.rows:,}  queued {summary['queued']:,}, invalid {summary['invalid']:,}, "
              f"duplicates {summary['duplicates']:,}")
        print(f"import end to end (python tui.py import, best of {args.runs}): {best:.2f} s "
              f"(all: {', '.join(f'{t:.2f}' for t in times)}; CPU {min(cpus):.2f} s)  target <= 5 s, ratio to target {best / 5:.2f}")
        print(f"floor: phonenumbers parse + is_valid_number, 1 process:      {base:.2f} s (CPU {base_cpu:.2f} s)")
        print(f"load average: {os.getloadavg()[0]:.1f}")
        print(f"ratio import / floor:                                        {best / base:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
