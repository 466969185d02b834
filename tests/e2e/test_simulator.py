"""The WhatsApp Web simulator, driven the way the worker drives it: Selenium and
headless Chromium against the DOM of docs/whatsapp-dom.md (the 2024 generation, en-US:
the `simulator` fixture; one Chromium for the module, a fresh simulator per test).
Without a browser: tests/integration/test_simulator.py."""

from __future__ import annotations

import hashlib
from datetime import datetime
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from simulator import Simulator
from tests.support.page import (
    ACKED,
    ATTACH,
    CAPTION,
    CHAT_TITLE,
    CHECK,
    CLOCK,
    COMPOSE,
    DBLCHECK,
    DOC_INPUT,
    LOGGED_IN,
    MEDIA_INPUT,
    MEDIA_SEND,
    META,
    OUT,
    PHONE_ALERT,
    POPUP,
    QR,
    QR_CANVAS,
    SEND_BUTTON,
    STARTUP,
    TEXT,
    boot_logged_in,
    bubbles,
    click_link,
    find,
    gone,
    insert_text,
    last_bubble,
    leaving_is_guarded,
    open_chat,
    same_page,
    texts,
    until,
    wait_icon,
)
from tests.support.waiting import TimedOut

PHONE = "15550001111"
OTHER = "15550002222"

# One Chromium for the module: under pytest-xdist its tests run in one process, in order.
pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("simulator-page")]


def test_boot_qr_landing_then_login_without_reload(simulator: Simulator, browser) -> None:
    simulator.configure(boot_time=0.8)
    browser.get(simulator.url + "/")
    assert browser.find_elements(By.CSS_SELECTOR, STARTUP)  # the app is still booting
    assert not browser.find_elements(By.CSS_SELECTOR, QR)
    canvas = find(browser, QR_CANVAS)
    ref = browser.find_element(By.CSS_SELECTOR, QR).get_attribute("data-ref")
    assert ref == simulator.get_state()["qr"]["ref"]
    assert canvas.size["width"] > 100
    assert not browser.find_elements(By.CSS_SELECTOR, STARTUP)
    browser.execute_script("window.__same_page = 'yes'")
    simulator.login()  # as if the QR code were scanned
    find(browser, LOGGED_IN)
    assert not browser.find_elements(By.CSS_SELECTOR, QR)
    assert same_page(browser)
    assert simulator.ledger()["page_loads"] == 1


def test_qr_rotation_and_expiry_in_the_page(browser) -> None:
    with Simulator(
        port=0, boot_time=0.1, qr_rotate_seconds=0.4, qr_max_rotations=2, poll_interval=0.1, dom="2024"
    ) as sim:
        browser.get(sim.url)
        holder = find(browser, QR)
        seen = []

        def expired(d) -> bool:
            ref = holder.get_attribute("data-ref")
            if ref and (not seen or seen[-1] != ref):
                seen.append(ref)
            return bool(holder.find_elements(By.XPATH, ".//button[normalize-space()='Click to reload QR code']"))

        until(browser, expired, 5)
        assert 2 <= len(seen) <= 3  # initial code + at most 2 changes
        holder.find_element(By.TAG_NAME, "button").click()
        until(browser, lambda d: not holder.find_elements(By.TAG_NAME, "button"))
        assert holder.get_attribute("data-ref") not in seen
        assert holder.find_element(By.CSS_SELECTOR, 'canvas[aria-label="Scan me!"]')


def test_demo_mode_logs_in_by_itself_or_on_a_key(simulator: Simulator, browser) -> None:
    simulator.configure(auto_login=0.5)
    browser.get(simulator.url)
    find(browser, QR)
    find(browser, LOGGED_IN, timeout=5)
    simulator.configure(auto_login=60)
    simulator.logout()
    find(browser, QR)
    browser.find_element(By.TAG_NAME, "body").send_keys("x")
    find(browser, LOGGED_IN)
    assert simulator.get_state()["logged_in"] is True


