"""The one way the tests wait: poll a condition until it holds, or fail saying what was
awaited (and, when given, what was last seen). Never a fixed sleep where a condition can
be polled.

`wait_until` for ordinary code, `await_until` inside a Textual pilot (it yields to the
app's event loop between two looks), and `holds_for`: the one fixed wait, for what must
stay true for a while (nothing sent during an outage, a state kept)."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


class TimedOut(AssertionError):
    """The condition did not hold in time (a test that expects it not to may catch this)."""


def wait_until(
    pred: Callable[[], T],
    timeout: float = 15.0,
    what: str = "condition",
    *,
    interval: float = 0.05,
    proc: subprocess.Popen[Any] | None = None,
    ignore: tuple[type[BaseException], ...] = (),
    seen: Callable[[], Any] | None = None,
) -> T:
    """Return `pred()`'s first truthy value. Fail after `timeout` seconds; fail at once when
    `proc` (a process the condition depends on) has exited. Exceptions of the types in
    `ignore` count as "not yet" (a page element redrawn between two looks); any other
    exception, an AssertionError included, ends the wait: a predicate may assert what must
    hold all along. `seen()` is added to the failure message."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = pred()
        except ignore:
            value = None  # type: ignore[assignment]
        if value:
            return value
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"the process exited ({proc.returncode}) while waiting for {what}{_seen(seen)}")
        if time.monotonic() >= deadline:
            raise TimedOut(f"timed out after {timeout:g} s waiting for {what}{_seen(seen)}")
        time.sleep(interval)


def holds_for(seconds: float, check: Callable[[], Any], *, interval: float = 0.5) -> None:
    """Call `check` every `interval` seconds for `seconds` seconds: it asserts, or returns a
    value that must be true (a predicate; None counts as "it asserted nothing wrong")."""
    start = time.monotonic()
    deadline = start + seconds
    while True:
        value = check()
        if value is not None and not value:
            raise AssertionError(f"stopped holding after {time.monotonic() - start:.1f} s (of {seconds:g} s)")
        left = deadline - time.monotonic()
        if left <= 0:
            return
        time.sleep(min(interval, left))


async def await_until(pilot: Any, pred: Callable[[], T], timeout: float = 5.0, what: str = "condition") -> T:
    """`wait_until` inside a Textual pilot: the app runs between two looks."""
    deadline = time.monotonic() + timeout
    while True:
        value = pred()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise TimedOut(f"timed out after {timeout:g} s waiting for {what}")
        await pilot.pause(0.02)


def _seen(seen: Callable[[], Any] | None) -> str:
    if seen is None:
        return ""
    try:
        return f"; last seen: {seen()}"
    except Exception as exc:  # the failure message must not hide the timeout
        return f"; last seen: (unavailable: {exc})"
