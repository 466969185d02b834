"""Builds nobody wrote selectors for (`mutate`), status labels in every language and
" Read ", the French page, the account's own profile name and "Message yourself".

The browser tests find everything the way a person (or the product's self-repair) would:
by texts, label values, `data-pre-plain-text`, the footer's editable, the layout; never by
the names a build changes."""

from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.request
from typing import Any

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from simulator import Simulator, mutate
from simulator.cli import build_parser, main, simulator_from_args
from simulator.server import DOMS
from tests.support.page import click_link, find, leaving_is_guarded, until
from tests.support.waiting import TimedOut

CONTACT = "15550001111"
OWN = "+15550100000"
ACK_EN = {"pending": " Pending ", "sent": " Sent ", "delivered": " Delivered ", "read": " Read "}
ACK = {
    "en-US": ACK_EN,
    "pt-BR": {"pending": " Pendente ", "sent": " Enviada ", "delivered": " Entregue ", "read": " Lida "},
    "fr-FR": {"pending": " En attente ", "sent": " Envoyé ", "delivered": " Distribué ", "read": " Lu "},
}
TYPE = {"en-US": "Type a message", "pt-BR": "Digite uma mensagem", "fr-FR": "Entrez un message"}


def make_sim(**settings: Any) -> Simulator:
    base = {"boot_time": 0.2, "ack_delay": 0.1, "dblcheck_delay": 0.2, "poll_interval": 0.1, "lang": "en-US"}
    sim = Simulator(port=0, **{**base, **settings}).start()
    sim.login()
    return sim


def call(sim: Simulator, method: str, path: str, body: Any = None) -> Any:
    data = json.dumps(body).encode() if body is not None else (b"" if method == "POST" else None)
    req = urllib.request.Request(sim.url + path, data=data, method=method, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=5) as r:
        raw = r.read()
        return json.loads(raw) if r.headers.get_content_type() == "application/json" else raw.decode()


# ----------------------------------------------------------------------------- without a browser


def test_a_seed_always_draws_the_same_build_and_seeds_differ() -> None:
    assert mutate.plan(0) is None and mutate.plan(None) is None
    plans = {seed: mutate.plan(seed) for seed in range(1, 41)}
    assert plans[5] == mutate.plan(5) and mutate.stylesheet(5) == mutate.stylesheet(5)
    assert len({json.dumps(p, sort_keys=True) for p in plans.values()}) == 40
    for seed, p in plans.items():
        assert len(p["operators"]) >= 3 and set(p["operators"]) <= set(mutate.OPERATORS)
        for old, new in p["icons"].items():
            assert not any(o in new for o in mutate.ICON_NAMES), (seed, old, new)
            assert re.fullmatch(r"[a-z0-9-]+", new)
        assert p["icons"].get("send") == p["icons"].get("wds-ic-send-filled")
        assert len(set(p["icons"].values())) == len(p["icons"]) - (1 if p["icons"] else 0)
        names = list(p["classes"].values()) + list(p["hooks"].values()) + list(p["ids"].values())
        assert len(set(names)) == len(names) and all(re.fullmatch(r"x[0-9a-z]{1,7}", n) for n in names)
        assert not set(p["classes"]) & set(names)
    # seeds 1..6 (the browser tests' seeds) together use every operator
    assert set().union(*(plans[s]["operators"] for s in range(1, 7))) == set(mutate.OPERATORS)
    # the page derives the names of classes the plan does not list with the same hash
    assert mutate.token(3, "c", "msg") == "x" + format_base36(mutate.fnv1a("3:c:msg"))


