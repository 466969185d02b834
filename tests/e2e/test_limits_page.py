"""Every account limit read off the page by the worker's own page code (worker/page.py,
worker/limits.py), on both DOM generations, in every modelled language, and on builds
nobody wrote selectors for: the unanswered counter, the new-chat notice, a chat with history
that still opens, the failure mark, the restriction (banner and notice, with its time), and
the ban screen (which is no logout)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

import settings
from store import states as S
from tests.support.config import write_config
from tests.support.sim_fixtures import make_sim
from tests.support.waiting import wait_until
from worker.page import WhatsAppPage

OLD = "+15550009999"  # a contact with history: WhatsApp lets it through a new-chat limit
NEW = "+15550000001"

CASES = [
    ("2024", "en-US", None),
    ("2024", "pt-BR", None),  # 2024 keeps English words under any language
    ("2026", "en-US", None),
    ("2026", "pt-BR", None),
    ("2026", "de-DE", None),
    ("2026", "es-ES", None),
    ("2026", "fr-FR", None),
    ("2026", "en-US", 5),  # builds: icon names, classes, test ids, labels moved
    ("2024", "pt-BR", 8),
]


def logged_in_page(browser: Any, tmp_path: Path, sim: Any, lang: str) -> WhatsAppPage:
    sim.login()
    cfg = settings.load(write_config(tmp_path, sim, browser__language=lang))
    page = WhatsAppPage(browser, cfg)
    page.load()
    wait_until(lambda: page.session()["login"] == "logged_in", 20, "logged in")
    return page


def outside(page: WhatsAppPage) -> tuple[Any, Any]:
    return page.limits.outside_chats(page.limit_texts()["texts"], time.time())


@pytest.mark.parametrize(("dom", "lang", "mutate"), CASES)
def test_every_limit_is_read_on_the_page(browser: Any, tmp_path: Path, dom: str, lang: str, mutate: int | None) -> None:
    sim = make_sim(dom=dom, lang=lang, mutate=mutate, new_chat_limit_after=0, unanswered={"count": 180, "cap": 200})
    try:
        sim.seed_history(OLD, "our offer of last year", at=time.time() - 86400)
        page = logged_in_page(browser, tmp_path, sim, lang)
        # The unanswered-messages banner: a counter, no limit.
        limit, counter = wait_until(lambda: (r := outside(page))[1] and r, 10, "the counter")
        assert limit is None and counter == (180, 200)
        # Someone new: the notice where the compose box was, a limit with the page's end.
        chat = page.open_chat(NEW)
        assert chat.ok and chat.notice, chat
        now = time.time()
        new = page.limits.notice(chat.notice, known=False, now=now)
        assert new.state == S.LIMITED_NEW and new.by_words, new
        assert new.until is not None and abs(new.until - (now + 11 * 3600)) < 60
        assert not page.failed_keys  # no selector failed: the page is not broken
        # A chat with history opens as always, and WhatsApp's failure mark reads as refused.
        chat = page.open_chat(OLD)
        assert chat.ok and chat.notice is None
        sim.configure(fail_sends=1)
        page.type_text("compose_box", "refused today")
        assert page.click("send_button") or page.press_enter("compose_box")  # a build renames the icon
        view = wait_until(
            lambda: (v := page.chat_view()).rows and v.rows[-1].text == "refused today" and v.rows[-1].refused and v,
            10,
            "the failure mark",
        )
        assert view.rows[-1].ack is False
        if mutate is None:  # a build breaks selectors on purpose: read by meaning, counted
            assert not view.failed, view.failed
        # Restricted: the banner (with its time) and the notice in every chat, known or not.
        ends = time.time() + 3 * 3600
        sim.configure(restricted_until=ends)
        limit, _ = wait_until(lambda: (r := outside(page))[0] and r, 10, "the restriction banner")
        assert limit.state == S.RESTRICTED and abs(limit.until - ends) <= 60, (limit, ends)
        chat = page.open_chat(OLD)
        assert chat.notice
        in_chat = page.limits.notice(chat.notice, known=True, now=time.time())
        assert in_chat.state == S.RESTRICTED and in_chat.by_words and abs(in_chat.until - ends) <= 60
        # Banned: the ban screen, no QR: a ban, not a logout.
        sim.configure(banned=True)
        limit, _ = wait_until(lambda: (r := outside(page))[0] and r[0].state == S.BANNED and r, 10, "the ban screen")
        assert limit.until is None
        assert page.session()["qr"] is None
        assert sim.ledger()["messages"] == []
    finally:
        sim.stop()


def test_words_nobody_wrote_are_judged_by_where_the_notice_sits(browser: Any, tmp_path: Path) -> None:
    """A language the worker has no words for (its labels say nothing about limits): the
    notice in place of the compose box is still a limit, never a broken compose_box."""
    sim = make_sim(dom="2026", lang="de-DE", new_chat_limit_after=0)
    try:
        page = logged_in_page(browser, tmp_path, sim, "en-US")  # the worker expects English
        chat = page.open_chat(NEW)
        assert chat.ok and chat.notice
        limit = page.limits.notice(chat.notice, known=False, now=time.time())
        assert limit.state == S.LIMITED_NEW and not limit.by_words
        assert "compose_box" not in page.failed_keys
    finally:
        sim.stop()
