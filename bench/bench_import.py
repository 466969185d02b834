"""End-to-end import of a 100,000-row CSV: `python tui.py import` as a user runs it.

    .venv/bin/python bench/bench_import.py [--rows 100000] [--region IN]

Prints the wall time of the whole command (Python start-up, reading, normalising,
rendering, one transaction into SQLite), the phonenumbers-only floor (phonenumbers
normalising the same raw values to E.164 in one process: parse, is_valid_number,
format_number; measured in the same run) and their ratio. Target (issue 10): import end
to end <= 2 x that floor. The floor without the E.164 formatting is printed too.
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

from bench_parse import floor, make_numbers, write_csv


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
                [
                    sys.executable,
                    str(ROOT / "tui.py"),
                    "--db",
                    str(db),
                    "import",
                    str(csv_path),
                    "--template",
                    "{Hi|Hello} {name}, your code is {phone}",
                    "--region",
                    args.region,
                    "--json",
                ],
                capture_output=True,
                text=True,
            )
            times.append(time.perf_counter() - t)
            c1 = os.times()
            cpus.append((c1.children_user - c0.children_user) + (c1.children_system - c0.children_system))
            if proc.returncode != 0:
                print(proc.stderr, file=sys.stderr)
                return 1
            summary = json.loads(proc.stdout)["summary"]
        best = min(times)
        base, base_cpu = floor(numbers, args.region)
        bare, _ = floor(numbers, args.region, e164=False)
        print(
            f"rows: {args.rows:,}  queued {summary['queued']:,}, invalid {summary['invalid']:,}, "
            f"duplicates {summary['duplicates']:,}"
        )
        print(
            f"import end to end (python tui.py import, best of {args.runs}): {best:.2f} s "
            f"(all: {', '.join(f'{t:.2f}' for t in times)}; CPU {min(cpus):.2f} s)"
        )
        print(f"floor: phonenumbers normalising (parse, valid, E.164), 1 process: {base:.2f} s (CPU {base_cpu:.2f} s)")
        print(f"       (parse + is_valid_number only: {bare:.2f} s, ratio {best / bare:.2f})")
        print(f"load average: {os.getloadavg()[0]:.1f}")
        ratio = best / base
        print(f"ratio import / floor:                                        {ratio:.2f} (target <= 2.0)")
        print("PASS" if ratio <= 2.0 else "MISS")
    return 0 if ratio <= 2.0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