def test_send_url_prefills_text_and_enter_sends_with_ticks(simulator: Simulator, browser) -> None:
    simulator.configure(ack_delay=0.6, dblcheck_delay=0.6)
    simulator.login()
    text = "Hello Ana,\nyour order #12 is ready ✅ 👋"
    from urllib.parse import quote

    browser.get(f"{simulator.url}/send?phone={PHONE}&text={quote(text)}")
    box = find(browser, COMPOSE)
    assert browser.find_element(By.CSS_SELECTOR, CHAT_TITLE).get_attribute("title") == "+" + PHONE
    assert browser.find_element(By.CSS_SELECTOR, SEND_BUTTON).find_element(By.CSS_SELECTOR, "span[data-icon='send']")
    assert box.text == text
    box.send_keys(Keys.ENTER)
    bubble = find(browser, OUT)
    assert bubble.find_element(By.CSS_SELECTOR, TEXT).text == text
    assert bubble.find_elements(By.CSS_SELECTOR, CLOCK)
    assert leaving_is_guarded(browser) is True
    wait_icon(browser, bubble, CHECK)
    wait_icon(browser, bubble, DBLCHECK)
    assert box.text == ""
    assert not browser.find_elements(By.CSS_SELECTOR, SEND_BUTTON)  # only while there is text
    assert leaving_is_guarded(browser) is False  # no clock left: leaving is free

    ledger = simulator.ledger()
    [msg] = ledger["messages"]
    assert msg["phone"] == "+" + PHONE and msg["text"] == text
    assert msg["attachment"] is None and msg["caption"] is None and msg["seq"] == 1
    assert ledger["page_loads"] == 1 and ledger["url_opens"] == 1 and ledger["chat_opens"] == 1
    assert ledger["in_app_opens"] == 0

    meta = bubble.find_element(By.CSS_SELECTOR, META).get_attribute("data-pre-plain-text")
    at = datetime.fromtimestamp(msg["accepted_at"])
    # en-US: 12-hour with AM/PM, month first (as WhatsApp Web writes it)
    assert (
        meta == f"[{at.hour % 12 or 12}:{at:%M} {'AM' if at.hour < 12 else 'PM'}, {at.month}/{at.day}/{at.year}] You: "
    )
    row = bubble.find_element(By.XPATH, "./ancestor::div[@role='row']")
    assert row.get_attribute("data-id").endswith("_" + msg["id"])
    assert browser.current_url.rstrip("/") == simulator.url  # /send is replaced by /


def test_in_app_links_open_chats_without_reload_and_show_history(simulator: Simulator, browser) -> None:
    boot_logged_in(browser, simulator)
    box = open_chat(browser, PHONE)
    box.send_keys("first to A")
    browser.find_element(By.CSS_SELECTOR, SEND_BUTTON).click()
    wait_icon(browser, last_bubble(browser), ACKED)

    click_link(browser, f"/send?phone={OTHER}")  # a /send link is handled in-app too
    until(browser, lambda d: d.find_element(By.CSS_SELECTOR, CHAT_TITLE).get_attribute("title") == "+" + OTHER)
    assert bubbles(browser) == []
    find(browser, COMPOSE).send_keys("hello B", Keys.ENTER)
    wait_icon(browser, last_bubble(browser), ACKED)

    box = open_chat(browser, PHONE)
    box.send_keys("second to A", Keys.ENTER)
    until(browser, lambda d: texts(d) == ["first to A", "second to A"])  # oldest first
    wait_icon(browser, bubbles(browser)[0], DBLCHECK)

    assert same_page(browser)
    ledger = simulator.ledger()
    assert ledger["page_loads"] == 1 and ledger["url_opens"] == 0
    assert ledger["in_app_opens"] == 3 and ledger["chat_opens"] == 3
    assert [(m["phone"], m["text"]) for m in ledger["messages"]] == [
        ("+" + PHONE, "first to A"),
        ("+" + OTHER, "hello B"),
        ("+" + PHONE, "second to A"),
    ]
    # the chat list shows both chats, most recent first
    until(
        browser,
        lambda d: (
            [e.get_attribute("data-phone") for e in d.find_elements(By.CSS_SELECTOR, "#pane-side [data-phone]")]
            == ["+" + PHONE, "+" + OTHER]
        ),
    )