def format_base36(n: int) -> str:
    return "0" if n == 0 else format_base36(n // 36).lstrip("0") + "0123456789abcdefghijklmnopqrstuvwxyz"[n % 36]


def test_mutate_setting_api_stylesheet_and_page() -> None:
    with Simulator(port=0, mutate=3) as sim:
        assert sim.settings["mutate"] == 3 and sim.get_state()["settings"]["mutate"] == 3
        assert sim.mutation() == mutate.plan(3) == call(sim, "GET", "/__sim__/mutation")
        assert call(sim, "GET", "/__sim__/mutation?seed=4")["seed"] == 4
        for bad in ("abc", -1, 1.5, True, 2**40):
            with pytest.raises(ValueError):
                sim.configure(mutate=bad)
            with pytest.raises(urllib.error.HTTPError) as err:
                call(sim, "POST", "/__sim__/config", {"mutate": bad})
            assert err.value.code == 400
        with pytest.raises(urllib.error.HTTPError) as err:
            call(sim, "GET", "/__sim__/mutation?seed=x")
        assert err.value.code == 400
        assert sim.settings["mutate"] == 3  # nothing half-applied
        plan = sim.mutation()
        assert "classes" in plan["operators"]
        page = call(sim, "GET", "/")
        assert "/__sim__/static/app.css?build=3" in page and '"mutate": 3' in page
        assert 'class="startup"' not in page and f'class="{plan["classes"]["startup"]}"' in page
        assert 'id="startup"' in page  # the ids of the contract stay
        css = call(sim, "GET", "/__sim__/static/app.css?build=3")
        assert ".bubble " not in css and f".{plan['classes']['bubble']} " in css
        assert 'div[role="row"]' not in css and "#new-chat" not in css
        assert call(sim, "GET", "/__sim__/static/app.css").startswith("/* WhatsApp Web simulator")
        assert sim.configure(mutate=0)["mutate"] is None
        assert sim.mutation() == {"seed": None, "operators": [], "icons": {}, "classes": {}}
        assert call(sim, "POST", "/__sim__/config", {"mutate": 9})["mutate"] == 9
        sim.reset()
        assert sim.settings["mutate"] == 3  # the start settings


def test_new_settings_validate_and_read_after_reaches_the_page_state() -> None:
    with Simulator(port=0, ack_delay=0.0, dblcheck_delay=0.0, logged_in=True) as sim:
        assert sim.settings["read_after"] is None and sim.settings["own_name"] == "Sim User"
        assert sim.settings["sender_style"] == "auto"
        for key, bad in (("read_after", -1), ("own_name", " "), ("own_name", 3), ("sender_style", "me")):
            with pytest.raises(ValueError):
                sim.configure(**{key: bad})
        st = sim.state
        session, _ = st.session_for(None)
        assert st.send(CONTACT, "hi", "3EB0AAAA0001", account=OWN)["read_in"] is None
        sim.configure(read_after=0.5)
        view = st.send(CONTACT, "read me", "3EB0AAAA0002", account=OWN)
        assert 0.4 < view["read_in"] <= 0.5 and view["dbl_in"] == 0
        app = st.app_state(session)
        assert app["own_name"] == "Sim User" and app["settings"]["read_after"] == 0.5
        # other accounts: "Sim User 2", "Sim User 3" … in the order they became known
        st._account("+15550107001")
        st._account("+15550107002")
        assert st.account_name("+15550107002") == "Sim User 3"
        sim.configure(own_name="Ana Lima")
        assert st.account_name(OWN) == "Ana Lima" and st.account_name("+15550107001") == "Ana Lima 2"
        # "Message yourself": the own chat is named by the account
        opened = st.open_chat(OWN, "in_app", account=OWN)
        assert opened["self"] is True and opened["name"] == "Ana Lima"
        assert st.open_chat(CONTACT, "in_app", account=OWN)["self"] is False


@pytest.mark.parametrize(
    "argv",
    [
        ["--mutate", "abc"],
        ["--mutate", "-1"],
        ["--mutate", "1.5"],
        ["--read-after", "x"],
        ["--own-name", " "],
        ["--sender-style", "me"],
        ["--lang", "it-IT"],
    ],
)
def test_bad_new_flags_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2 and "error:" in capsys.readouterr().err


def test_new_flags_reach_the_settings() -> None:
    args = build_parser().parse_args(
        [
            "--port",
            "0",
            "--mutate",
            "3",
            "--read-after",
            "2",
            "--own-name",
            "Ana",
            "--sender-style",
            "name",
            "--lang",
            "fr-FR",
        ]
    )
    s = simulator_from_args(args).settings
    assert (s["mutate"], s["read_after"], s["own_name"], s["sender_style"], s["lang"]) == (
        3,
        2.0,
        "Ana",
        "name",
        "fr-FR",
    )
    s = simulator_from_args(build_parser().parse_args(["--port", "0"])).settings
    assert (s["mutate"], s["read_after"], s["sender_style"]) == (None, None, "auto")


# ----------------------------------------------------------------------------- in the browser


# `browser`: one Chromium for the module (tests/e2e/conftest.py).


# What the page shows a person (and what the product's self-repair reads).
NAMES_JS = """
const classes = new Set(), icons = new Set(), attrs = new Set(), ids = new Set();
for (const el of document.querySelectorAll('#app, #app *')) {
  for (const c of el.classList) classes.add(c);
  for (const a of el.getAttributeNames()) attrs.add(a);
  if (el.hasAttribute('data-icon')) icons.add(el.getAttribute('data-icon'));
  if (el.id) ids.add(el.id);
}
return {classes: [...classes], icons: [...icons], attrs: [...attrs], ids: [...ids],
        testids: document.querySelectorAll('[data-testid]').length,
        phones: document.querySelectorAll('[data-phone]').length};
"""
LABELS_JS = """
const out = [];
for (const el of document.querySelectorAll(arguments[0] + ' *')) {
  const v = el.getAttribute('aria-label') || el.getAttribute('title') || el.getAttribute('data-placeholder')
    || el.getAttribute('aria-placeholder');
  if (v) out.push(v);
}
return out;
"""
BUBBLES_JS = """
const main = document.getElementById('main').getBoundingClientRect();
return [...document.querySelectorAll('#main [data-pre-plain-text]')].map((e) => {
  let b = e;   // the bubble: the nearest element with a background of its own
  while (b && getComputedStyle(b).backgroundColor === 'rgba(0, 0, 0, 0)') b = b.parentElement;
  const r = b.getBoundingClientRect();
  return {pre: e.getAttribute('data-pre-plain-text'), text: b.innerText, left: r.left, right: r.right,
          mid: main.left + main.width / 2};
});
"""
COMPOSE = "#main footer [contenteditable='true']"


def acks_in_chat(driver, lang: str = "en-US") -> list[str]:
    labels = set(ACK[lang].values())
    return [v for v in driver.execute_script(LABELS_JS, "#main") if v in labels]


def boot(driver, sim: Simulator) -> None:
    driver.get(sim.url)
    find(driver, "#side #pane-side")


def open_by_link(driver, digits: str) -> Any:
    click_link(driver, f"https://wa.me/{digits}")
    return find(driver, COMPOSE)


def type_and_send(driver, text: str) -> None:
    box = find(driver, COMPOSE)
    box.click()
    box.send_keys(text)
    box.send_keys(Keys.ENTER)


def visible_names(driver) -> dict[str, Any]:
    return driver.execute_script(NAMES_JS)


def check_layout(driver, sender: str) -> None:
    bubbles = driver.execute_script(BUBBLES_JS)
    outs = [b for b in bubbles if b["pre"].endswith(f"] {sender}: ")]
    ins = [b for b in bubbles if b["pre"].endswith(f"] +{CONTACT}: ")]
    assert outs and ins, bubbles
    assert all(b["left"] > b["mid"] for b in outs), outs  # ours on the right
    assert all(b["right"] < b["mid"] for b in ins), ins  # theirs on the left
    box = driver.find_element(By.CSS_SELECTOR, COMPOSE)
    footer = driver.find_element(By.CSS_SELECTOR, "#main footer")
    assert box.is_displayed() and box.size["height"] > 0
    b, f = box.rect, footer.rect
    assert f["y"] <= b["y"] and b["y"] + b["height"] <= f["y"] + f["height"] + 1


def scenario(driver, sim: Simulator, text: str) -> dict[str, Any]:
    """Boot, open the contact's chat by a wa.me link, type a message and send it with Enter;
    the phone banner on; what the page then shows."""
    boot(driver, sim)
    open_by_link(driver, CONTACT)
    before = len(sim.ledger()["messages"])
    type_and_send(driver, text)
    assert sim.wait_for_messages(before + 1, timeout=5)[-1]["text"] == text
    ours = len(sim.ledger()["messages"]) + 1  # and the earlier offer
    until(driver, lambda d: acks_in_chat(d) == [ACK_EN["delivered"]] * ours)
    sim.configure(phone_connected=False)
    until(
        driver,
        lambda d: (
            "Phone not connected" in d.find_element(By.ID, "side").text
            or "Trying to reach phone" in d.find_element(By.ID, "side").text
        ),
    )
    names = visible_names(driver)
    names["main_text"] = driver.find_element(By.ID, "main").text
    names["labels"] = driver.execute_script(LABELS_JS, "#app")
    sim.configure(phone_connected=True)
    return names


@pytest.mark.browser
@pytest.mark.parametrize("dom", DOMS)
def test_builds_1_to_6_change_every_name_but_not_what_a_person_sees(browser, dom: str) -> None:
    sim = make_sim(dom=dom)
    try:
        at = time.time() - 3600
        sim.seed_history("+" + CONTACT, "an earlier offer", at=at)
        sim.seed_history("+" + CONTACT, "thanks, tell me more", at=at + 60, incoming=True)
        base = scenario(browser, sim, "as written")
        assert base["testids"] == (1 if dom == "2024" else 0) and base["phones"] > 0
        for seed in range(1, 7):
            sim.configure(mutate=seed)
            plan = sim.mutation()
            ops = plan["operators"]
            seen = scenario(browser, sim, f"build {seed}")
            where = f"dom {dom}, seed {seed} {ops}"
            # the names the build changes
            if "icons" in ops:
                assert not set(seen["icons"]) & set(mutate.ICON_NAMES), where
                assert {plan["icons"][i] for i in base["icons"]} == set(seen["icons"]), where
            if "classes" in ops:
                assert not set(seen["classes"]) & set(base["classes"]), where
                assert not set(seen["ids"]) & (set(base["ids"]) - set(mutate.KEPT_IDS)), where
                assert {"app", "side", "pane-side", "main"} <= set(seen["ids"]), where
            if "testids" in ops:
                assert seen["testids"] == 0, where
            if "attributes" in ops:
                assert "data-lexical-editor" not in seen["attrs"] and "data-animate-modal-popup" not in seen["attrs"]
                if plan["attributes"]["data-id"] != "data-id":
                    assert "data-id" not in seen["attrs"] and plan["attributes"]["data-id"] in seen["attrs"]
            if "rows" in ops and plan["rows"]["row"] != "keep":
                assert not browser.find_elements(By.CSS_SELECTOR, "#main div[role='row']"), where
            if "labels" in ops:
                assert "aria-placeholder" not in seen["attrs"], where
            assert seen["phones"] == 0, where  # the page's own hooks never show in a build
            # what a person sees does not change
            for text in ("an earlier offer", "thanks, tell me more", f"build {seed}"):
                assert text in seen["main_text"], where
            for label in ("Type a message", "Attach", " Delivered ", "Chat list"):
                assert label in seen["labels"], (where, label)
            check_layout(browser, "You")
            assert browser.find_elements(By.CSS_SELECTOR, "#side #pane-side")
            assert browser.find_elements(By.CSS_SELECTOR, "#main header") and browser.find_elements(
                By.CSS_SELECTOR, "#main footer"
            )
    finally:
        sim.stop()


@pytest.mark.browser
@pytest.mark.parametrize("dom, seed", [("2024", 7), ("2026", 4)])
def test_a_person_can_use_a_build(browser, dom: str, seed: int) -> None:
    """wa.me link, the footer's editable, Enter: the message is in the ledger and its status
    label goes Pending -> Sent / Delivered, wherever the build put the label."""
    sim = make_sim(dom=dom, mutate=seed, ack_delay=0.6)
    try:
        boot(browser, sim)
        open_by_link(browser, CONTACT)
        type_and_send(browser, "typed by a person")
        until(browser, lambda d: acks_in_chat(d) == [ACK_EN["pending"]])
        [msg] = sim.wait_for_messages(1)
        assert (msg["phone"], msg["text"]) == ("+" + CONTACT, "typed by a person")
        until(browser, lambda d: acks_in_chat(d) and acks_in_chat(d)[0] in (ACK_EN["sent"], ACK_EN["delivered"]))
        # the send control (by its label, whatever its tag) sends too
        box = find(browser, COMPOSE)
        box.send_keys("and clicked")
        labels = [
            e
            for e in browser.find_elements(By.CSS_SELECTOR, "#main footer *")
            if "Send" in (e.get_attribute("aria-label"), e.get_attribute("title"))
        ]
        labels[0].click()
        assert sim.wait_for_messages(2)[-1]["text"] == "and clicked"
        assert browser.execute_script("return localStorage.getItem('last-wid-md')") == '"15550100000:12@c.us"'
    finally:
        sim.stop()


def by_label(driver, scope: str, label: str):
    """The visible element whose label (aria-label or title, wherever the build put it) is `label`."""
    return next(
        (
            e
            for e in driver.find_elements(By.CSS_SELECTOR, f"{scope} *")
            if label in (e.get_attribute("aria-label"), e.get_attribute("title")) and e.is_displayed()
        ),
        None,
    )


@pytest.mark.browser
@pytest.mark.parametrize("dom", DOMS)
def test_an_attachment_with_a_caption_in_a_build(browser, tmp_path, dom: str) -> None:
    doc = tmp_path / "price list.pdf"
    doc.write_bytes(b"%PDF-1.4\n" + bytes(range(256)))
    sim = make_sim(dom=dom, mutate=7)
    try:
        boot(browser, sim)
        open_by_link(browser, CONTACT)
        by_label(browser, "#main footer", "Attach").click()
        find(browser, "#main footer input[type='file'][accept='*']").send_keys(str(doc))
        caption = until(browser, lambda d: by_label(d, "#app", "Add a caption"))  # the preview
        caption.send_keys("our prices")
        by_label(browser, "#app", "Send").click()
        [msg] = sim.wait_for_messages(1)
        assert (msg["attachment"]["name"], msg["attachment"]["kind"], msg["caption"]) == (
            "price list.pdf",
            "document",
            "our prices",
        )
        until(browser, lambda d: "our prices" in d.find_element(By.ID, "main").text)
        assert find(browser, COMPOSE).is_displayed()  # the preview is gone, the footer back
    finally:
        sim.stop()


@pytest.mark.browser
@pytest.mark.parametrize("dom", DOMS)
def test_a_new_build_mid_run_reloads_the_page_and_the_tick_still_comes(browser, dom: str) -> None:
    sim = make_sim(dom=dom, mutate=2, ack_delay=1.5)
    try:
        boot(browser, sim)
        open_by_link(browser, CONTACT)
        type_and_send(browser, "sent before the update")
        until(browser, lambda d: acks_in_chat(d) == [ACK_EN["pending"]])
        assert leaving_is_guarded(browser) is True  # the clock shows: leaving would ask
        # Record, after the page's own handler, whether the real unload asked "Leave site?".
        browser.execute_script("""window.__same_page = 'yes';
            window.addEventListener('beforeunload', (e) => sessionStorage.setItem('asked',
              String(e.defaultPrevented)));""")
        loads = sim.ledger()["page_loads"]
        sim.configure(mutate=7)
        until(browser, lambda d: d.execute_script("return window.__same_page") is None)
        find(browser, "#side #pane-side")
        assert browser.execute_script("return sessionStorage.getItem('asked')") == "false"
        assert sim.ledger()["page_loads"] == loads + 1
        assert (
            browser.find_element(By.CSS_SELECTOR, "link[rel=stylesheet]")
            .get_attribute("href")
            .endswith("app.css?build=7")
        )
        open_by_link(browser, CONTACT)
        until(browser, lambda d: acks_in_chat(d) and acks_in_chat(d)[0] in (ACK_EN["sent"], ACK_EN["delivered"]))
        icons = set(visible_names(browser)["icons"])
        assert sim.mutation()["icons"]["msg-check"] in icons or sim.mutation()["icons"]["msg-dblcheck"] in icons
        assert [m["text"] for m in sim.ledger()["messages"]] == ["sent before the update"]
        # back to the page as written: it reloads again
        browser.execute_script("window.__same_page = 'yes'")
        sim.configure(mutate=0)
        until(browser, lambda d: d.execute_script("return window.__same_page") is None)
        find(browser, "#side #pane-side")
        assert browser.find_element(By.CSS_SELECTOR, "link[rel=stylesheet]").get_attribute("href").endswith("/app.css")
    finally:
        sim.stop()


@pytest.mark.browser
@pytest.mark.parametrize(
    "dom, lang, words", [("2026", "pt-BR", "pt-BR"), ("2026", "fr-FR", "fr-FR"), ("2024", "pt-BR", "en-US")]
)
def test_status_labels_follow_the_language_and_read_after_shows_read(browser, dom: str, lang: str, words: str) -> None:
    sim = make_sim(dom=dom, lang=lang, ack_delay=0.4, dblcheck_delay=0.4, read_after=1.4, sender_style="you")
    try:
        boot(browser, sim)
        open_by_link(browser, CONTACT)
        type_and_send(browser, "bonjour / olá")
        seen = []

        def progressed(d) -> bool:
            now = acks_in_chat(d, words)
            if now and (not seen or seen[-1] != now[0]):
                seen.append(now[0])
            return bool(seen) and seen[-1] == ACK[words]["read"]

        until(browser, progressed, 6)
        assert seen == [ACK[words][k] for k in ("pending", "sent", "delivered", "read")]
        if dom == "2026":
            assert TYPE[lang] in browser.execute_script(LABELS_JS, "#main footer")
        pre = browser.find_element(By.CSS_SELECTOR, "#main [data-pre-plain-text]").get_attribute("data-pre-plain-text")
        you = {"pt-BR": "Você", "fr-FR": "Vous"}[lang] if dom == "2026" else "You"
        assert re.fullmatch(r"\[\d{2}:\d{2}, \d{2}/\d{2}/\d{4}\] " + you + ": ", pre), pre  # 14:05, 30/11/2026
        # a chat opened again shows " Read " at once
        open_by_link(browser, "15550002222")
        open_by_link(browser, CONTACT)
        until(browser, lambda d: acks_in_chat(d, words) == [ACK[words]["read"]])
    finally:
        sim.stop()


@pytest.mark.browser
@pytest.mark.parametrize(
    "dom, lang, settings, sender, title",
    [
        ("2026", "pt-BR", {}, "Sim User", "Sim User (Você)"),  # pt-BR 2026: the name by default
        ("2024", "en-US", {"sender_style": "name", "own_name": "Ana Lima"}, "Ana Lima", "Ana Lima (You)"),
        ("2026", "en-US", {}, "You", "Sim User (You)"),  # elsewhere: "You" by default
    ],
)
def test_own_profile_name_and_message_yourself(
    browser, dom: str, lang: str, settings: dict[str, Any], sender: str, title: str
) -> None:
    sim = make_sim(dom=dom, lang=lang, **settings)
    try:
        boot(browser, sim)
        open_by_link(browser, OWN.lstrip("+"))  # "Message yourself": like any chat
        until(
            browser,
            lambda d: d.find_element(By.CSS_SELECTOR, "#main header span[title]").get_attribute("title") == title,
        )
        type_and_send(browser, "note to self")
        [msg] = sim.wait_for_messages(1)
        assert (msg["phone"], msg["account"], msg["text"]) == (OWN, OWN, "note to self")
        meta = find(browser, "#main [data-pre-plain-text]")
        assert meta.get_attribute("data-pre-plain-text").endswith(f"] {sender}: ")
        until(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#main span[data-icon='msg-dblcheck']"))
        until(browser, lambda d: title in d.find_element(By.ID, "pane-side").text)  # the chat list too
    finally:
        sim.stop()


@pytest.mark.browser
def test_a_build_draws_the_same_names_on_every_load(browser) -> None:
    sim = make_sim(dom="2026", mutate=4)
    try:
        sim.seed_history("+" + CONTACT, "hello", at=time.time() - 60)

        def names() -> dict[str, Any]:
            boot(browser, sim)
            open_by_link(browser, CONTACT)
            until(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#main [data-pre-plain-text]"))
            n = visible_names(browser)
            return {k: sorted(v) if isinstance(v, list) else v for k, v in n.items()}

        first, second = names(), names()
        assert first == second
        plan = sim.mutation()
        assert mutate.token(4, "c", "msg") in first["classes"]  # a class only the script knows: same hash
        assert plan["classes"]["bubble"] in first["classes"]
        sim.configure(mutate=5)
        other = names()
        assert set(other["classes"]) != set(first["classes"])
    finally:
        sim.stop()


def innermost(root, text: str):
    """The element a person clicks: the innermost one showing `text`."""
    return root.find_element(By.XPATH, f".//*[normalize-space()='{text}' and not(*[normalize-space()='{text}'])]")


@pytest.mark.browser
def test_dialogs_and_the_qr_page_in_a_build(browser) -> None:
    """The QR page (data-ref), the invalid-number popup and "Use here" still work by their texts."""
    sim = Simulator(
        port=0, boot_time=0.2, poll_interval=0.1, dom="2024", lang="en-US", mutate=7, invalid_suffix="13"
    ).start()
    try:
        browser.get(sim.url)
        holder = find(browser, "[data-ref]")
        assert holder.get_attribute("data-ref") == sim.get_state()["qr"]["ref"]
        sim.login()
        find(browser, "#side #pane-side")
        click_link(browser, "https://wa.me/15550000013")
        popup = find(browser, "[role='dialog']")
        assert "Phone number shared via url is invalid." in popup.text
        innermost(popup, "OK").click()
        until(browser, lambda d: not d.find_elements(By.CSS_SELECTOR, "[role='dialog']"))
        sim.show_use_here()
        popup = find(browser, "[role='dialog']")
        innermost(popup, "Use here").click()
        find(browser, "#side #pane-side")
        with pytest.raises(TimedOut):
            find(browser, "[data-animate-modal-popup], [data-testid]", timeout=0.3)
    finally:
        sim.stop()
