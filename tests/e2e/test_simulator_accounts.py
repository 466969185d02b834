"""The simulator serves several WhatsApp accounts at once, in real browsers: every browser
profile is one linked device, linked to an account by a scan of its own QR code; the
device stays linked across a browser restart. (Over plain HTTP:
tests/integration/test_simulator_accounts.py.)"""

from __future__ import annotations

import shutil
import tempfile
import time

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from simulator import Simulator
from tests.support.browsers import make_browser
from tests.support.page import ACKED, LOGGED_IN, OUT, POPUP, QR, QR_CANVAS, find, open_chat, texts, until, wait_icon
from tests.support.sim_fixtures import make_sim

NUM_A = "+15550107001"
NUM_B = "+15550107002"
CONTACT = "15550001111"
OWN = "+15550100000"  # settings.own_number: the default (legacy) account

# Two Chromium profiles for the module: under pytest-xdist its tests run in one process, in order.
pytestmark = pytest.mark.xdist_group("simulator-accounts-page")


@pytest.fixture
def sim():
    s = make_sim()
    yield s
    s.stop()


def qr_ref(driver) -> str:
    find(driver, QR_CANVAS)
    return driver.find_element(By.CSS_SELECTOR, QR).get_attribute("data-ref")


def own_wid(driver) -> str:
    return driver.execute_script("return JSON.parse(localStorage.getItem('last-wid-md') || 'null')")


def send_in_page(driver, phone: str, text: str) -> None:
    open_chat(driver, phone).send_keys(text, Keys.ENTER)
    until(driver, lambda d: text in texts(d))
    wait_icon(driver, driver.find_elements(By.CSS_SELECTOR, OUT)[-1], ACKED)


def reopen(driver, phone: str) -> list[str]:
    open_chat(driver, "15550009876")
    open_chat(driver, phone)
    return texts(driver)


@pytest.mark.browser
def test_two_browsers_two_accounts(sim: Simulator, browsers) -> None:
    a, b = browsers
    a.get(sim.url)
    b.get(sim.url)
    ref_a, ref_b = qr_ref(a), qr_ref(b)
    assert ref_a != ref_b
    assert {p["ref"] for p in sim.pending_logins()} == {ref_a, ref_b}
    session_a = sim.scan(ref_a, NUM_A)
    find(a, LOGGED_IN)
    assert b.find_elements(By.CSS_SELECTOR, QR)  # the other device still waits for its scan
    sim.scan(ref_b, NUM_B)
    find(b, LOGGED_IN)
    assert own_wid(a) == "15550107001:12@c.us" and own_wid(b) == "15550107002:12@c.us"
    for d in (a, b):
        d.execute_script("window.__same_page = 'yes'")

    send_in_page(a, CONTACT, "hello from A")
    send_in_page(b, CONTACT, "hello from B")
    assert [(m["account"], m["text"]) for m in sim.ledger()["messages"]] == [
        (NUM_A, "hello from A"),
        (NUM_B, "hello from B"),
    ]
    assert reopen(a, CONTACT) == ["hello from A"]  # the same contact, separate chats
    assert reopen(b, CONTACT) == ["hello from B"]

    # "Use here" is one account's matter.
    sim.show_use_here(account=NUM_B)
    find(b, POPUP).find_element(By.XPATH, ".//button[normalize-space()='Use here']").click()
    find(b, LOGGED_IN)
    send_in_page(a, CONTACT, "A was not asked")

    # Logging A out sends its page back to a QR code; B keeps working.
    sim.logout(NUM_A)
    find(a, QR_CANVAS)
    assert not a.find_elements(By.CSS_SELECTOR, "#side")
    send_in_page(b, CONTACT, "B goes on")
    assert [p["session"] for p in sim.pending_logins()] == [session_a]
    assert sim.scan(qr_ref(a), NUM_A) == session_a
    find(a, LOGGED_IN)
    assert reopen(a, CONTACT) == ["hello from A", "A was not asked"]  # the history is back
    assert all(d.execute_script("return window.__same_page") == "yes" for d in (a, b))  # never reloaded
    assert [m["account"] for m in sim.ledger()["messages"]] == [NUM_A, NUM_B, NUM_A, NUM_B]


@pytest.mark.browser
def test_legacy_login_logs_any_browser_in_as_the_default_account(sim: Simulator, browsers) -> None:
    a, b = browsers
    a.get(sim.url)
    sim.scan(qr_ref(a), NUM_A)
    find(a, LOGGED_IN)
    sim.login()
    b.get(sim.url)
    find(b, LOGGED_IN)
    assert own_wid(b) == "15550100000:12@c.us" and own_wid(a) == "15550107001:12@c.us"
    send_in_page(b, CONTACT, "legacy send")
    assert [(m["account"], m["text"]) for m in sim.ledger()["messages"]] == [(OWN, "legacy send")]
    sim.logout()
    find(a, QR_CANVAS)
    find(b, QR_CANVAS)


@pytest.mark.browser
def test_the_cookie_keeps_the_device_linked_across_a_browser_restart(sim: Simulator) -> None:
    profile = tempfile.mkdtemp(prefix="sim-acct-restart-")
    try:
        driver = make_browser(profile)
        try:
            driver.get(sim.url)
            sim.scan(qr_ref(driver), NUM_A)
            find(driver, LOGGED_IN)
            send_in_page(driver, CONTACT, "before the restart")
            [cookie] = driver.get_cookies()
            assert cookie["name"] == "wa_sim_session" and cookie["httpOnly"] is True
            assert cookie["sameSite"] == "Strict" and cookie["expiry"] > time.time() + 30 * 86400
            assert driver.execute_script("return document.cookie") == ""  # HttpOnly: not for scripts
        finally:
            driver.quit()
        driver = make_browser(profile)
        try:
            driver.get(sim.url)
            find(driver, LOGGED_IN)  # no QR code: the same linked device
            assert reopen(driver, CONTACT) == ["before the restart"]
            assert len(sim.sessions()) == 1
        finally:
            driver.quit()
    finally:
        shutil.rmtree(profile, ignore_errors=True)
