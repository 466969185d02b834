"""The seeds of the chaos tests, in one place.

Every test that kills processes at random moments (or picks anything at random) takes
its seed from `SEEDS` through the `chaos_seed` fixture (tests/e2e/conftest.py): each test
has its own seed of the list, the same on every run, so a red run is red again when run
again. The seed is printed in the failure report ("chaos seed" section) with the command
that replays it:

    CHAOS_SEED=N .venv/bin/python -m pytest 'tests/e2e/test_chaos.py::test_...'

`CHAOS_SEED=N` replays seed N in every chaos test that runs; `CHAOS_SEED=random` draws a
fresh seed for each (printed too): a way to look for new schedules. A seed that once
found a bug belongs in the list."""

from __future__ import annotations

import os
import random
import zlib

SEEDS: tuple[int, ...] = (
    271828,
    314159,
    161803,
    141421,
    173205,
    223606,
    57721,
    662607,
)

ENV = "CHAOS_SEED"


def seed_for(test_name: str) -> int:
    """The seed of one test: `CHAOS_SEED` when set, else its own entry of `SEEDS` (chosen
    by a stable hash of the test's name, so it never changes from run to run)."""
    forced = os.environ.get(ENV, "").strip()
    if forced == "random":
        return random.SystemRandom().randrange(1_000_000)
    if forced:
        try:
            return int(forced)
        except ValueError:
            raise ValueError(f"{ENV}={forced!r}: a whole number, or 'random'") from None
    return SEEDS[zlib.crc32(test_name.encode()) % len(SEEDS)]
