"""The worker's waits inside the page (worker/page.py), in real Chromium on both DOM
generations: the two asynchronous scripts that replaced polls, and what ChromeDriver
does when the page goes away under one of them.

- `wait_for_change` returns when the open chat changes, not at its cap, and at its cap
  when nothing changes;
- opening a chat through its link brings the first look at the chat back with the click;
- a document that goes away under an asynchronous script ends it with ChromeDriver's
  "script timeout" (what `open_chat` takes as "clicked, look again"), and a page that
  reloads on the click is a chat that did not open, no error escaping;
- a page that reloads under a message being prepared gives the message back, no attempt
  used and no selector blamed; it is sent once the page is back."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest
from selenium.common.exceptions import TimeoutException

import settings
from store import Store
from tests.support.config import write_config
from tests.support.sim_fixtures import make_sim
from tests.support.waiting import wait_until
from worker import page_js as JS
from worker import sending
from worker.clock import SystemClock
from worker.errors import SendFailure
from worker.page import WhatsAppPage
from worker.runner import Worker

PHONE = "+12025550188"


def logged_in_page(browser: Any, tmp_path: Path, sim: Any) -> WhatsAppPage:
    sim.login()
    cfg = settings.load(write_config(tmp_path, sim, browser__navigation="in_app"))
    page = WhatsAppPage(browser, cfg)
    page.load()
    wait_until(lambda: page.session()["login"] == "logged_in", 20, "logged in")
    return page


@pytest.mark.parametrize("dom", ["2024", "2026"])
def test_the_waits_in_the_page(browser: Any, tmp_path: Path, dom: str) -> None:
    sim = make_sim(dom=dom)
    try:
        page = logged_in_page(browser, tmp_path, sim)
        # The first look comes back with the click: a look at the page as STATE reads it.
        first = page.driver.execute_async_script(JS.OPEN_LINK_AND_LOOK, page.sel, f"https://wa.me/{PHONE[1:]}", 5000)
        assert first["logged_in"] and {"compose", "chat_title", "invalid", "qr"} <= set(first)
        assert page.open_chat("+12025550177").ok  # and the chat opens through it
        assert not page.reloaded()  # the document of our load

        # A change in the open chat ends the wait long before its cap (a change every 0.2 s:
        # one made before the wait began, on a slow machine, would not count)...
        page.driver.execute_script(
            "window.__changes = setInterval(() => { const m = document.querySelector('#main') ||"
            " document.body; m.appendChild(document.createElement('span')); }, 200);"
        )
        start = time.monotonic()
        page.wait_for_change(8.0)
        assert time.monotonic() - start < 6.0, "the change did not end the wait"
        page.driver.execute_script("clearInterval(window.__changes);")
        # ...and with nothing changing it ends at its cap, not at once.
        start = time.monotonic()
        page.wait_for_change(0.4)
        assert time.monotonic() - start >= 0.35

        # What open_chat takes "script timeout" for: ChromeDriver's answer when the document
        # goes away under an asynchronous script (a reload: an update, say).
        with pytest.raises(TimeoutException):
            page.driver.execute_async_script("setTimeout(() => location.reload(), 50);")  # never answers
        wait_until(lambda: page.session()["login"] == "logged_in", 20, "logged in after the reload")
        # The document was replaced: the page says so once, then the new one is its own.
        assert page.reloaded() and not page.reloaded()
        # A page that reloads on the click instead of opening the chat (caught on the way
        # down, before the app's own listener on the document sees it): whichever way the
        # script ends, open_chat looks again and says the chat did not open; nothing escapes.
        page.driver.execute_script(
            "window.addEventListener('click', (e) => {"
            " const a = e.target.closest && e.target.closest('a');"
            " if (a && a.href.includes('wa.me')) {"
            "   e.preventDefault(); e.stopImmediatePropagation(); location.reload(); } }, true);"
        )
        with pytest.raises(SendFailure, match="did not open"):
            page.open_chat("+12025550166", timeout=3, quiet=True)
        wait_until(lambda: page.session()["login"] == "logged_in", 20, "logged in after the reload")
        assert page.reloaded()
    finally:
        sim.stop()


def test_a_reload_under_a_message_gives_it_back_unspent(browser: Any, tmp_path: Path) -> None:
    sim = make_sim()
    store: Store | None = None
    try:
        page = logged_in_page(browser, tmp_path, sim)
        store = Store(page.cfg.paths.database)
        store.create_job("j", "Hello", [{"phone": PHONE, "text": "Hello"}])
        worker = Worker(page.cfg, store, SystemClock(), threading.Event(), "w1")
        worker.ctx.page = page
        # The page reloads on the click that would open the chat (an update arriving): the
        # chat never opens on the old document, so nothing can be clicked there, and the
        # chat's wait ends on the new one, whatever the machine's speed.
        page.driver.execute_script(
            "window.addEventListener('click', (e) => {"
            " e.preventDefault(); e.stopImmediatePropagation(); location.reload(); }, true);"
        )
        msg = store.claim("w1")
        assert msg is not None
        out = worker.sender.process(msg)
        assert (out.result, out.failed_keys) == (sending.Result.RELEASED, {}), out.reason
        row = store.message(msg.id)
        assert row is not None and (row["status"], row["attempts"]) == ("pending", 0)
        assert sim.ledger()["messages"] == []

        wait_until(lambda: page.session()["login"] == "logged_in", 20, "logged in after the reload")
        msg = store.claim("w1")
        assert msg is not None
        assert worker.sender.process(msg).result is sending.Result.SENT
        assert [(m["phone"], m["text"]) for m in sim.ledger()["messages"]] == [(PHONE, "Hello")]
    finally:
        if store is not None:
            store.close()
        sim.stop()
