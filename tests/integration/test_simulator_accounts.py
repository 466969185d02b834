"""The simulator serves several WhatsApp accounts at once: every browser profile is one
linked device (known by a cookie), linked to an account by a scan of its own QR code.
Here over plain HTTP, as a device would call it; in real browsers:
tests/e2e/test_simulator_accounts.py."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from typing import Any

import pytest

from simulator import ConfigError, Simulator
from tests.support.sim_fixtures import make_sim

NUM_A = "+15550107001"
NUM_B = "+15550107002"
CONTACT = "15550001111"
OWN = "+15550100000"  # settings.own_number: the default (legacy) account


@pytest.fixture
def sim():
    s = make_sim()
    yield s
    s.stop()


# ----------------------------------------------------------------------------- a device over plain HTTP


def request(sim: Simulator, method: str, path: str, body: Any = None, cookie: str | None = None):
    """(Set-Cookie header or None, the answer: JSON decoded, else bytes)."""
    data = json.dumps(body).encode() if body is not None else (b"" if method == "POST" else None)
    req = urllib.request.Request(sim.url + path, data=data, method=method, headers={"Content-Type": "application/json"})
    if cookie:
        req.add_header("Cookie", cookie)
    with urllib.request.urlopen(req, timeout=5) as r:
        raw = r.read()
        answer = json.loads(raw) if r.headers.get_content_type() == "application/json" else raw
        return r.headers.get("Set-Cookie"), answer


def control(sim: Simulator, method: str, path: str, body: Any = None) -> Any:
    set_cookie, answer = request(sim, method, path, body)
    assert set_cookie is None  # the control API makes no devices
    return answer


class Device:
    """What one browser profile does over HTTP: keeps the cookie the server gave it."""

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim
        self.cookie: str | None = None
        self.set_cookie: str | None = None  # the last Set-Cookie header seen

    def call(self, method: str, path: str, body: Any = None) -> Any:
        self.set_cookie, answer = request(self.sim, method, path, body, self.cookie)
        if self.set_cookie:
            self.cookie = self.set_cookie.split(";", 1)[0]
        return answer

    def boot(self) -> str:
        """A page load and the app's boot; the ref its QR code shows (or "" when logged in)."""
        self.call("GET", "/")
        st = self.call("POST", "/__sim__/app/qr/start", {"lang": "en-US"})
        return st["qr"]["ref"] if st["qr"] else ""

    def state(self) -> dict[str, Any]:
        return self.call("GET", "/__sim__/app/state")

    def send(self, phone: str, text: str, msg_id: str) -> dict[str, Any]:
        return self.call("POST", "/__sim__/app/send", {"phone": phone, "id": msg_id, "text": text})

    def chat(self, phone: str) -> list[str]:
        return [m["text"] for m in self.call("POST", "/__sim__/app/history", {"phone": phone})["history"]]


# ----------------------------------------------------------------------------- without a browser


def test_a_page_load_gets_a_lasting_private_cookie_and_its_own_qr(sim: Simulator) -> None:
    a, b = Device(sim), Device(sim)
    ref_a, ref_b = a.boot(), b.boot()
    assert a.set_cookie is None  # set once, on the first page load; the app's calls send it back
    first = Device(sim)
    first.call("GET", "/")
    attrs = [p.strip().lower() for p in (first.set_cookie or "").split(";")]
    assert attrs[0].startswith("wa_sim_session=") and "httponly" in attrs and "samesite=strict" in attrs
    assert "path=/" in attrs and any(p.startswith("max-age=") and int(p[8:]) > 30 * 86400 for p in attrs)
    assert ref_a.startswith("2@") and ref_b.startswith("2@") and ref_a != ref_b
    pending = sim.pending_logins()
    assert [p["ref"] for p in pending] == [ref_a, ref_b] and not any(p["expired"] for p in pending)
    assert set(pending[0]) == {"session", "ref", "expired"}
    # A call without a (valid) cookie is a new device, whose answer sets its cookie.
    stranger = Device(sim)
    stranger.cookie = "wa_sim_session=not-one-of-ours-at-all"
    assert stranger.state()["logged_in"] is False and stranger.set_cookie
    assert len(sim.sessions()) == 4


