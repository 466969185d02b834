"""Fewer round trips per message, the same promises. The send click uses the control
found in the last look before it: a control redrawn since is looked for again and
clicked once; nothing is ever clicked twice. The compose box read back in that look must
hold the text. A chat opened through its link comes back with the first look at it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from selenium.common.exceptions import JavascriptException, StaleElementReferenceException, TimeoutException

import settings
from tests.support.config import write_config
from worker import page_js as JS
from worker import sending
from worker.errors import SendFailure
from worker.page import ChatView, WhatsAppPage, check_box
from worker.sending import NotClicked, Prepared, Sender


class Control:
    """An element of the page: records its clicks; a stale one raises as Selenium does."""

    def __init__(self, clicks: list[str], name: str, *, stale: bool = False) -> None:
        self.clicks, self.name, self.stale = clicks, name, stale

    def click(self) -> None:
        if self.stale:
            raise StaleElementReferenceException("stale element reference: element is not attached")
        self.clicks.append(self.name)


class Driver:
    def execute_script(self, script: str, el: Control) -> None:  # click_element's JS fallback
        el.click()


class Page:
    """What click_send uses of WhatsAppPage: find, the driver, key failures, Enter."""

    def __init__(self, found: list[Control | None]) -> None:
        self.found = found
        self.driver = Driver()
        self.finds = 0
        self.failed: dict[str, str] = {}
        self.entered = False

    def find(self, key: str) -> Control | None:
        self.finds += 1
        return self.found.pop(0) if self.found else None

    def key_failed(self, key: str, detail: str) -> None:
        self.failed[key] = detail

    def dump(self, key: str) -> None:
        return None

    def press_enter(self, key: str) -> bool:
        self.entered = True
        return True


def prepared(control: Control | None) -> Prepared:
    before = ChatView(
        rows=[], total=0, structural=False, any_rows=0, metas=[], start=True, expanded=0, box="hi",
        logged_in=True, qr=False, phone_disconnected=False, control=control,
    )  # fmt: skip
    return Prepared("send_button", "compose_box", None, False, before)


def click(p: Prepared, page: Page) -> str:
    sender = Sender.__new__(Sender)  # click_send reads nothing of the context
    return sender.click_send(p, page)  # type: ignore[arg-type]


def test_the_control_from_the_last_look_is_clicked_without_looking_again() -> None:
    clicks: list[str] = []
    page = Page([])
    assert click(prepared(Control(clicks, "seen")), page) == "clicked"
    assert clicks == ["seen"] and page.finds == 0


def test_a_control_redrawn_since_the_look_is_found_again_and_clicked_once() -> None:
    clicks: list[str] = []
    page = Page([Control(clicks, "redrawn")])
    assert click(prepared(Control(clicks, "seen", stale=True)), page) == "clicked"
    assert clicks == ["redrawn"] and page.finds == 1


def test_a_control_redrawn_twice_is_not_clicked_and_the_message_goes_back() -> None:
    clicks: list[str] = []
    page = Page([Control(clicks, "redrawn", stale=True)])
    with pytest.raises(NotClicked):
        click(prepared(Control(clicks, "seen", stale=True)), page)
    assert clicks == [] and not page.entered


def test_no_control_in_the_look_nor_after_is_a_failed_key_and_enter(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sending, "CONTROL_WAIT", 0.2)
    clicks: list[str] = []
    page = Page([])
    assert click(prepared(None), page) == "Enter"
    assert clicks == [] and page.entered and "send_button" in page.failed and page.finds >= 2


def test_the_box_read_in_the_last_look_must_hold_the_text() -> None:
    check_box("compose_box", "Olá *cliente* 👋🏽", "Olá *cliente* 👋🏽")
    check_box("compose_box", "Olá 🙂", "Olá :)")  # WhatsApp's own emoticon replacement
    with pytest.raises(SendFailure, match="compose_box holds 6 characters that differ"):
        check_box("compose_box", "Olá 🙂🙂", "Olá :)")
    with pytest.raises(SendFailure):
        check_box("compose_box", None, "Olá")


class OpeningDriver:
    """Opens a chat through its link: the async script either answers with the first look
    or fails as ChromeDriver does; later looks come from execute_script (STATE)."""

    def __init__(self, first: Exception | dict[str, Any]) -> None:
        self.first, self.looks = first, 0

    def execute_async_script(self, script: str, *args: Any) -> dict[str, Any]:
        assert script == JS.OPEN_LINK_AND_LOOK and args[1] == "https://wa.me/12025550100"
        if isinstance(self.first, Exception):
            raise self.first
        return self.first

    def execute_script(self, script: str, *args: Any) -> dict[str, Any]:
        assert script == JS.STATE
        self.looks += 1
        return look(compose=True, chat_title="+1 202-555-0100")


def look(**seen: Any) -> dict[str, Any]:
    state = dict.fromkeys(
        ("booting", "qr_expired", "logged_in", "phone_disconnected", "offline", "net_error", "use_here",
         "chat_title_new", "compose", "invalid", "popup_ok", "chat_error"),
        False,
    )  # fmt: skip
    state.update(qr=None, chat_title=None, notice=None, logged_in=True)
    state.update(seen)
    return state


def opening(driver: OpeningDriver, tmp: Path) -> WhatsAppPage:
    cfg = settings.load(write_config(tmp, "http://127.0.0.1:9", browser__navigation="in_app"))
    return WhatsAppPage(driver, cfg)


def test_the_first_look_at_an_opening_chat_comes_with_the_click(tmp_path: Path) -> None:
    driver = OpeningDriver(look(compose=True, chat_title="+1 202-555-0100"))
    assert opening(driver, tmp_path).open_chat("+12025550100").ok and driver.looks == 0


def test_a_page_that_went_away_during_the_wait_is_looked_at_again(tmp_path: Path) -> None:
    driver = OpeningDriver(TimeoutException("script timeout"))
    assert opening(driver, tmp_path).open_chat("+12025550100").ok and driver.looks == 1


def test_a_script_that_failed_before_its_click_is_an_error_not_a_wait(tmp_path: Path) -> None:
    driver = OpeningDriver(JavascriptException("javascript error: F is not defined"))
    with pytest.raises(JavascriptException):
        opening(driver, tmp_path).open_chat("+12025550100")
    assert driver.looks == 0
