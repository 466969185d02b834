"""Time as the worker sees it: injectable so tests can drive the daily cap and the window."""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    """Time as the worker sees it (injectable so tests can move it)."""

    def now(self) -> float:
        """Seconds since the epoch (the times written into the database)."""

    def sleep(self, seconds: float) -> None:
        """Wait; the worker only ever asks for short slices (<= 0.2 s)."""

    def localtime(self, t: float | None = None) -> time.struct_time:
        """Local time of `t` (default: now)."""


class SystemClock:
    """The machine's clock."""

    def now(self) -> float:
        return time.time()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)

    def localtime(self, t: float | None = None) -> time.struct_time:
        return time.localtime(self.now() if t is None else t)


class FakeClock:
    """A clock that only moves when told to (`set`, `advance`); `sleep` waits for real, briefly,
    so the worker's loops keep turning while the test moves the time."""

    def __init__(self, start: float) -> None:
        self.t = float(start)

    def now(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        time.sleep(min(max(seconds, 0.0), 0.02))

    def localtime(self, t: float | None = None) -> time.struct_time:
        return time.localtime(self.t if t is None else t)

    def set(self, t: float) -> None:
        self.t = float(t)

    def advance(self, seconds: float) -> None:
        self.t += seconds
