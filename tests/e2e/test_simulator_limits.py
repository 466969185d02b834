"""Account limits in the simulator: "You can't message new people right now", the
restriction, the ban screen, the unanswered-messages banner, failure marks, and the
record of what was typed before each send (docs/simulator.md, "Account limits").

The browser tests find everything as a person reads it: texts in the page's language,
label values wherever a build puts them, `#main footer`, `#side`; test ids only where the
2024 page has them."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from typing import Any

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from simulator import Simulator
from simulator.cli import build_parser, main, simulator_from_args
from tests.support.page import click_link, find, until

OWN = "+15550100000"
OTHER_ACCOUNT = "+15550100001"
OLD = "+15550009999"  # a contact with history (an earlier campaign)
NEW_A = "+15550000001"
NEW_B = "+15550000002"
ACKED = {"en-US": (" Sent ", " Delivered "), "fr-FR": (" Envoyé ", " Distribué ")}
NOT_SENT = {"en-US": " Not sent ", "pt-BR": " Não enviada ", "fr-FR": " Non envoyé ", "de-DE": " Nicht gesendet "}
# The words of docs/whatsapp-dom.md, "Account limits" (2024 keeps English).
NEW_CHATS = {
    "en-US": "You can't message new people right now. You can message them again in 11 hours.",
    "pt-BR": "Você não pode enviar mensagens para novas pessoas no momento. "
    "Você poderá enviar mensagens para elas novamente em 11 horas.",
}
RESTRICTED = {
    "en-US": ("Your account is restricted.", "You can't send messages until {}."),
    "es-ES": ("Tu cuenta está restringida.", "No puedes enviar mensajes hasta las {}."),
}
BANNED = {
    "en-US": (
        "This account is not allowed to use WhatsApp",
        "Your phone number is banned from using WhatsApp. Contact support for help.",
    ),
    "pt-BR": (
        "Esta conta não tem permissão para usar o WhatsApp",
        "Seu número de telefone está banido do WhatsApp. Entre em contato com o suporte para obter ajuda.",
    ),
}
UNANSWERED = {
    "en-US": "You've sent {} of {} messages to people who haven't replied this month",
    "de-DE": "Du hast diesen Monat {} von {} Nachrichten an Personen gesendet, die nicht geantwortet haben",
}
COMPOSE = "#main footer [contenteditable='true']"


def make_sim(**settings: Any) -> Simulator:
    base = {"boot_time": 0.2, "ack_delay": 0.1, "dblcheck_delay": 0.2, "poll_interval": 0.1, "lang": "en-US"}
    sim = Simulator(port=0, **{**base, **settings}).start()
    sim.login()
    return sim


def call(sim: Simulator, method: str, path: str, body: Any = None) -> Any:
    data = json.dumps(body).encode() if body is not None else (b"" if method == "POST" else None)
    req = urllib.request.Request(sim.url + path, data=data, method=method, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=5) as r:
        return json.loads(r.read())


def send(sim: Simulator, phone: str, text: str, account: str = OWN, **kw: Any) -> dict[str, Any]:
    """A send click reaching the server, as a page (possibly a stale one) makes it."""
    return sim.state.send(phone, "", text, account=account, **kw)


def clock(at: float, lang: str, dom: str) -> str:
    """A time as the page writes it: 12-hour for en-US (2026: narrow no-break space), 24-hour elsewhere."""
    t = time.localtime(at)
    if lang == "en-US":
        space = "\u202f" if dom == "2026" else " "
        return f"{t.tm_hour % 12 or 12}:{t.tm_min:02d}{space}{'AM' if t.tm_hour < 12 else 'PM'}"
    return f"{t.tm_hour}:{t.tm_min:02d}" if lang == "es-ES" else f"{t.tm_hour:02d}:{t.tm_min:02d}"


# ----------------------------------------------------------------------------- without a browser


def test_settings_validate_and_the_control_api() -> None:
    with make_sim() as sim:
        s = sim.settings
        assert (s["new_chat_limit_after"], s["new_chat_limit_hours"], s["restricted_until"], s["banned"]) == (
            None,
            11.0,
            None,
            False,
        )
        assert (s["unanswered_cap"], s["unanswered_warn"], s["unanswered_count"]) == (None, 0.9, None)
        assert (s["fail_sends"], s["fail_numbers"]) == (0, [])
        bad = [
            ("new_chat_limit_after", -1),
            ("new_chat_limit_after", 1.5),
            ("new_chat_limit_after", True),
            ("new_chat_limit_hours", 0),
            ("new_chat_limit_hours", "11"),
            ("restricted_until", -5),
            ("restricted_until", "14:35"),
            ("banned", "yes"),
            ("unanswered_cap", 0),
            ("unanswered_warn", 1.5),
            ("unanswered_count", -1),
            ("unanswered", {"count": 1, "limit": 2}),
            ("unanswered", [1, 2]),
            ("fail_sends", -1),
            ("fail_numbers", ["abc"]),
        ]
        for key, value in bad:
            with pytest.raises(ValueError):
                sim.configure(**{key: value})
            with pytest.raises(urllib.error.HTTPError) as err:
                call(sim, "POST", "/__sim__/config", {"banned": True, key: value})
            assert err.value.code == 400, (key, value)
        assert sim.settings["banned"] is False  # nothing half-applied
        both = {"unanswered": {"count": 180, "cap": 200}, "fail_numbers": "+1 555 0001"}
        cfg = call(sim, "POST", "/__sim__/config", both)
        assert (cfg["unanswered_count"], cfg["unanswered_cap"], cfg["fail_numbers"]) == (180, 200, ["15550001"])
        sim.configure(new_chat_limit_hours=None, restricted_until=time.time() + 60)
        limits = call(sim, "GET", "/__sim__/limits")
        assert limits == sim.limits()
        assert limits["account"] == OWN and limits["restricted_until"] > time.time()
        assert limits["unanswered"] == {"count": 180, "cap": 200, "banner": True}
        assert limits["new_chats"] == {"started": 0, "limit": None, "limited": False, "until": None}
        assert call(sim, "GET", "/__sim__/typing") == {} == sim.typing()
        assert call(sim, "GET", f"/__sim__/limits?account={OTHER_ACCOUNT}")["account"] == OTHER_ACCOUNT
        for path in ("/__sim__/limits?account=12", "/__sim__/typing?account=x"):
            with pytest.raises(urllib.error.HTTPError) as err:
                call(sim, "GET", path)
            assert err.value.code == 400
        assert sim.get_state()["limits"]["unanswered"] == {"count": 180, "cap": 200}
        sim.reset()
        assert sim.settings["restricted_until"] is None and sim.settings["unanswered_cap"] is None


def test_the_new_chat_limit_counts_new_chats_per_account_and_lifts_after_its_hours() -> None:
    with make_sim(new_chat_limit_after=2, ack_delay=0) as sim:
        sim.seed_history(OLD, "our offer of last year", at=time.time() - 86400)
        sim.state._link(sim.state.session_for(None)[0], OTHER_ACCOUNT)  # a second account, linked
        assert send(sim, NEW_A, "one")["status"] == "accepted"
        assert send(sim, NEW_A, "one again")["status"] == "accepted"  # the same chat: one new chat
        assert send(sim, OLD, "to an old chat")["status"] == "accepted"  # history: not new
        assert send(sim, OWN, "note to self")["status"] == "accepted"  # "Message yourself" never counts
        assert sim.limits()["new_chats"]["started"] == 1
        sim.deliver("+15550000003", "hi, I saw your ad")  # they wrote first: a chat with history
        assert send(sim, "+15550000003", "thanks")["status"] == "accepted"
        assert send(sim, NEW_B, "two")["status"] == "accepted"
        limits = sim.limits()["new_chats"]
        assert limits["started"] == 2 and limits["limited"] is True
        assert 11 * 3600 - 5 < limits["until"] - time.time() <= 11 * 3600
        refused = send(sim, "+15550000004", "three")
        assert (refused["status"], refused["reason"]) == ("failed", "new_chat_limit")
        assert send(sim, "+15550000004", "three, again")["status"] == "failed"  # a refused send is no history
        for phone in (NEW_A, NEW_B, OLD, OWN):  # chats with history keep working
            assert send(sim, phone, "still fine")["status"] == "accepted"
        assert send(sim, "+15550000005", "other account", account=OTHER_ACCOUNT)["status"] == "accepted"
        assert sim.limits(OTHER_ACCOUNT)["new_chats"]["limited"] is False  # per account
        texts = [m["text"] for m in sim.ledger()["messages"]]
        assert "three" not in texts and "three, again" not in texts
        assert sim.limits()["refused"] == 2
        opened = sim.state.open_chat("+15550000004", "in_app", account=OWN)
        assert [m["status"] for m in opened["history"]] == ["failed", "failed"]
        assert opened["limits"]["new_chats"] is not None
        # the timelock ends: counting starts again
        sim.configure(new_chat_limit_hours=0.0002)
        time.sleep(0.75)
        assert sim.limits()["new_chats"] == {"started": 0, "limit": 2, "limited": False, "until": None}
        assert send(sim, "+15550000004", "now it goes")["status"] == "accepted"
        # "later": no end until the setting changes
        sim.configure(new_chat_limit_after=0, new_chat_limit_hours=None)
        assert sim.limits()["new_chats"]["limited"] is True and sim.limits()["new_chats"]["until"] is None
        assert send(sim, "+15550000006", "x")["status"] == "failed"
        sim.configure(new_chat_limit_after=None)
        assert send(sim, "+15550000006", "x")["status"] == "accepted"


def test_restriction_ban_and_failure_marks_refuse_sends_and_keep_them_out_of_the_ledger() -> None:
    with make_sim(ack_delay=0) as sim:
        sim.configure(restricted_until=time.time() + 0.4)
        assert send(sim, OLD, "restricted")["reason"] == "restricted"
        assert send(sim, OWN, "to myself")["reason"] == "restricted"  # every chat
        time.sleep(0.5)
        assert sim.limits()["restricted_until"] is None  # it lifts by itself
        assert send(sim, OLD, "after")["status"] == "accepted"
        sim.configure(banned=True)
        assert send(sim, OLD, "banned")["reason"] == "banned"
        assert sim.get_state()["logged_in"] is True  # banned is no logout
        sim.configure(banned=False, fail_sends=2, fail_numbers=["+15550004444"])
        assert [send(sim, OLD, f"fault {i}")["status"] for i in range(3)] == ["failed", "failed", "accepted"]
        assert sim.settings["fail_sends"] == 0
        assert send(sim, "+1 555 000 4444", "to a failing number")["reason"] == "fault"
        again = sim.state.send(OLD, "3EB0AAAA0009", "same id", account=OWN, typing=[])
        sim.configure(fail_sends=1)
        sim.state.send(OLD, "3EB0AAAA0010", "fails", account=OWN)
        # the page sends a message again with its id when an answer was lost: still refused
        assert sim.state.send(OLD, "3EB0AAAA0010", "fails", account=OWN)["status"] == "failed"
        assert again["status"] == "accepted"
        assert [m["text"] for m in sim.ledger()["messages"]] == ["after", "fault 2", "same id"]
        assert sim.limits()["refused"] == 7
        # the phone offline: a refused send is refused at once, an allowed one waits
        sim.configure(phone_connected=False, fail_numbers=[OLD])
        assert send(sim, OLD, "x")["status"] == "failed" and send(sim, NEW_A, "y")["status"] == "queued"


def test_the_unanswered_counter_counts_messages_nobody_replied_to() -> None:
    with make_sim(ack_delay=0, unanswered_cap=4, unanswered_warn=0.75) as sim:
        sim.seed_history(OLD, "an old campaign", at=time.time() - 60)  # not sent this run: not counted
        for phone in (NEW_A, NEW_A, NEW_B):
            send(sim, phone, "offer")
        send(sim, OWN, "note to self")
        assert sim.limits()["unanswered"] == {"count": 3, "cap": 4, "banner": True}
        assert sim.state.app_state(sim.state.session_for(None)[0])["limits"]["unanswered"] == {"count": 3, "cap": 4}
        sim.deliver(NEW_A, "yes please")  # a reply: their messages no longer count
        assert sim.limits()["unanswered"] == {"count": 1, "cap": 4, "banner": False}
        sim.configure(fail_sends=1)
        send(sim, "+15550000007", "refused")  # never accepted: not counted
        assert sim.limits()["unanswered"]["count"] == 1
        sim.configure(unanswered_count=199, unanswered_cap=200)
        assert sim.limits()["unanswered"] == {"count": 199, "cap": 200, "banner": True}
        sim.configure(unanswered_cap=None)
        assert sim.limits()["unanswered"]["banner"] is False


@pytest.mark.parametrize(
    "argv",
    [
        ["--new-chat-limit", "-1"],
        ["--new-chat-limit", "x"],
        ["--new-chat-limit-hours", "0"],
        ["--new-chat-limit-hours", "soon"],
        ["--restricted-until", "25:00"],
        ["--restricted-until", "tomorrow"],
        ["--restricted-until", "+5y"],
        ["--unanswered-cap", "0"],
        ["--unanswered-warn", "2"],
        ["--unanswered-count", "-3"],
        ["--fail-sends", "many"],
        ["--fail-numbers", "+1555x"],
        ["--banned", "yes"],
    ],
)
def test_bad_limit_flags_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2 and "error:" in capsys.readouterr().err


def test_limit_flags_reach_the_settings() -> None:
    before = time.time()
    flags = (
        "--port 0 --new-chat-limit 20 --new-chat-limit-hours later --restricted-until +30m --banned "
        "--unanswered-cap 200 --unanswered-warn 0.5 --unanswered-count 180 --fail-sends 2 "
        "--fail-numbers +15550001111,15550002222"
    )
    args = build_parser().parse_args(flags.split(" "))
    s = simulator_from_args(args).settings
    assert (s["new_chat_limit_after"], s["new_chat_limit_hours"], s["banned"]) == (20, None, True)
    assert before + 1800 <= s["restricted_until"] <= time.time() + 1800
    assert (s["unanswered_cap"], s["unanswered_warn"], s["unanswered_count"]) == (200, 0.5, 180)
    assert (s["fail_sends"], s["fail_numbers"]) == (2, ["15550001111", "15550002222"])
    at = build_parser().parse_args(["--restricted-until", "14:35"]).restricted_until
    t = time.localtime(at)
    assert (t.tm_hour, t.tm_min) == (14, 35) and time.time() < at <= time.time() + 86400
    assert build_parser().parse_args(["--restricted-until", "1900000000"]).restricted_until == 1900000000.0
    assert build_parser().parse_args(["--new-chat-limit-hours", "2.5"]).new_chat_limit_hours == 2.5
    s = simulator_from_args(build_parser().parse_args(["--port", "0"])).settings
    assert (s["new_chat_limit_after"], s["restricted_until"], s["banned"], s["unanswered_cap"]) == (
        None,
        None,
        False,
        None,
    )
    assert (s["new_chat_limit_hours"], s["fail_sends"]) == (11.0, 0)


# ----------------------------------------------------------------------------- in the browser


# `browser`: one Chromium for the module (tests/e2e/conftest.py).


def text_of(driver, css: str) -> str:
    """textContent (Selenium's .text would turn the narrow no-break space of 2026 times into a space)."""
    els = driver.find_elements(By.CSS_SELECTOR, css)
    return " ".join(driver.execute_script("return arguments[0].textContent", e) for e in els)


def boot(driver, sim: Simulator) -> None:
    driver.get(sim.url)
    find(driver, "#side #pane-side")


def open_chat(driver, phone: str) -> None:
    """Open a chat by a wa.me link and wait until its panel (compose bar or notice) is drawn."""
    driver.execute_script("document.querySelectorAll('#main').forEach((m) => { m.__old = true; })")
    click_link(driver, f"https://wa.me/{phone.lstrip('+')}")
    until(
        driver,
        lambda d: (
            d.execute_script("const m = document.getElementById('main'); return !!m && !m.__old")
            and d.find_elements(By.CSS_SELECTOR, "#main footer > *")
        ),
    )


def type_and_send(driver, text: str) -> None:
    box = find(driver, COMPOSE)
    box.click()
    box.send_keys(text)
    box.send_keys(Keys.ENTER)


def labelled(driver, scope: str, label: str) -> list[Any]:
    """Elements whose label (aria-label or title, wherever a build put it) is `label`."""
    return driver.execute_script(
        """return [...document.querySelectorAll(arguments[0] + ' *')].filter((e) =>
             e.getAttribute('aria-label') === arguments[1] || e.getAttribute('title') === arguments[1]);""",
        scope,
        label,
    )


def assert_no_compose_bar(driver) -> None:
    assert not driver.find_elements(By.CSS_SELECTOR, "#main footer [contenteditable]")
    assert not driver.find_elements(By.CSS_SELECTOR, "#main footer input, #main footer button")
    assert not labelled(driver, "#main footer", "Send") and not labelled(driver, "#main footer", "Attach")


@pytest.mark.browser
@pytest.mark.parametrize("dom, lang", [("2024", "en-US"), ("2026", "pt-BR")])
def test_new_people_get_the_notice_and_chats_with_history_keep_their_compose_box(browser, dom: str, lang: str) -> None:
    sim = make_sim(dom=dom, lang=lang, new_chat_limit_after=1)
    try:
        sim.seed_history(OLD, "our offer of last year", at=time.time() - 86400)
        boot(browser, sim)
        open_chat(browser, NEW_A)
        type_and_send(browser, "hello, new person")  # the one new chat allowed
        assert sim.wait_for_messages(1)[0]["text"] == "hello, new person"
        open_chat(browser, NEW_B)
        words = NEW_CHATS[lang if dom == "2026" else "en-US"]
        until(browser, lambda d: text_of(d, "#main footer") == words)
        assert_no_compose_bar(browser)
        notice = browser.find_element(By.CSS_SELECTOR, "#main footer > *")
        if dom == "2024":
            assert notice.get_attribute("role") == "status" and notice.get_attribute("data-testid") == "new-chat-limit"
        else:
            assert not browser.find_elements(By.CSS_SELECTOR, "[data-testid]")
        assert words not in text_of(browser, "#side")  # the limit is shown in the chat, not in the list
        for phone in (OLD, NEW_A):  # history: the compose box is there, sending works
            open_chat(browser, phone)
            type_and_send(browser, f"still fine {phone}")
        assert [m["text"] for m in sim.wait_for_messages(3)][1:] == [f"still fine {OLD}", f"still fine {NEW_A}"]
        # a reply makes the new person's chat one with history
        sim.deliver(NEW_B, "hi! who is this?")
        open_chat(browser, NEW_B)
        find(browser, COMPOSE)
        # the limit ends (the setting off): new people can be written to again
        sim.configure(new_chat_limit_after=None)
        open_chat(browser, "+15550000003")
        find(browser, COMPOSE)
    finally:
        sim.stop()


@pytest.mark.browser
@pytest.mark.parametrize("dom, lang", [("2024", "en-US"), ("2026", "fr-FR")])
def test_failure_marks_never_reach_the_ledger(browser, dom: str, lang: str) -> None:
    words = lang if dom == "2026" else "en-US"
    sim = make_sim(dom=dom, lang=lang, fail_sends=1, fail_numbers=[NEW_B])
    try:
        sim.seed_history(OLD, "our offer of last year", at=time.time() - 86400)
        boot(browser, sim)
        open_chat(browser, OLD)
        type_and_send(browser, "refused by the fault")
        until(browser, lambda d: labelled(d, "#main", NOT_SENT[words]))
        type_and_send(browser, "this one goes")
        sim.wait_for_messages(1)
        until(browser, lambda d: any(labelled(d, "#main", label) for label in ACKED[words]))
        mark = labelled(browser, "#main", NOT_SENT[words])[0]
        icon = mark if mark.get_attribute("data-icon") else mark.find_element(By.CSS_SELECTOR, "[data-icon]")
        assert icon.get_attribute("data-icon") == "msg-error"
        assert icon.value_of_css_property("color") == "rgba(234, 0, 56, 1)"  # red
        open_chat(browser, NEW_B)
        type_and_send(browser, "to a failing number")
        until(browser, lambda d: labelled(d, "#main", NOT_SENT[words]))
        # reopened: the failure mark is still there (the message stays in the chat, never sent)
        open_chat(browser, OLD)
        until(browser, lambda d: len(labelled(d, "#main", NOT_SENT[words])) == 1)
        # a stale page (it has not polled since the limit started) sends to a new person: refused
        sim.configure(poll_interval=30)
        time.sleep(0.4)  # the page's next poll picks up the long interval
        open_chat(browser, NEW_A)
        sim.configure(new_chat_limit_after=0)
        type_and_send(browser, "from a stale page")
        until(browser, lambda d: labelled(d, "#main", NOT_SENT[words]))
        assert [m["text"] for m in sim.ledger()["messages"]] == ["this one goes"]
        assert sim.limits()["refused"] == 3
        assert [s["status"] for s in sim.typing()[NEW_A]] == ["failed"]
    finally:
        sim.stop()


@pytest.mark.browser
@pytest.mark.parametrize("dom, lang", [("2024", "en-US"), ("2026", "en-US"), ("2026", "es-ES")])
def test_the_restriction_shows_everywhere_and_lifts_by_itself(browser, dom: str, lang: str) -> None:
    words = lang if dom == "2026" else "en-US"
    sim = make_sim(dom=dom, lang=lang)
    try:
        sim.seed_history(OLD, "our offer of last year", at=time.time() - 86400)
        boot(browser, sim)
        open_chat(browser, OLD)
        ends = time.time() + 3.5
        sim.configure(restricted_until=ends)
        title, sub = RESTRICTED[words]
        sub = sub.format(clock(ends, lang, dom))
        until(browser, lambda d: f"{title} {sub}" == text_of(d, "#main footer"))  # the open chat too
        assert_no_compose_bar(browser)
        banner = text_of(browser, "#side")
        assert title in banner and sub in banner
        if dom == "2024":
            assert browser.find_elements(By.CSS_SELECTOR, "#side [data-testid='alert-restricted'][role='alert']")
        for phone in (NEW_A, OWN):  # every chat, "Message yourself" too
            open_chat(browser, phone)
            assert text_of(browser, "#main footer") == f"{title} {sub}"
        assert time.time() < ends - 0.5
        assert sim.state.send(OLD, "", "refused", account=OWN)["reason"] == "restricted"
        # at its time, everything works again by itself
        find(browser, COMPOSE, timeout=ends - time.time() + 3)
        assert time.time() >= ends
        until(browser, lambda d: title not in text_of(d, "#side"))
        type_and_send(browser, "after the restriction")
        assert [m["text"] for m in sim.wait_for_messages(1)] == ["after the restriction"]
    finally:
        sim.stop()


@pytest.mark.browser
@pytest.mark.parametrize("dom, lang", [("2024", "en-US"), ("2026", "pt-BR")])
def test_the_ban_screen_replaces_the_app(browser, dom: str, lang: str) -> None:
    words = lang if dom == "2026" else "en-US"
    sim = make_sim(dom=dom, lang=lang, banned=True)
    try:
        browser.get(sim.url)
        title, body = BANNED[words]
        until(browser, lambda d: title in text_of(d, "#app"))
        assert body in text_of(browser, "#app")
        button = {"2024": "Contact support", "2026": "Saiba mais"}[dom]
        [control] = browser.find_elements(By.XPATH, f"//*[normalize-space()='{button}' and not(*)]")
        assert control.tag_name == "button" or control.get_attribute("role") == "button"
        control.click()  # leads nowhere: still the ban screen
        for css in ("#side", "#pane-side", "#main", "[data-ref]", "canvas", "#startup"):
            assert not browser.find_elements(By.CSS_SELECTOR, css), css
        assert bool(browser.find_elements(By.CSS_SELECTOR, "[data-testid='account-banned']")) == (dom == "2024")
        assert sim.get_state()["logged_in"] is True and sim.limits()["banned"] is True
        assert sim.state.send(OLD, "", "refused", account=OWN)["reason"] == "banned"
        assert sim.ledger()["messages"] == []
        browser.execute_script("window.__same_page = 'yes'")
        sim.configure(banned=False)  # unbanned: the app comes without a reload
        find(browser, "#side #pane-side")
        sim.configure(banned=True)  # banned while the app is open
        until(browser, lambda d: not d.find_elements(By.CSS_SELECTOR, "#side"))
        assert title in text_of(browser, "#app")
        assert browser.execute_script("return window.__same_page") == "yes"
    finally:
        sim.stop()


@pytest.mark.browser
@pytest.mark.parametrize("dom, lang", [("2024", "en-US"), ("2026", "de-DE")])
def test_the_unanswered_messages_banner(browser, dom: str, lang: str) -> None:
    words = UNANSWERED[lang if dom == "2026" else "en-US"]
    sim = make_sim(dom=dom, lang=lang, ack_delay=0, unanswered_cap=3, unanswered_warn=0.6)
    try:
        boot(browser, sim)
        send(sim, NEW_A, "offer")
        assert words.format(1, 3) not in text_of(browser, "#side")
        send(sim, NEW_B, "offer")
        until(browser, lambda d: words.format(2, 3) in text_of(d, "#side"))
        if dom == "2024":
            assert browser.find_elements(By.CSS_SELECTOR, "#side [data-testid='alert-unanswered'][role='alert']")
        sim.deliver(NEW_B, "interested!")  # a reply: below the warning again
        until(browser, lambda d: words.format(2, 3) not in text_of(d, "#side"))
        assert words.format(1, 3) not in text_of(browser, "#side")
        sim.configure(unanswered={"count": 180, "cap": 200})
        until(browser, lambda d: words.format(180, 200) in text_of(d, "#side"))
    finally:
        sim.stop()


@pytest.mark.browser
@pytest.mark.parametrize("dom", ["2024", "2026"])
def test_typing_is_recorded_before_each_send(browser, dom: str) -> None:
    sim = make_sim(dom=dom)
    try:
        boot(browser, sim)
        open_chat(browser, NEW_A)
        box = find(browser, COMPOSE)
        box.click()
        start = time.time()
        for chunk in ("Hello ", "there, ", "Ana"):
            box.send_keys(chunk)
            time.sleep(0.35)
        box.send_keys(Keys.BACKSPACE, "a!")
        box.send_keys(Keys.ENTER)
        # the worker's way for emoji: one insertText per chunk
        for chunk in ("Olá ", "👋"):
            browser.execute_script(
                "arguments[0].focus(); document.execCommand('insertText', false, arguments[1]);", box, chunk
            )
        find(browser, COMPOSE).send_keys(Keys.ENTER)
        msgs = sim.wait_for_messages(2)
        assert [m["text"] for m in msgs] == ["Hello there, Ana!", "Olá 👋"]
        first, second = sim.typing()[NEW_A]
        assert first["id"] == msgs[0]["id"] and first["text"] == "Hello there, Ana!" and first["status"] == "accepted"
        lengths = [e["length"] for e in first["events"]]
        assert lengths[0] == 1 and lengths[-1] == len("Hello there, Ana!") and len("Hello there, Ana") in lengths
        assert lengths.count(len("Hello there, An")) == 2  # a backspace is typing too
        times = [e["at"] for e in first["events"]]
        assert times == sorted(times) and start - 1 < times[0] and times[-1] - times[0] > 0.6  # over some time
        assert times[-1] <= first["sent_at"] + 0.5
        assert [e["length"] for e in second["events"]] == [4, 5]  # only what came after the first send
        assert second["sent_at"] >= first["sent_at"]
    finally:
        sim.stop()


@pytest.mark.browser
@pytest.mark.parametrize("dom, seed, lang", [("2024", 7, "en-US"), ("2026", 3, "pt-BR")])
def test_every_notice_in_a_seeded_build(browser, dom: str, seed: int, lang: str) -> None:
    """A build renames icons and classes, drops test ids, moves labels: the texts, the label
    values and where each notice sits stay."""
    words = lang if dom == "2026" else "en-US"
    sim = make_sim(dom=dom, lang=lang, mutate=seed, new_chat_limit_after=0, unanswered={"count": 180, "cap": 200})
    try:
        plan = sim.mutation()
        sim.seed_history(OLD, "our offer of last year", at=time.time() - 86400)
        boot(browser, sim)
        assert "You've sent 180 of 200" in text_of(browser, "#side") or "Você enviou 180 de 200" in text_of(
            browser, "#side"
        )
        open_chat(browser, NEW_A)
        until(browser, lambda d: text_of(d, "#main footer").startswith(NEW_CHATS[words][:20]))
        assert_no_compose_bar(browser)
        open_chat(browser, OLD)
        sim.configure(fail_sends=1)
        type_and_send(browser, "refused in a build")
        until(browser, lambda d: labelled(d, "#main", NOT_SENT[words]))
        icons = {e.get_attribute("data-icon") for e in browser.find_elements(By.CSS_SELECTOR, "#main [data-icon]")}
        assert plan["icons"].get("msg-error", "msg-error") in icons
        ends = time.time() + 600
        sim.configure(restricted_until=ends)
        title = {"en-US": "Your account is restricted.", "pt-BR": "Sua conta está restrita."}[words]
        until(browser, lambda d: text_of(d, "#main footer").startswith(title) and title in text_of(d, "#side"))
        names = browser.execute_script(
            "return [...document.querySelectorAll('#app *')].flatMap((e) => [...e.classList])"
        )
        if "classes" in plan["operators"]:
            assert not {"compose-blocked", "alert-restricted", "alert-unanswered", "failed"} & set(names)
        if "icons" in plan["operators"]:
            assert not icons & {"msg-error", "alert-limit"}
        if "testids" in plan["operators"]:
            assert not browser.find_elements(By.CSS_SELECTOR, "[data-testid]")
        sim.configure(banned=True)
        ban_title = BANNED[words][0]
        until(browser, lambda d: ban_title in text_of(d, "#app"))
        button = {"2024": "Contact support", "2026": "Saiba mais"}[dom]
        assert browser.find_elements(By.XPATH, f"//*[normalize-space()='{button}' and not(*)]")
        assert not browser.find_elements(By.CSS_SELECTOR, "#side, [data-ref]")
        assert sim.ledger()["messages"] == []
    finally:
        sim.stop()