def test_scan_links_each_device_to_its_own_account(sim: Simulator) -> None:
    a, b = Device(sim), Device(sim)
    ref_a, ref_b = a.boot(), b.boot()
    session_a = sim.scan(ref_a, "+1 555 010 7001")
    assert sim.scan(ref_b, NUM_B) != session_a
    sa, sb = a.state(), b.state()
    assert (sa["logged_in"], sa["own_number"], sa["qr"]) == (True, NUM_A, None)
    assert (sb["logged_in"], sb["own_number"]) == (True, NUM_B)
    assert sim.pending_logins() == []
    assert {s["session"]: s["account"] for s in sim.sessions()}[session_a] == NUM_A
    st = sim.get_state()
    assert st["logged_in"] is False  # the default account is not linked anywhere
    assert st["accounts"][NUM_A] == {"sessions": 1, "logged_in": True}
    assert st["accounts"][NUM_B] == {"sessions": 1, "logged_in": True}
    assert st["accounts"][OWN] == {"sessions": 0, "logged_in": False}

    assert a.send(CONTACT, "from A", "3EB0AAAA0001")["status"] == "accepted"
    assert b.send(CONTACT, "from B", "3EB0BBBB0001")["status"] == "accepted"
    # The same id in the other account is another message; in the same account a resend.
    assert b.send(CONTACT, "from A", "3EB0AAAA0001")["status"] == "accepted"
    assert a.send(CONTACT, "from A", "3EB0AAAA0001")["id"] == "3EB0AAAA0001"
    ledger = sim.ledger()["messages"]
    assert [(m["seq"], m["account"], m["text"]) for m in ledger] == [
        (1, NUM_A, "from A"),
        (2, NUM_B, "from B"),
        (3, NUM_B, "from A"),
    ]
    assert a.chat(CONTACT) == ["from A"] and b.chat(CONTACT) == ["from B", "from A"]
    assert [c["phone"] for c in a.call("GET", "/__sim__/app/chats")["chats"]] == ["+" + CONTACT]

    # A used ref, an unknown one and a malformed number are refused.
    for ref, number in ((ref_a, NUM_A), ("2@nope", NUM_A), (None, NUM_A)):
        with pytest.raises(ConfigError):
            sim.scan(ref, number)
    c = Device(sim)
    with pytest.raises(ConfigError):
        sim.scan(c.boot(), "12")


def test_an_expired_qr_code_cannot_be_scanned() -> None:
    sim = make_sim(qr_rotate_seconds=0.05, qr_max_rotations=0)
    try:
        d = Device(sim)
        ref = d.boot()
        time.sleep(0.12)  # past the one and only rotation: expired
        assert sim.pending_logins()[0]["expired"] is True
        with pytest.raises(ConfigError, match="expired"):
            sim.scan(ref, NUM_A)
        ref = d.call("POST", "/__sim__/app/qr/start")["qr"]["ref"]  # "Click to reload QR code"
        sim.configure(qr_rotate_seconds=60)
        sim.scan(ref, NUM_A)
        assert d.state()["own_number"] == NUM_A
    finally:
        sim.stop()


def test_logout_of_one_account_keeps_its_chats_for_the_next_scan(sim: Simulator) -> None:
    a, b = Device(sim), Device(sim)
    sim.scan(a.boot(), NUM_A)
    sim.scan(b.boot(), NUM_B)
    a.send(CONTACT, "before logout", "3EB0AAAA0002")
    sim.show_use_here(account=NUM_A)
    assert a.state()["use_here"] is True and b.state()["use_here"] is False
    sim.logout(NUM_A)
    sa = a.state()
    assert sa["logged_in"] is False and sa["qr"]["ref"].startswith("2@") and sa["own_number"] is None
    assert a.send(CONTACT, "while logged out", "3EB0AAAA0003")["status"] == "lost"
    assert a.chat(CONTACT) == []
    assert b.state()["logged_in"] is True
    assert sim.get_state()["accounts"][NUM_A] == {"sessions": 0, "logged_in": False}
    sim.scan(sa["qr"]["ref"], NUM_A)
    sa = a.state()
    assert sa["logged_in"] is True and sa["use_here"] is False  # a logout ends "Use here"
    assert a.chat(CONTACT) == ["before logout"]  # synced from the phone again


def test_per_account_history_replies_and_use_here(sim: Simulator) -> None:
    a = Device(sim)
    sim.scan(a.boot(), NUM_A)
    sim.seed_history(CONTACT, "old campaign", at=time.time() - 3600, account=NUM_A)
    sim.deliver(CONTACT, "reply to A", account=NUM_A)
    sim.deliver(CONTACT, "reply to the default account")
    assert a.chat(CONTACT) == ["old campaign", "reply to A"]
    assert [m["text"] for m in sim.state.history(CONTACT)["history"]] == ["reply to the default account"]
    assert (
        control(sim, "POST", "/__sim__/incoming", {"phone": CONTACT, "text": "over HTTP", "account": NUM_A})["phone"]
        == "+" + CONTACT
    )
    assert a.chat(CONTACT)[-1] == "over HTTP"
    assert sim.ledger()["messages"] == []  # none of these were sent
    control(sim, "POST", "/__sim__/use_here", {"account": NUM_A})
    assert a.state()["use_here"] is True and sim.get_state()["use_here"] is False
    a.call("POST", "/__sim__/app/use_here")  # the page's button
    assert a.state()["use_here"] is False


