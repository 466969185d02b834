"""A page that reloads under a message being prepared gives it back without using an
attempt (tests/e2e/test_page_waits.py shows it in Chromium), but only a few times in a
row: a page that reloads under every message is a broken page, and its failures count."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import settings
from store import Store
from tests.support.config import write_config
from worker import sending
from worker.clock import SystemClock
from worker.errors import SelectorNotFound
from worker.runner import Worker


class ReloadingPage:
    """Reloads whenever a chat is opened: the chat never shows."""

    def __init__(self) -> None:
        self.failed_keys: dict[str, str] = {}
        self.driver = self
        self.looks = 0

    def execute_script(self, *_args: Any) -> int:  # the context's "the browser answers"
        return 1

    def open_chat(self, phone: str) -> None:
        self.failed_keys["chat_open"] = "the chat did not open within 5 s"
        raise SelectorNotFound("chat_open", "the chat did not open within 5 s")

    def reloaded(self) -> bool:
        self.looks += 1
        return True

    def session(self) -> dict[str, str]:
        return {"login": "logged_in"}


def test_a_page_that_reloads_under_every_message_is_counted_after_a_few(tmp_path: Path) -> None:
    cfg = settings.load(write_config(tmp_path, "http://127.0.0.1:9"))
    store = Store(cfg.paths.database)
    try:
        store.create_job("j", "Hi", [{"phone": f"+1202555{n:04d}", "text": "Hi"} for n in range(1, 7)])
        worker = Worker(cfg, store, SystemClock(), threading.Event(), "w1")
        page = ReloadingPage()
        worker.ctx.page = page  # type: ignore[assignment]
        results = []
        for _ in range(sending.RELOADS_FORGIVEN + 2):
            msg = store.claim("w1")
            assert msg is not None
            out = worker.sender.process(msg)
            row = store.message(msg.id)
            assert row is not None
            results.append((msg.id, out.result, row["attempts"], bool(out.failed_keys)))
        # The same message each time (given back, it is the next due): its attempts count
        # only once the page has reloaded under RELOADS_FORGIVEN messages in a row.
        forgiven = [(1, sending.Result.RELEASED, 0, False)] * sending.RELOADS_FORGIVEN
        counted = [(1, sending.Result.RETRY, 1, True), (1, sending.Result.RETRY, 2, True)]
        assert results == forgiven + counted
    finally:
        store.close()
