"""What the worker's parts share, narrowly: the signals that steer them (`Controls`) and
one `WorkerContext` (store, settings, account, clock, page, heartbeat, controls) handed to
the session, the sender, the verifier, the reply reader, the attention keeper and the
healer instead of the whole `Worker`.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from common import runfiles
from settings import Config
from store import Store

from .clock import Clock
from .errors import Interrupted
from .heartbeat import Heartbeat
from .page import WhatsAppPage

log = logging.getLogger("worker")

SLICE = 0.2  # seconds: the longest the worker sleeps between two looks at the signals


class Controls:
    """Stop, pause and restart as the signal files, the stop event and the supervisor's
    life say them. `clicked` is set between the send click and its outcome: a pause then
    waits for the outcome; only a stop ends the step."""

    def __init__(
        self, run_dir: Path, account: str, stop_event: threading.Event, clock: Clock, supervisor_pid: int | None
    ) -> None:
        self.run_dir = run_dir
        self.own_dir = runfiles.account_dir(run_dir, account)
        self.stop_event = stop_event
        self.clock = clock
        self.supervisor_pid = supervisor_pid
        self.clicked = False

    def control(self) -> str | None:
        """ "stop", "pause" or None."""
        if self.stop_event.is_set() or self.flag(runfiles.STOP) or self.orphaned():
            return "stop"
        if self.flag(runfiles.PAUSE):
            return "pause"
        return None

    def flag(self, name: str) -> bool:
        """This account's signal file, or the global one (pause and stop act on every account)."""
        return runfiles.is_set(self.own_dir, name) or runfiles.is_set(self.run_dir, name)

    def held(self) -> bool:
        """The selector doctor asks for the browser profile."""
        return runfiles.is_set(self.own_dir, runfiles.HOLD)

    def take_restart(self) -> bool:
        """A restart asked for this account; a worker without a supervisor also takes the
        global one (the supervisor hands that one to every account)."""
        mine = runfiles.clear_flag(self.own_dir, runfiles.RESTART)
        if self.supervisor_pid is None:
            mine = runfiles.clear_flag(self.run_dir, runfiles.RESTART) or mine
        return mine

    def orphaned(self) -> bool:
        """Our supervisor is gone (SIGKILL): nothing watches us any more, so we stop."""
        if self.supervisor_pid is None or os.getppid() == self.supervisor_pid:
            return False
        if not self.stop_event.is_set():
            log.warning("the supervisor (pid %d) is gone: stopping", self.supervisor_pid)
            self.stop_event.set()
        return True

    def step_check(self) -> None:
        """Called inside every browser wait: a stop always ends the step, a pause only before the click."""
        c = self.control()
        if c == "stop" or (c == "pause" and not self.clicked):
            raise Interrupted(c)

    def nap(self, seconds: float = SLICE) -> None:
        """Sleep up to `seconds` in slices, returning early when a signal file appears or goes."""
        start = self.control()
        end = time.monotonic() + seconds
        while True:
            left = end - time.monotonic()
            if left <= 0:
                return
            self.clock.sleep(min(SLICE, left))
            if self.control() != start:
                return


@dataclass
class WorkerContext:
    """The narrow view of one worker that its parts work with."""

    store: Store
    cfg: Config
    clock: Clock
    hb: Heartbeat
    controls: Controls
    worker_id: str
    page: WhatsAppPage | None = None

    @property
    def account(self) -> str:
        return self.cfg.account_name

    def need_page(self) -> WhatsAppPage:
        if self.page is None:
            raise RuntimeError("the browser is not started")
        return self.page

    def alive(self) -> bool:
        """The browser answers."""
        page = self.page
        if page is None:
            return False
        try:
            page.driver.execute_script("return 1")
            return True
        except Exception:
            return False