def test_queued_messages_of_every_account_go_when_the_phone_is_back(sim: Simulator) -> None:
    a, b = Device(sim), Device(sim)
    sim.scan(a.boot(), NUM_A)
    sim.scan(b.boot(), NUM_B)
    sim.configure(phone_connected=False)
    assert a.send(CONTACT, "a1", "3EB0AAAA0010")["status"] == "queued"
    assert b.send(CONTACT, "b1", "3EB0BBBB0010")["status"] == "queued"
    assert a.state()["queued"] == 1 and sim.ledger()["messages"] == []
    sim.configure(phone_connected=True)
    assert [(m["account"], m["text"]) for m in sim.ledger()["messages"]] == [(NUM_A, "a1"), (NUM_B, "b1")]


def test_http_control_endpoints(sim: Simulator) -> None:
    a = Device(sim)
    ref = a.boot()
    assert control(sim, "GET", "/__sim__/pending_logins") == [
        {"session": sim.sessions()[0]["session"], "ref": ref, "expired": False}
    ]
    [listed] = control(sim, "GET", "/__sim__/sessions")["sessions"]
    assert listed["account"] is None and listed["qr"]["ref"] == ref
    with pytest.raises(urllib.error.HTTPError) as err:
        control(sim, "POST", "/__sim__/scan", {"ref": "2@bad", "number": NUM_A})
    assert err.value.code == 400 and "ref" in json.loads(err.value.read())["error"]
    with pytest.raises(urllib.error.HTTPError) as err:
        control(sim, "POST", "/__sim__/scan", {"ref": ref, "number": "not a number"})
    assert err.value.code == 400
    assert control(sim, "POST", "/__sim__/scan", {"ref": ref, "number": NUM_A}) == {
        "session": listed["session"],
        "account": NUM_A,
    }
    assert control(sim, "GET", "/__sim__/sessions")["sessions"][0]["account"] == NUM_A
    st = control(sim, "POST", "/__sim__/logout", {"number": NUM_A})
    assert st["accounts"][NUM_A]["logged_in"] is False and a.state()["logged_in"] is False
    assert control(sim, "POST", "/__sim__/login")["logged_in"] is True  # legacy: the default account
    assert a.state()["own_number"] == OWN
    assert control(sim, "POST", "/__sim__/logout")["logged_in"] is False
    assert a.state()["logged_in"] is False


def test_legacy_login_and_logout(sim: Simulator) -> None:
    a, b = Device(sim), Device(sim)
    sim.scan(a.boot(), NUM_A)
    b.boot()
    sim.login()  # every device not linked elsewhere is the default account's
    assert b.state()["own_number"] == OWN and a.state()["own_number"] == NUM_A
    c = Device(sim)
    assert c.boot() == "" and c.state()["own_number"] == OWN  # also devices that come later
    assert sim.get_state()["accounts"][OWN] == {"sessions": 2, "logged_in": True}
    assert sim.pending_logins() == []
    b.send(CONTACT, "legacy", "3EB0CCCC0001")
    sim.state.send(CONTACT, "", "from Python")  # no account: the default one
    assert [m["account"] for m in sim.ledger()["messages"]] == [OWN, OWN]
    sim.logout(OWN)  # logging the default account out ends the legacy login
    assert sim.get_state()["logged_in"] is False
    assert not b.state()["logged_in"] and a.state()["logged_in"]
    sim.login()
    sim.logout()  # everything
    assert [d.state()["logged_in"] for d in (a, b, c)] == [False, False, False]
    assert len(sim.pending_logins()) == 3


def test_auto_login_gives_each_new_device_its_own_account() -> None:
    sim = make_sim(auto_login=0)  # every QR code is scanned as soon as it is seen
    try:
        a, b, c = Device(sim), Device(sim), Device(sim)
        for d in (a, b):
            d.boot()
        assert [a.state()["own_number"], b.state()["own_number"]] == [OWN, "+15550100001"]
        assert sim.get_state()["logged_in"] is True  # own_number is the default account
        sim.logout(OWN)
        assert a.state()["own_number"] == OWN  # linked once: back to the same account
        c.boot()
        assert c.state()["own_number"] == "+15550100002"
        # The QR page's "Simulate scanning" button links the same way.
        sim.configure(auto_login=None)
        sim.logout()
        d = Device(sim)
        d.boot()
        assert d.call("POST", "/__sim__/app/scan")["own_number"] == "+15550100003"
        assert a.call("POST", "/__sim__/app/scan")["own_number"] == OWN
    finally:
        sim.stop()