def test_text_with_newlines_and_emoji_both_ways(simulator: Simulator, browser) -> None:
    boot_logged_in(browser, simulator)
    box = open_chat(browser, PHONE)
    # 1. typed with send_keys (BMP only), Shift+Enter for new lines, Enter sends
    typed = "Line one  with two spaces\nLine two ✓ ünïcødé\n\nLine four"
    for i, line in enumerate(typed.split("\n")):
        if i:
            box.send_keys(Keys.SHIFT, Keys.ENTER, Keys.SHIFT)
        if line:
            box.send_keys(line)
    box.send_keys(Keys.ENTER)
    # 2. inserted by JavaScript (emoji outside the BMP), sent with the button
    inserted = "Hi 👋🏽 María\nsecond line 🎉\n\nfourth line"
    insert_text(browser, box, inserted)
    find(browser, SEND_BUTTON).click()
    # 3. JavaScript text plus Shift+Enter typed in between
    insert_text(browser, box, "mixed 😀")
    box.send_keys(Keys.SHIFT, Keys.ENTER, Keys.SHIFT)
    insert_text(browser, box, "end 🚀")
    box.send_keys(Keys.ENTER)

    expected = [typed, inserted, "mixed 😀\nend 🚀"]
    until(browser, lambda d: len(bubbles(d)) == 3)
    assert texts(browser) == expected
    assert [m["text"] for m in simulator.wait_for_messages(3)] == expected
    for b in bubbles(browser):
        wait_icon(browser, b, ACKED)
        assert "<br>" in b.find_element(By.CSS_SELECTOR, TEXT).get_attribute("innerHTML")


def test_invalid_number_popup(simulator: Simulator, browser) -> None:
    simulator.configure(invalid_suffix="13", invalid_numbers=["+15550009999"])
    boot_logged_in(browser, simulator)
    for number in ("15550000013", "15550009999"):
        click_link(browser, f"https://wa.me/{number}")
        popup = find(browser, POPUP)
        assert "Phone number shared via url is invalid." in popup.text
        assert not browser.find_elements(By.CSS_SELECTOR, COMPOSE)
        popup.find_element(By.XPATH, ".//button[normalize-space()='OK']").click()
        gone(browser, POPUP)
    open_chat(browser, PHONE)  # a valid number still opens
    browser.get(f"{simulator.url}/send?phone=15550000013&text=hi")  # URL way
    find(browser, POPUP)
    assert not browser.find_elements(By.CSS_SELECTOR, COMPOSE)
    ledger = simulator.ledger()
    assert ledger["invalid_opens"] == 3 and ledger["chat_opens"] == 1 and ledger["messages"] == []


def test_attachments_with_captions(simulator: Simulator, browser, tmp_path: Path) -> None:
    photo = tmp_path / "photo.png"
    photo.write_bytes(
        bytes.fromhex(
            "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
            "1f15c4890000000d49444154789c6360f8cfc0f01f0005000201a5b1e0d60000000049454e44ae426082"
        )
    )
    doc = tmp_path / "price list.pdf"
    doc.write_bytes(b"%PDF-1.4\n" + bytes(range(256)) * 40)
    boot_logged_in(browser, simulator)
    open_chat(browser, PHONE)

    caption_text = "Our new menu 🍕\nsee you soon"
    browser.find_element(By.CSS_SELECTOR, ATTACH).click()
    find(browser, MEDIA_INPUT).send_keys(str(photo))
    caption = find(browser, CAPTION)
    caption.send_keys("Our new menu ")
    insert_text(browser, caption, "🍕\nsee you soon")
    find(browser, MEDIA_SEND).click()
    gone(browser, CAPTION)

    browser.find_element(By.CSS_SELECTOR, ATTACH).click()
    find(browser, DOC_INPUT).send_keys(str(doc))
    find(browser, CAPTION)
    parent = browser.find_element(By.CSS_SELECTOR, MEDIA_SEND).find_element(By.XPATH, "..")
    assert parent.get_attribute("role") == "button"
    parent.click()  # no caption
    gone(browser, CAPTION)

    msgs = simulator.wait_for_messages(2)
    assert [m["attachment"] for m in msgs] == [
        {
            "name": "photo.png",
            "size": photo.stat().st_size,
            "type": "image/png",
            "sha256": hashlib.sha256(photo.read_bytes()).hexdigest(),
            "kind": "media",
        },
        {
            "name": "price list.pdf",
            "size": doc.stat().st_size,
            "type": "application/pdf",
            "sha256": hashlib.sha256(doc.read_bytes()).hexdigest(),
            "kind": "document",
        },
    ]
    assert [(m["text"], m["caption"]) for m in msgs] == [(caption_text, caption_text), ("", "")]
    until(browser, lambda d: len(bubbles(d)) == 2)
    b1, b2 = bubbles(browser)
    assert (
        b1.find_element(By.CSS_SELECTOR, "div[data-attachment-name]").get_attribute("data-attachment-name")
        == "photo.png"
    )
    assert b1.find_element(By.CSS_SELECTOR, TEXT).text == caption_text
    assert b2.find_element(By.CSS_SELECTOR, "[data-attachment-name='price list.pdf']")
    wait_icon(browser, b2, ACKED)
    # still there when the chat is opened again
    open_chat(browser, OTHER)
    open_chat(browser, PHONE)
    until(browser, lambda d: len(d.find_elements(By.CSS_SELECTOR, "#main [data-attachment-name]")) == 2)


