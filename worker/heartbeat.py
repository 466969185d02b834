"""The worker row: state, current message, QR string, browser pids, written on every
change and at least every `worker.heartbeat_interval` seconds (the supervisor's watchdog)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from store import Store

log = logging.getLogger("worker")


class Heartbeat:
    """The worker's row in the store: its state and figures, written on every change and
    at least every `interval` seconds from a thread of its own (the supervisor's watchdog)."""

    def __init__(
        self, store: Store, worker_id: str, interval: float, pids: Callable[[], list[int]], **info: Any
    ) -> None:
        self.store = store
        self.worker_id = worker_id
        self.interval = min(interval, 5.0)
        self.pids = pids
        self.sent_this_run = 0
        self._lock = threading.Lock()
        self._row: dict[str, Any] = {
            "state": "starting",
            "current_message_id": None,
            "qr": None,
            "info": {"login": None, "sent_this_run": 0, **info},
        }
        self._written: tuple[Any, ...] = ()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def state(self) -> str:
        with self._lock:
            return str(self._row["state"])

    def info(self, key: str) -> Any:
        with self._lock:
            return self._row["info"].get(key)

    def qr(self) -> str | None:
        with self._lock:
            qr = self._row["qr"]
            return str(qr) if qr is not None else None

    def set(self, state: str, *, current_message_id: Any = ..., qr: Any = ..., **info: Any) -> None:
        """A new state; written at once when it differs from the last one written."""
        with self._lock:
            row = self._row
            row["state"] = state
            if current_message_id is not ...:
                row["current_message_id"] = current_message_id
            if qr is not ...:
                row["qr"] = qr
            # A detail describes the state it came with: a new state without one clears it.
            row["info"]["detail"] = info.pop("detail", None)
            row["info"].update(info)
            row["info"]["sent_this_run"] = self.sent_this_run
            key = (state, row["current_message_id"], row["qr"], row["info"].get("login"), row["info"]["detail"])
            changed = key != self._written
        if changed:
            self.write()

    def note(self, **info: Any) -> None:
        """Figures for the next write (no new state, no write of its own)."""
        with self._lock:
            self._row["info"].update(info)

    def write(self) -> None:
        """Write the row now (a busy database is logged, never raised: the next beat retries)."""
        try:
            pids = self.pids()
            with self._lock:
                row = dict(self._row)
                row["info"] = dict(self._row["info"])
                self._written = (
                    row["state"],
                    row["current_message_id"],
                    row["qr"],
                    row["info"].get("login"),
                    row["info"].get("detail"),
                )
            self.store.heartbeat(
                self.worker_id,
                state=row["state"],
                current_message_id=row["current_message_id"],
                qr=row["qr"],
                browser_pids=pids,
                info=row["info"],
            )
        except Exception as exc:  # a busy database must not kill the worker
            log.warning("heartbeat failed: %s", exc)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="worker-heartbeat", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self.write()
