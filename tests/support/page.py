"""The simulator's page driven the way the worker drives it (Selenium, headless Chromium):
the selectors of docs/whatsapp-dom.md for the 2024 generation (the first fallback of
config.toml) and the few moves the page tests make."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.common.by import By

from simulator import Simulator
from tests.support.waiting import wait_until

T = TypeVar("T")

STARTUP = "#startup"
QR = "div[data-ref]"
QR_CANVAS = 'div[data-ref] canvas[aria-label="Scan me!"]'
LOGGED_IN = "#side #pane-side"
PHONE_ALERT = "#side div[data-testid='alert-phone']"
CHAT_TITLE = "#main header span[title]"
COMPOSE = "#main footer div[contenteditable='true'][role='textbox'][data-tab='10'][aria-placeholder='Type a message']"
SEND_BUTTON = "#main footer button[aria-label='Send']"
POPUP = "div[data-animate-modal-popup='true']"
OUT = "#main div[role='row'] div.message-out"
TEXT = "span.selectable-text > span"
META = "div.copyable-text[data-pre-plain-text]"
CLOCK = "span[data-icon='msg-time']"
CHECK = "span[data-icon='msg-check']"
DBLCHECK = "span[data-icon='msg-dblcheck']"
ACKED = f"{CHECK}, {DBLCHECK}"
ATTACH = "span[data-icon='plus-rounded']"
MEDIA_INPUT = "input[type='file'][accept='image/*,video/mp4,video/3gpp,video/quicktime']"
DOC_INPUT = "input[type='file'][accept='*']"
CAPTION = "div[contenteditable='true'][role='textbox'][aria-placeholder='Add a caption']"
MEDIA_SEND = "span[data-icon='wds-ic-send-filled']"

# An element looked for between two redraws of the page is "not there yet".
REDRAWN = (NoSuchElementException, StaleElementReferenceException)


def until(driver: Any, cond: Callable[[Any], T], timeout: float = 5.0, what: str = "the page") -> T:
    """Poll `cond(driver)` (tests/support/waiting.py) until it holds."""
    return wait_until(lambda: cond(driver), timeout, what, ignore=REDRAWN)


def find(driver: Any, css: str, timeout: float = 5.0) -> Any:
    return until(driver, lambda d: d.find_element(By.CSS_SELECTOR, css), timeout, css)


def gone(driver: Any, css: str, timeout: float = 5.0) -> None:
    until(driver, lambda d: not d.find_elements(By.CSS_SELECTOR, css), timeout, f"{css} gone")


def boot_logged_in(driver: Any, sim: Simulator, path: str = "/") -> None:
    sim.login()
    driver.get(sim.url + path)
    find(driver, LOGGED_IN)
    driver.execute_script("window.__same_page = 'yes'")


def same_page(driver: Any) -> bool:
    return driver.execute_script("return window.__same_page") == "yes"


def click_link(driver: Any, href: str) -> None:
    """What the worker does: insert a link into the running app and click it."""
    driver.execute_script(
        """const a = document.createElement('a');
           a.id = 'test-link'; a.href = arguments[0]; a.textContent = 'open chat';
           a.style.cssText = 'position:fixed;top:0;left:45%;z-index:99999;background:#fff';
           document.body.appendChild(a);""",
        href,
    )
    driver.find_element(By.ID, "test-link").click()
    driver.execute_script("document.getElementById('test-link').remove()")


def open_chat(driver: Any, phone: str) -> Any:
    click_link(driver, f"https://wa.me/{phone}")
    until(
        driver,
        lambda d: d.find_element(By.CSS_SELECTOR, CHAT_TITLE).get_attribute("title") == "+" + phone,
        what=f"the chat of +{phone}",
    )
    return find(driver, COMPOSE)


def insert_text(driver: Any, box: Any, text: str) -> None:
    """The worker's way to enter text outside the BMP (emoji)."""
    driver.execute_script("arguments[0].focus(); document.execCommand('insertText', false, arguments[1]);", box, text)


def bubbles(driver: Any) -> list[Any]:
    return driver.find_elements(By.CSS_SELECTOR, OUT)


def last_bubble(driver: Any) -> Any:
    return bubbles(driver)[-1]


def wait_icon(driver: Any, bubble: Any, css: str, timeout: float = 5.0) -> None:
    until(driver, lambda d: bubble.find_elements(By.CSS_SELECTOR, css), timeout, css)


def leaving_is_guarded(driver: Any) -> bool:
    """Would leaving the page now show the browser's "Leave site?" prompt?"""
    return driver.execute_script(
        "const e = new Event('beforeunload', {cancelable: true});window.dispatchEvent(e); return e.defaultPrevented;"
    )


def texts(driver: Any) -> list[str]:
    return [b.find_element(By.CSS_SELECTOR, TEXT).text for b in bubbles(driver)]
