"""The send click with the control found in the last look before it (one round trip less
per message): a control redrawn since is looked for again and clicked once; nothing is
ever clicked twice. And the compose box read back in that look must hold the text."""

from __future__ import annotations

import pytest
from selenium.common.exceptions import StaleElementReferenceException

from worker import sending
from worker.errors import SendFailure
from worker.page import ChatView, check_box
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
    with pytest.raises(SendFailure, match="compose_box holds 5 characters that differ"):
        check_box("compose_box", "Olá 🙂", "Olá :)")
    with pytest.raises(SendFailure):
        check_box("compose_box", None, "Olá")
