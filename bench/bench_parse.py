"""Benchmark: plan_import on a 100,000-row CSV against the phonenumbers floor.

    .venv/bin/python bench/bench_parse.py [--rows 100000] [--region IN]

Generates a realistic CSV in a temp dir (mixed formats: +91…, 0091…, national
with and without trunk 0, spaces, dashes, brackets, a leading ', some invalid,
some duplicates), then prints:
  floor  = phonenumbers normalising the raw values (parse, is_valid_number, format E.164), one process
  plan   = contacts.plan_import (read + normalise + dedupe + render), end to end
  ratio  = plan / floor (wall and CPU seconds)
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import phonenumbers

from contacts import plan_import

FIRST = [
    "Asha",
    "Ravi",
    "José",
    "Priya",
    "Arjun",
    "Meera",
    "Vikram",
    "Sara",
    "Li",
    "Omar",
    "Fatima",
    "John",
    "Anita",
    "Rahul",
    "Zoë",
    "Kiran",
]
LAST = ["Sharma", "Patel", "García", "Iyer", "Khan", "Singh", "Müller", "Reddy", "Das", "Nair"]
CITIES = ["Pune", "Mumbai", "Delhi", "Chennai", "Kolkata", "Bengaluru", "Goa"]


def make_numbers(n: int, rng: random.Random) -> list[str]:
    out = []
    pool: list[str] = []
    for _ in range(n):
        k = rng.random()
        if pool and k < 0.03:  # duplicates, written differently
            d = rng.choice(pool)
            out.append(rng.choice([f"+91 {d}", f"0{d}", d, f"0091-{d[:5]}-{d[5:]}"]))
            continue
        if k < 0.06:  # invalid
            out.append(
                rng.choice(
                    [
                        "12345",
                        "n/a",
                        "",
                        "+91 12345 678",
                        "98765432101234",
                        "9.19877E+11",
                        "+999 555 1234",
                        "call me",
                        "0000000000",
                    ]
                )
            )
            continue
        d = str(rng.randint(6_000_000_000, 9_999_999_999))
        pool.append(d)
        f = rng.random()
        if f < 0.25:
            s = f"+91 {d[:5]} {d[5:]}"
        elif f < 0.40:
            s = f"0091{d}"
        elif f < 0.55:
            s = d
        elif f < 0.68:
            s = f"+91-{d[:3]}-{d[3:6]}-{d[6:]}"
        elif f < 0.78:
            s = f"0{d}"
        elif f < 0.86:
            s = f"91{d}"
        elif f < 0.92:
            s = f"(+91) {d[:5]}.{d[5:]}"
        elif f < 0.96:
            s = f"'{d}"
        else:
            s = f"+91{d}"
        out.append(s)
    return out


def write_csv(path: Path, numbers: list[str], rng: random.Random) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["First Name", "Last Name", "Mobile Phone", "City"])
        for num in numbers:
            w.writerow([rng.choice(FIRST), rng.choice(LAST), num, rng.choice(CITIES)])


def cpu() -> float:
    """CPU seconds of this process and its reaped children (the forked helper)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def floor(numbers: list[str], region: str, *, e164: bool = True) -> tuple[float, float]:
    """phonenumbers alone normalising every raw value: parse, is_valid_number and (e164)
    format_number(E164) for the valid ones, in one process. What no import can beat."""
    c, t = cpu(), time.perf_counter()
    fmt, E164 = phonenumbers.format_number, phonenumbers.PhoneNumberFormat.E164
    for s in numbers:
        try:
            num = phonenumbers.parse(s, region)
            if phonenumbers.is_valid_number(num) and e164:
                fmt(num, E164)
        except phonenumbers.NumberParseException:
            pass
    return time.perf_counter() - t, cpu() - c


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--region", default="IN")
    ap.add_argument("--repeat", type=int, default=3, help="best of N plan_import runs")
    args = ap.parse_args()
    rng = random.Random(42)
    numbers = make_numbers(args.rows, rng)
    template = "{Hi|Hello|Hey} {First Name}! {Our|The} {new|latest} offer for {City} 🎉\nReply STOP to opt out."
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "contacts.csv"
        write_csv(path, numbers, rng)
        size = path.stat().st_size
        fl, fl_cpu = floor(numbers, args.region)
        best = best_cpu = None
        for _ in range(max(1, args.repeat)):
            c, t = cpu(), time.perf_counter()
            plan = plan_import(path, template, region=args.region, seed=1)
            dt, dc = time.perf_counter() - t, cpu() - c
            if best is None or dt < best:
                best, best_cpu = dt, dc
    print(f"rows: {args.rows:,}  file: {size / 1e6:.1f} MB  region: {args.region}")
    print(f"summary: {plan.summary()}")
    print(f"load average: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(f"floor  phonenumbers parse+valid+E.164, 1 process:     {fl:6.2f} s wall {fl_cpu:6.2f} s CPU")
    label = f"plan   plan_import (best of {args.repeat}):"
    print(
        f"{label:<53}{best:6.2f} s wall {best_cpu:6.2f} s CPU"
        f"   ratio {best / fl:4.2f} wall {best_cpu / fl_cpu:4.2f} CPU"
    )


if __name__ == "__main__":
    main()