def test_stuck_clock_keeps_the_clock_and_guards_leaving(simulator: Simulator, browser) -> None:
    simulator.configure(stuck_clock=True, ack_delay=0.05)
    boot_logged_in(browser, simulator)
    box = open_chat(browser, PHONE)
    box.send_keys("never ticks", Keys.ENTER)
    bubble = find(browser, OUT)
    assert [m["text"] for m in simulator.wait_for_messages(1)] == ["never ticks"]  # accepted...
    with pytest.raises(TimedOut):  # ...but the clock never turns
        wait_icon(browser, bubble, ACKED, timeout=0.6)
    assert bubble.find_elements(By.CSS_SELECTOR, CLOCK)

    # Leaving the page with a clock showing asks "Leave site?". Classic WebDriver
    # accepts beforeunload prompts by itself, so ask the handler directly.
    assert leaving_is_guarded(browser) is True

    open_chat(browser, OTHER)
    open_chat(browser, PHONE)  # on reopen the history keeps the clock
    bubble = find(browser, OUT)
    assert bubble.find_elements(By.CSS_SELECTOR, CLOCK)
    assert not bubble.find_elements(By.CSS_SELECTOR, ACKED)


def test_lost_click_is_not_recorded(simulator: Simulator, browser) -> None:
    simulator.configure(lose_clicks=1)
    boot_logged_in(browser, simulator)
    box = open_chat(browser, PHONE)
    box.send_keys("lost in the void", Keys.ENTER)
    box.send_keys("this one arrives", Keys.ENTER)
    until(browser, lambda d: len(bubbles(d)) == 2)
    lost, ok = bubbles(browser)
    wait_icon(browser, ok, ACKED)
    assert lost.find_elements(By.CSS_SELECTOR, CLOCK) and not lost.find_elements(By.CSS_SELECTOR, ACKED)
    ledger = simulator.ledger()
    assert [m["text"] for m in ledger["messages"]] == ["this one arrives"]
    assert ledger["lost_clicks"] == 1 and simulator.settings["lose_clicks"] == 0
    open_chat(browser, OTHER)
    open_chat(browser, PHONE)
    until(browser, lambda d: texts(d) == ["this one arrives"])


def test_failure_rate_fails_before_any_compose_box(simulator: Simulator, browser) -> None:
    boot_logged_in(browser, simulator)
    open_chat(browser, OTHER)
    simulator.configure(failure_rate=1.0)
    click_link(browser, f"https://wa.me/{PHONE}")
    toast = find(browser, "[data-testid='toast']")
    assert "open the chat" in toast.text
    assert not browser.find_elements(By.CSS_SELECTOR, COMPOSE)  # not even the previous chat's
    assert not browser.find_elements(By.CSS_SELECTOR, "#main")
    simulator.configure(failure_rate=0)
    open_chat(browser, PHONE)
    ledger = simulator.ledger()
    assert ledger["failed_opens"] == 1 and ledger["chat_opens"] == 2


def test_phone_not_connected_holds_messages_until_reconnect(simulator: Simulator, browser) -> None:
    boot_logged_in(browser, simulator)
    box = open_chat(browser, PHONE)
    simulator.configure(phone_connected=False)
    banner = find(browser, PHONE_ALERT)
    assert "Phone not connected" in banner.text
    assert banner.find_element(By.CSS_SELECTOR, "span[data-icon='alert-phone']")
    box.send_keys("waiting for the phone", Keys.ENTER)
    bubble = find(browser, OUT)
    with pytest.raises(TimedOut):
        wait_icon(browser, bubble, ACKED, timeout=0.5)
    assert simulator.ledger()["messages"] == []
    simulator.configure(phone_connected=True)
    gone(browser, PHONE_ALERT)
    wait_icon(browser, bubble, ACKED)
    assert [m["text"] for m in simulator.ledger()["messages"]] == ["waiting for the phone"]
    assert same_page(browser)


