"""SIGHUP and SIGTERM turned into a quit, for as long as a `with StopSignals()` lasts.

Python's default for both is to die on the spot, skipping every `finally`. The demo's
simulator and supervisor run in sessions of their own (they may outlive it: `n` at its
quit question), so the closing terminal's SIGHUP does not reach them: only the demo's
own exit path stops them, and it must run. While a `StopSignals` is active a
signal is noted and handed to the action given to `then()` (the dashboard's quit), and
the code after the dashboard runs as after `q`.

After a hangup the terminal answers every read and write with EIO. Textual's output
thread dies on its first failed write, and every later write waits for room in its full
queue: the quit itself would hang. And the kernel sends SIGCONT with the hangup, on which
Textual starts its screen again (as after Ctrl+Z). So on SIGHUP the standard streams that
were the terminal are pointed at /dev/null and SIGCONT does nothing any more: there is
nothing left to show or resume.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any

SIGNALS = (signal.SIGHUP, signal.SIGTERM)


class StopSignals:
    def __init__(self) -> None:
        self.received: int | None = None
        self._action: Callable[[], None] | None = None
        self._old: dict[int, Any] = {}
        self._terminal_fds: list[int] = []

    def __enter__(self) -> StopSignals:
        # Known now: once hung up, a terminal no longer even says it is one.
        self._terminal_fds = [fd for fd in (0, 1, 2) if os.isatty(fd)]
        # Handlers can only be set from the main thread (a test may run us in another).
        if threading.current_thread() is threading.main_thread():
            for sig in SIGNALS:
                # Under nohup the user asked to outlive the terminal.
                if sig == signal.SIGHUP and signal.getsignal(sig) is signal.SIG_IGN:
                    continue
                self._old[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *_exc: object) -> None:
        for sig, old in self._old.items():
            signal.signal(sig, old)
        self._old.clear()

    def then(self, action: Callable[[], None]) -> None:
        """Run `action` on the next signal, at once if one came already. It runs inside
        the signal handler, in whatever the main thread was doing: it must only schedule."""
        self._action = action
        if self.received is not None:
            action()

    def _handle(self, signum: int, _frame: FrameType | None) -> None:
        if signum == signal.SIGHUP:
            self._let_go_of_the_terminal()
        self.received = signum
        if self._action is not None:
            self._action()

    def _let_go_of_the_terminal(self) -> None:
        # A Python no-op, not SIG_IGN: a SIGCONT already pending would be reported as
        # "ignored due to race condition". Not restored on exit: the terminal is gone.
        signal.signal(signal.SIGCONT, _nothing)
        null = os.open(os.devnull, os.O_RDWR)
        try:
            for fd in self._terminal_fds:
                os.dup2(null, fd)
        finally:
            os.close(null)


def _nothing(_signum: int, _frame: FrameType | None) -> None:
    pass


def say(text: str, *, err: bool = False) -> None:
    """Print a line for the user, who may have closed the terminal already (SIGHUP): then
    the write fails, and there is nobody left to tell."""
    try:
        print(text, file=sys.stderr if err else sys.stdout, flush=True)
    except OSError:
        pass
