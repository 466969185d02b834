"""The real worker in a test: `run_worker` in a thread (its own stop event), and short
reads of what it wrote to the store."""

from __future__ import annotations

import threading
from typing import Any

from store import Store
from worker.runner import run_worker


class WorkerThread:
    """run_worker in a thread, with its own stop event."""

    def __init__(self, cfg: Any, **kwargs: Any) -> None:
        self.stop_event = threading.Event()
        self.code: int | None = None
        self.thread = threading.Thread(target=self._run, args=(cfg,), kwargs=kwargs, daemon=True)

    def _run(self, cfg: Any, **kwargs: Any) -> None:
        self.code = run_worker(cfg, stop_event=self.stop_event, **kwargs)

    def start(self) -> WorkerThread:
        self.thread.start()
        return self

    def stop(self, timeout: float = 20) -> int | None:
        self.stop_event.set()
        self.thread.join(timeout)
        assert not self.thread.is_alive(), "worker did not stop"
        return self.code


def status_of(store: Store, mid: int) -> str:
    row = store.message(mid)
    assert row is not None
    return row["status"]


def ids_of(store: Store, job: int) -> list[int]:
    return [m["id"] for m in store.iter_messages(job)]


def worker_row(store: Store) -> dict[str, Any]:
    return store.latest_worker() or {"state": None, "qr": None, "browser_pids": [], "info": {}}