def test_logout_and_use_here_rerender_without_reload(simulator: Simulator, browser) -> None:
    boot_logged_in(browser, simulator)
    open_chat(browser, PHONE).send_keys("before logout", Keys.ENTER)
    wait_icon(browser, find(browser, OUT), ACKED)

    simulator.show_use_here()
    popup = find(browser, POPUP)
    assert "WhatsApp is open in another window" in popup.text
    popup.find_element(By.XPATH, ".//button[normalize-space()='Use here']").click()
    find(browser, LOGGED_IN)
    gone(browser, POPUP)
    assert simulator.get_state()["use_here"] is False

    simulator.logout()
    find(browser, QR_CANVAS)
    assert not browser.find_elements(By.CSS_SELECTOR, "#side")
    simulator.login()
    find(browser, LOGGED_IN)
    open_chat(browser, PHONE)
    until(browser, lambda d: texts(d) == ["before logout"])  # history survives a logout
    assert same_page(browser)
    assert simulator.ledger()["page_loads"] == 1


def test_manual_use_new_chat_field_and_chat_list(simulator: Simulator, browser) -> None:
    browser.get(simulator.url)
    find(browser, QR)
    browser.find_element(By.XPATH, "//button[contains(., 'Simulate scanning')]").click()  # a person logs in
    find(browser, LOGGED_IN)
    field = browser.find_element(By.CSS_SELECTOR, "#new-chat")
    field.send_keys("+1 555 000 1111", Keys.ENTER)
    box = find(browser, COMPOSE)
    assert browser.find_element(By.CSS_SELECTOR, CHAT_TITLE).get_attribute("title") == "+" + PHONE
    box.send_keys("typed by a person", Keys.ENTER)
    item = find(browser, f"#pane-side [data-phone='+{PHONE}']")
    assert "typed by a person" in item.text
    open_chat(browser, OTHER)
    find(browser, f"#pane-side [data-phone='+{PHONE}']").click()
    until(browser, lambda d: texts(d) == ["typed by a person"])


def test_reset_forgets_everything(simulator: Simulator, browser) -> None:
    boot_logged_in(browser, simulator)
    open_chat(browser, PHONE).send_keys("to be forgotten", Keys.ENTER)
    simulator.wait_for_messages(1)
    simulator.configure(stuck_clock=True)
    simulator.reset()
    ledger = simulator.ledger()
    assert ledger["messages"] == [] and ledger["page_loads"] == 0 and ledger["chat_opens"] == 0
    assert simulator.settings["stuck_clock"] is False and simulator.get_state()["logged_in"] is True
    open_chat(browser, OTHER)
    open_chat(browser, PHONE)
    assert bubbles(browser) == []


@pytest.mark.browser
@pytest.mark.parametrize(
    "dom, lang, label, row",
    [("2024", "en-US", "2 unread messages", "listitem"), ("2026", "pt-BR", "2 mensagens não lidas", "row")],
)
def test_an_incoming_message_shows_an_unread_badge_until_its_chat_is_opened(
    browser, dom: str, lang: str, label: str, row: str
) -> None:
    sim = Simulator(port=0, boot_time=0.2, ack_delay=0.1, dblcheck_delay=0.3, dom=dom, lang=lang).start()
    try:
        boot_logged_in(browser, sim)
        sim.deliver("+" + OTHER, "Quero saber mais")
        sim.deliver("+" + OTHER, "PARAR 🙏")
        badge = find(browser, f"#pane-side div[role='{row}'] span[aria-label='{label}']")
        assert badge.text == "2"
        item = badge.find_element(By.XPATH, f"ancestor::div[@role='{row}']")
        titles = [e.get_attribute("title") for e in item.find_elements(By.CSS_SELECTOR, "span[title]")]
        assert titles == ["+" + OTHER, "PARAR 🙏"]  # the chat's name, then the preview
        assert sim.unread() == {"+" + OTHER: 2} and sim.read_receipts() == {}
        item.click()  # a person opens the chat
        gone(browser, "#pane-side span[aria-label]")
        assert sim.unread() == {} and set(sim.read_receipts()) == {"+" + OTHER}
        # The replies are bubbles without a status icon.
        until(browser, lambda d: "PARAR" in d.find_element(By.ID, "main").text)
        rows = [
            r
            for r in browser.find_elements(By.CSS_SELECTOR, "#main div[role='row']")
            if "Quero" in r.text or "PARAR" in r.text
        ]
        assert len(rows) == 2 and not any(r.find_elements(By.CSS_SELECTOR, "span[data-icon^='msg-']") for r in rows)
    finally:
        sim.stop()
