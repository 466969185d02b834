"""The selector doctor: when WhatsApp Web changes, find working selectors by itself.

`python tui.py doctor` opens WhatsApp Web with the account's own profile (the worker is
asked to let go of the browser between two messages and takes it back afterwards; the
worker's own self-repair runs it in its own browser), drives the page through its states
(chat list, an invalid number's popup, the account's own chat with its bubbles, the compose
box with a text, the attach menu, a media preview) and checks every selector key there:
which fallback matched, how many elements, visible or not, and whether it is the element
the page's meaning says it should be (our own rows by their sender and status labels, a
status element by its label, the footer's editable, controls by their labels in the page's
language). For a key that fails it proposes candidates built from what those elements
carry in this build (icon names, labels, roles, classes), ranked, each with why, tried live.

`--probe` proves the bubble keys for real: one short text (`[heal] probe_text`) is sent to
the account's own chat ("Message yourself"), never to a contact, and compose -> send ->
bubble -> tick is watched with the candidates. Without it the doctor never sends: it never
clicks a send control, never presses Enter in a box, and clears what it typed.
`--page FILE.html` checks a page the worker saved when a selector failed.
"""

from __future__ import annotations

import logging
import re
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from selenium.webdriver.common.keys import Keys

import settings
from common import runfiles
from settings import Config

from . import doctor_js as DJ
from . import knowledge
from . import page_js as JS
from .browser import prepare_profile, start_browser
from .errors import WorkerUserError
from .page import meaning_words

log = logging.getLogger("worker")

# Page states, in the order the doctor walks them, and the keys checked in each.
STATES: list[tuple[str, tuple[str, ...]]] = [
    ("login page", ("booting", "qr_code", "qr_reload")),
    (
        "chat list",
        (
            "logged_in",
            "phone_disconnected",
            "offline_banner",
            "use_here_button",
            "chat_error",
            "chat_list_item",
            "unread_badge",
        ),
    ),
    ("invalid number", ("invalid_popup", "popup_ok")),
    ("open chat", ("chat_open", "compose_box", "message_list", "message_row", "chat_start", "incoming_message")),
    ("bubble", ("outgoing_message", "message_text", "message_meta", "msg_ack", "msg_pending", "read_more")),
    ("compose+text", ("send_button",)),
    ("attach menu", ("attach_button", "media_input", "document_input")),
    ("media preview", ("caption_box", "media_send")),
]
# Shown only in some situations (a banner, a dialog, an error): absent is fine.
SITUATIONAL = {
    "booting",
    "qr_code",
    "qr_reload",
    "phone_disconnected",
    "offline_banner",
    "use_here_button",
    "chat_error",
    "msg_pending",
    "read_more",
    "chat_start",
    # a new account has no chats, a chat list no unread one, a chat no reply
    "chat_list_item",
    "unread_badge",
    "incoming_message",
}
# Keys whose targets are several elements: a candidate must cover all of them (and, where a
# conflicting key exists, none of its elements).
MANY = {
    "message_row",
    "outgoing_message",
    "incoming_message",
    "message_text",
    "message_meta",
    "msg_ack",
    "msg_pending",
    "chat_list_item",
    "unread_badge",
}
CONFLICTS = {
    "msg_ack": "msg_pending",
    "msg_pending": "msg_ack",
    "outgoing_message": "incoming_message",
    "incoming_message": "outgoing_message",
}
# ... of which these must match nothing else (a row of the other side, a clock for a tick).
EXACT = {"message_row", "outgoing_message", "incoming_message", "msg_ack", "msg_pending", "chat_list_item"}
# Keys the worker reads inside one row, trying every fallback there: the configured list
# works when all of it together covers every target.
IN_ROW = {"msg_ack", "msg_pending", "message_text", "message_meta", "read_more", "unread_badge"}
# Keys whose element may be matched by one around it (what the worker reads of them holds).
AROUND = [
    "booting",
    "qr_code",
    "logged_in",
    "phone_disconnected",
    "offline_banner",
    "chat_open",
    "chat_error",
    "invalid_popup",
    "message_list",
    "chat_start",
    "msg_ack",
    "msg_pending",
    "message_meta",
    "message_text",
]
# What the probe proves (the bubble of a message of ours, from the send to its tick).
PROBED = ("send_button", "outgoing_message", "message_text", "message_meta", "msg_pending", "msg_ack")
STATE_OF = {key: state for state, keys in STATES for key in keys}
PROBE_TEXT = "doctor check: typed, never sent"
HOLD_WAIT = 60.0  # seconds for the worker to let go of the browser
WINNERS_PER_KEY = 2  # proven candidates written per key (a second one if the first goes)
INVALID_NUMBER = "1"  # wa.me/1: no country has such a number; WhatsApp says so in a popup
NO_FETCH = (
    '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
    "style-src 'unsafe-inline'; img-src data:\">"
)
# A 1x1 PNG for the media preview (never sent).
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d4944415478"
    "da63f8ffff3f0005fe02fea7d6a4a40000000049454e44ae426082"
)

# Watches the open chat from before the probe's send until its tick: every status label a
# new bubble shows, with the icon name its status element carries at that moment (a clock
# may last a tenth of a second).
WATCH_START = (
    JS.PRELUDE
    + r"""
const list = messageList() || mainEl();
if (!list) return false;
window.__waDoctorSeen = [];
const note = (e) => {
  const s = e.nodeType === 1 ? statusOf(e) : null;
  if (!s) return;
  const icon = e.closest('[data-icon]') || e.querySelector('[data-icon]');
  let row = e;
  const top = (r) => r.parentElement && r.parentElement !== list && r.parentElement !== document.body;
  while (top(row)) row = row.parentElement;
  const key = s === 'pending' ? 'msg_pending' : 'msg_ack';
  window.__waDoctorSeen.push({status: s, icon: icon ? icon.getAttribute('data-icon') : null, label: labelOf(e),
                              configured: !!F(key, row)});
};
if (window.__waDoctorObserver) window.__waDoctorObserver.disconnect();
window.__waDoctorObserver = new MutationObserver((records) => {
  for (const r of records) {
    const nodes = r.type === 'attributes' ? [r.target] : Array.from(r.addedNodes);
    for (const n of nodes) {
      if (n.nodeType !== 1) continue;
      note(n);
      n.querySelectorAll('[aria-label], [title]').forEach(note);
      if (n.parentElement) note(n.parentElement);
    }
  }
});
window.__waDoctorObserver.observe(list, {subtree: true, childList: true, attributes: true,
                                         attributeFilter: ['aria-label', 'title', 'data-icon']});
return true;
"""
)
WATCH_READ = "const s = window.__waDoctorSeen || []; return s;"
WATCH_STOP = "if (window.__waDoctorObserver) window.__waDoctorObserver.disconnect(); return true;"
# The compose box the doctor types into.
BOX = (
    "document.querySelector(`[data-wa-doctor~='compose_box']`) || "
    "document.querySelector('#main footer [contenteditable=\"true\"]')"
)
# The newest of our rows (by meaning) whose text is the probe's: its status by label.
# Either text of arguments[1]: WhatsApp may have turned the probe's emoticons into emoji.
# A list or quote mark at a line's start is left out, as worker/textmatch.py does.
PROBE_ROW = (
    JS.PRELUDE
    + r"""
const unmark = (t) => String(t || '').split('\n')
  .map((l) => l.trim().replace(/^(?:[-*\u2022]|\d{1,2}\.|>) +/, '')).join('\n');
const want = arguments[1].map((t) => norm(unmark(t)));  // as configured, and as the box showed it
const rows = meaningRows().filter((m) => m.own === true && m.preEl && want.includes(norm(unmark(richText(m.preEl)))));
if (!rows.length) return null;
const m = rows[rows.length - 1];
for (const old of q('[data-wa-doctor-probe]')) old.removeAttribute('data-wa-doctor-probe');
m.el.setAttribute('data-wa-doctor-probe', '1');
return {status: m.status, label: m.statusEl ? labelOf(m.statusEl) : null, count: rows.length};
"""
)


@dataclass
class KeyReport:
    """What the doctor found for one selector key."""

    key: str
    state: str
    status: str  # ok | failed | wrong | not seen | not checkable
    fallback: int | None  # 1-based index of the configured selector that matched
    count: int = 0
    visible: bool = False
    note: str = ""
    proposal: list[str] = field(default_factory=list)  # best first, {Word} placeholders kept
    why: list[str] = field(default_factory=list)  # why each proposal
    proven: bool = False  # the probe watched it work on a bubble of ours

    @property
    def needs_fix(self) -> bool:
        return self.status in ("failed", "wrong")


@dataclass
class Report:
    """The doctor's findings for every key, the probe's, and what was written."""

    keys: list[KeyReport]
    seconds: float
    source: str  # "live" or the saved page's path
    number: str | None = None
    written: list[str] = field(default_factory=list)
    backup: str | None = None
    probe: dict[str, Any] = field(default_factory=dict)  # what the probe did and saw
    rows: dict[str, int] = field(default_factory=dict)  # the open chat's rows by meaning

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "seconds": round(self.seconds, 2),
            "number": self.number,
            "written": self.written,
            "backup": self.backup,
            "probe": self.probe,
            "rows": self.rows,
            "keys": [asdict(k) for k in self.keys],
        }

    def get(self, key: str) -> KeyReport | None:
        return next((k for k in self.keys if k.key == key), None)

    def winners(self, *, proven_only: bool = False) -> dict[str, list[str]]:
        """The selectors to put first, per key that needs a fix. With `proven_only`, only the
        keys the probe (or the live page) proved: what the worker writes by itself."""
        out: dict[str, list[str]] = {}
        for k in self.keys:
            if not k.needs_fix or not k.proposal:
                continue
            if proven_only and k.key in PROBED and not k.proven:
                continue
            out[k.key] = k.proposal[:WINNERS_PER_KEY]
        return out

    def toml_lines(self, cfg: Config) -> list[str]:
        lines = []
        for key, winners in self.winners().items():
            rest = [s for s in cfg.selectors.get(key, ()) if s not in winners]
            values = ", ".join(_toml_str(s) for s in [*winners, *rest])
            lines.append(f"{key} = [{values}]")
        return lines


def _toml_str(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


# ----------------------------------------------------------------------------- checking a page


class PageCheck:
    """Checks keys on whatever the browser shows now."""

    def __init__(self, driver: Any, cfg: Config, *, own_name: str | None = None) -> None:
        self.driver = driver
        self.cfg = cfg
        self.words = cfg.words()
        self.resolved = cfg.resolved_selectors()
        self.sel: dict[str, Any] = {k: list(v) for k, v in self.resolved.items()}
        self.sel["__meaning"] = meaning_words(cfg, own_name)
        self.seen: dict[str, dict[str, list[str]]] = {"icons": {}}
        self.rows: dict[str, int] = {}

    def _variants(self, key: str, raw: str) -> list[str]:
        """A candidate as the worker will use it: its words in the page's language, then in
        English (a page may keep English labels)."""
        return list(settings.resolve_selectors({key: (raw,)}, self.words)[key])

    def check(self, state: str, keys: tuple[str, ...] | list[str]) -> dict[str, KeyReport]:
        """Check these keys on the page as it is: which configured selector matches, whether
        it is the element the page's meaning points at, and the candidates that are."""
        found = self.driver.execute_script(DJ.FIND, self.sel, self.words, list(keys), self.seen)
        self.rows = found.pop("__rows", self.rows)
        sets: dict[str, list[str]] = {}
        spans: dict[str, list[int]] = {}  # how many resolved variants each candidate has
        proposals: dict[str, list[dict[str, Any]]] = {}
        for key in keys:
            configured = list(self.resolved.get(key, ()))
            raw = sorted(found[key]["candidates"], key=lambda c: c.get("rank", 9))
            proposals[key] = raw
            variants = [self._variants(key, c["selector"]) for c in raw]
            spans[key] = [len(v) for v in variants]
            sets[key] = configured + [s for v in variants for s in v]
        tried = self.driver.execute_script(DJ.TRY, sets, AROUND)
        lists = self.driver.execute_script(
            DJ.TRY_LIST, {k: list(self.resolved.get(k, ())) for k in keys if k in IN_ROW}
        )
        for key, other in CONFLICTS.items():  # a candidate that also takes the other key's elements is wrong
            if key in tried and other in found and found[other]["targets"]:
                wrong = self.driver.execute_script(DJ.TRY, {other: sets[key]}, AROUND)[other]
                for mine, theirs in zip(tried[key], wrong):
                    mine["wrong"] = theirs.get("covered", 0)
        out: dict[str, KeyReport] = {}
        for key in keys:
            n_conf = len(self.resolved.get(key, ()))
            results = tried[key][:n_conf]
            at = n_conf
            for n in spans[key]:  # a candidate fits when one of its variants does
                own = tried[key][at : at + n]
                at += n
                results.append(next((r for r in own if self._fits(key, r)), own[0] if own else {}))
            out[key] = self._report(key, state, found[key]["targets"], results, proposals[key], lists.get(key))
        return out

    def _fits(self, key: str, r: dict[str, Any]) -> bool:
        if not r.get("count") or r.get("error"):
            return False
        if key in MANY:
            exact = key not in EXACT or not r.get("stray")
            return r.get("covered") == r.get("targets") and not r.get("wrong") and exact
        return bool(r.get("target")) and not r.get("stray_visible")

    def _report(
        self,
        key: str,
        state: str,
        targets: int,
        results: list[dict[str, Any]],
        proposals: list[dict[str, Any]],
        whole: dict[str, Any] | None = None,
    ) -> KeyReport:
        n_conf = len(self.resolved.get(key, ()))
        conf, cand = results[:n_conf], results[n_conf:]
        hit = next((i for i, r in enumerate(conf) if r.get("count")), None)
        match = dict(conf[hit]) if hit is not None else {}
        if whole is not None and hit is not None:  # every fallback counts inside a row
            match.update(covered=whole["covered"], targets=whole["targets"], stray=0)
        good = [(p, r) for p, r in zip(proposals, cand) if self._fits(key, r)]
        good.sort(key=lambda pr: (pr[0].get("rank", 9), pr[1].get("stray", 0), len(pr[0]["selector"])))
        if targets:
            if hit is None:
                status, note = "failed", f"no configured selector matches (the page shows {targets})"
            elif not self._fits(key, match):
                status = "wrong"
                note = (
                    f"matches {match.get('covered', 0)} of the {targets} element(s) the page's meaning points at"
                    if key in MANY
                    else "matches, but not the element the page's meaning points at"
                )
            else:
                status, note = "ok", ""
        elif hit is not None:
            status, note = "ok", "the page's meaning did not confirm it"
        else:
            status = "not seen"
            note = "not shown now" if key in SITUATIONAL else "not on this page"
        fix = status in ("failed", "wrong")
        return KeyReport(
            key,
            state,
            status,
            None if hit is None else hit + 1,
            match.get("count", 0),
            bool(match.get("visible")),
            note,
            [p["selector"] for p, _ in good] if fix else [],
            [p.get("why", "") for p, _ in good] if fix else [],
        )


# ----------------------------------------------------------------------------- the live walk


class ProbeError(Exception):
    """The probe could not prove anything (no own chat, no bubble, no tick): one line."""


class LiveDoctor:
    """Walks a live page through its states and checks every key (see the module's docstring)."""

    def __init__(
        self,
        cfg: Config,
        driver: Any,
        *,
        number: str | None = None,
        probe: bool = False,
        own_name: str | None = None,
        say: Callable[[str], None] = lambda _m: None,
        load: bool = True,
    ) -> None:
        self.cfg = cfg
        self.driver = driver
        self.number = number
        self.probe = probe
        self.say = say
        self.load = load
        self.check = PageCheck(driver, cfg, own_name=own_name)
        self.reports: dict[str, KeyReport] = {}
        self.probe_result: dict[str, Any] = {}

    def js(self, script: str, *args: Any) -> Any:
        return self.driver.execute_script(script, *args)

    def wait(self, script: str, timeout: float, *args: Any) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            value = self.js(script, *args)
            if value or time.monotonic() >= deadline:
                return value
            time.sleep(0.05)

    def record(self, state: str, keys: tuple[str, ...] | list[str]) -> dict[str, KeyReport]:
        got = self.check.check(state, keys)
        for key, r in got.items():
            old = self.reports.get(key)
            if old is not None and old.status in ("ok", "failed", "wrong") and r.status == "not seen":
                continue  # seen in an earlier state: keep that
            self.reports[key] = r
        return got

    def skip(self, keys: tuple[str, ...] | list[str], state: str, why: str) -> None:
        for key in keys:
            self.reports.setdefault(key, KeyReport(key, state, "not checkable", None, note=why))

    def click_target(self, key: str) -> bool:
        return bool(
            self.js(
                "const e = document.querySelector(`[data-wa-doctor~='${arguments[0]}']`);"
                "if (!e) return false; e.click(); return true;",
                key,
            )
        )

    def run(self) -> None:
        """Walk the page through its states, checking each state's keys there."""
        cfg = self.cfg
        booted = False
        booting = "return !!document.querySelector('#startup, progress')"
        if self.load:
            self.say("loading WhatsApp Web")
            self.driver.get(cfg.browser.whatsapp_url)
            booted = bool(self.wait(booting, 3))
            if booted:
                got = self.record("login page", ("booting",))
                if got["booting"].status == "failed" and not self.js(booting):
                    # The page finished booting between the look at its structure and the try
                    # of the selectors: nothing was there to match any more, not a broken selector.
                    self.reports["booting"] = KeyReport(
                        "booting", "login page", "not checkable", None, note="booted while it was checked"
                    )
        ready = self.wait(
            "return document.querySelector('#side') ? 'app' : (document.querySelector('[data-ref]') ? 'qr' : null)",
            cfg.browser.boot_timeout,
        )
        if ready == "qr":
            self.record("login page", ("qr_code", "qr_reload"))
            for state, keys in STATES[1:]:
                self.skip(keys, state, "logged out: log in first")
            return
        if ready != "app":
            raise WorkerUserError(
                f"WhatsApp Web did not show its app or its QR code within {cfg.browser.boot_timeout:.0f} s"
            )
        self.skip(("qr_code", "qr_reload"), "login page", "logged in: no QR page")
        if not booted:
            self.skip(("booting",), "login page", "booted too fast to see" if self.load else "already running")
        self.settle_chat_list()
        self.record("chat list", STATES[1][1])
        self.invalid_popup()
        self.open_chat()

    def settle_chat_list(self, timeout: float = 3.0) -> None:
        """The chat list draws itself a moment after the app: wait until it stops changing."""
        script = "const s = document.querySelector('#pane-side'); return s ? s.innerHTML.length : -1;"
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            size = self.js(script)
            if size == last and size > 0:
                return
            last = size
            time.sleep(0.25)

    def open_link(self, digits: str) -> None:
        self.driver.execute_script(JS.OPEN_LINK, f"https://wa.me/{digits}")

    def _dialog_shown(self) -> bool:
        return bool(
            self.js(
                'return Array.from(document.querySelectorAll(\'[role="dialog"], '
                "[data-animate-modal-popup]')).some((d) => d.offsetParent !== null || "
                "d.getClientRects().length)"
            )
        )

    def invalid_popup(self) -> None:
        self.say("asking for an invalid number (its popup)")
        self.open_link(INVALID_NUMBER)
        if not self.wait(
            'return Array.from(document.querySelectorAll(\'[role="dialog"], '
            "[data-animate-modal-popup]')).some((d) => d.offsetParent !== null || "
            "d.getClientRects().length)",
            10,
        ):
            self.skip(STATES[2][1], "invalid number", "no popup showed for an invalid number")
            return
        self.record("invalid number", STATES[2][1])
        if not self.click_target("popup_ok"):
            self.driver.switch_to.active_element.send_keys(Keys.ESCAPE)
        deadline = time.monotonic() + 5
        while self._dialog_shown() and time.monotonic() < deadline:
            time.sleep(0.05)

    def open_chat(self) -> None:
        """Open the chat the bubble keys are checked in (with --probe: the account's own),
        check them, then compose (or probe) and the attach menu."""
        own = self.cfg.heal.own_number or self.js(DJ.OWN_NUMBER)
        number = own if self.probe else (self.number or own)
        if self.probe and not number:
            raise ProbeError(
                "the probe needs the account's own number: WhatsApp Web does not say it; set "
                "[heal] own_number (or own_number in the account's [[accounts]] table)"
            )
        if not number:
            for state, keys in STATES[3:]:
                self.skip(keys, state, "no chat to open: give one with --number")
            return
        self.number = number
        digits = re.sub(r"\D", "", number)
        self.say(f"opening the chat with {number}" + (" (the account's own chat)" if number == own else ""))
        self.open_link(digits)
        opened = self.wait(
            "return !!document.querySelector('#main footer [contenteditable=\"true\"]')", self.cfg.browser.chat_timeout
        )
        if not opened:
            if self.probe:
                raise ProbeError(
                    f"the account's own chat ({number}) did not open within {self.cfg.browser.chat_timeout:.0f} s"
                )
            for state, keys in STATES[3:]:
                self.skip(keys, state, f"the chat with {number} did not open")
            return
        time.sleep(0.3)  # its history renders a moment after the box
        self.record("open chat", STATES[3][1])
        got = self.record("bubble", STATES[4][1])
        if got["outgoing_message"].status == "not seen" and not self.probe:
            for key in STATES[4][1]:
                r = self.reports[key]
                if r.status == "not seen":
                    r.status, r.note = "not checkable", "no message of yours in this chat (--probe sends one)"
        if self.probe:
            self.send_probe()
        else:
            self.compose()
        self.attach()

    # ------------------------------------------------------------------ without sending
    def box_text(self) -> str | None:
        """The compose box's text as the page shows it (emoji images as their character)."""
        text: str | None = self.js(JS.PRELUDE + f"const b = {BOX}; return b ? richText(b) : null;", self.check.sel)
        return text

    def type_in_box(self, text: str) -> bool:
        box = self.js(f"return {BOX};")
        if box is None:
            return False
        self.js(
            "const b = arguments[0]; b.focus(); document.execCommand('insertText', false, arguments[1]);", box, text
        )
        return True

    def _send_control_shown(self) -> Any:
        words = self.check.words
        return self.wait(
            "const f = document.querySelector('#main footer');"
            "const label = (e) => (e.getAttribute('aria-label') || e.getAttribute('title') || '').trim();"
            "return !!(f && Array.from(f.querySelectorAll('*')).find((e) => [arguments[0], 'Send']"
            ".includes(label(e))))",
            3,
            words.get("Send", "Send"),
        )

    def compose(self) -> None:
        self.say("typing a text into the box (it is never sent)")
        if not self.type_in_box(PROBE_TEXT):
            self.skip(("send_button",), "compose+text", "no compose box to type into")
            return
        self._send_control_shown()
        self.record("compose+text", ("send_button",))
        self.clear_box()

    def clear_box(self) -> None:
        self.js(
            "const b = document.querySelector(`[data-wa-doctor~='compose_box']`) ||"
            " document.querySelector('#main footer [contenteditable=\"true\"]');"
            "if (!b) return; b.focus(); const r = document.createRange(); r.selectNodeContents(b);"
            "const s = window.getSelection(); s.removeAllRanges(); s.addRange(r);"
            "document.execCommand('delete', false);"
        )

    # ------------------------------------------------------------------ the probe
    def send_probe(self) -> None:
        """Send the probe text to the account's own chat and watch its bubble to the tick,
        checking the bubble keys on it at each step."""
        text = self.cfg.heal.probe_text
        self.say(f"sending the probe {text!r} to the account's own chat {self.number}")
        if not self.type_in_box(text):
            raise ProbeError("the own chat has no compose box to type the probe into")
        self._send_control_shown()
        self.record("compose+text", ("send_button",))
        texts = [text, self.box_text() or text]
        send = self.reports["send_button"]
        self.js(WATCH_START, self.check.sel)
        t0 = time.monotonic()
        how = "a send control found by its label"
        if not self.click_target("send_button"):
            how = "Enter in the box (no send control was found)"
            self.js("const b = document.querySelector('#main footer [contenteditable=\"true\"]'); if (b) b.focus();")
            self.driver.switch_to.active_element.send_keys(Keys.ENTER)
        self.probe_result = {"number": self.number, "text": text, "sent_with": how}
        deadline = t0 + self.cfg.browser.ack_timeout
        row = None
        while time.monotonic() < deadline:
            row = self.js(PROBE_ROW, self.check.sel, texts)
            if row:
                break
            time.sleep(0.03)
        if not row:
            raise ProbeError(
                f"no bubble of ours with the probe's text appeared in the own chat within "
                f"{self.cfg.browser.ack_timeout:g} s"
            )
        self.probe_result["bubble_after_s"] = round(time.monotonic() - t0, 2)
        while time.monotonic() < deadline and (row or {}).get("status") != "ack":
            time.sleep(0.05)
            row = self.js(PROBE_ROW, self.check.sel, texts)
        if (row or {}).get("status") != "ack":
            self.js(WATCH_STOP)
            raise ProbeError(
                f"the probe's bubble showed no tick within {self.cfg.browser.ack_timeout:g} s "
                f"(its status read {(row or {}).get('label')!r})"
            )
        self.probe_result["tick_after_s"] = round(time.monotonic() - t0, 2)
        seen = self.js(WATCH_READ) or []
        self.js(WATCH_STOP)
        icons: dict[str, list[str]] = {"msg_pending": [], "msg_ack": []}
        for s in seen:
            key = "msg_pending" if s.get("status") == "pending" else "msg_ack"
            if s.get("icon") and s["icon"] not in icons[key]:
                icons[key].append(s["icon"])
        self.check.seen = {"icons": icons}
        self.probe_result["labels_seen"] = sorted({s.get("label", "").strip() for s in seen if s.get("label")})
        self.probe_result["icons_seen"] = icons
        got = self.record("bubble", ("outgoing_message", "message_text", "message_meta", "msg_ack", "msg_pending"))
        # The send control was proven by the click that made the bubble.
        if how.startswith("a send control"):
            send.proven = True
        for key in ("outgoing_message", "message_text", "message_meta", "msg_ack"):
            got[key].proven = got[key].status != "not seen"
        pend = got["msg_pending"]
        pend.proven = any(s.get("status") == "pending" for s in seen)  # the clock's label was watched
        clocks = [s for s in seen if s.get("status") == "pending"]
        if pend.status in ("not seen", "ok") and clocks and not any(s.get("configured") for s in clocks):
            # The clock came and went during the probe; the configured icons never matched it.
            shown = ", ".join(icons["msg_pending"]) or "its label " + repr(clocks[0].get("label"))
            pend.status, pend.note = "failed", f"the probe's clock ({shown}) matches no configured selector"
            pend.proposal = [f"[data-icon='{n}']" for n in icons["msg_pending"]]
            pend.proposal += [
                "xpath:.//*[normalize-space(@aria-label)='{Pending}' or normalize-space(@title)='{Pending}']"
            ]
            pend.why = [f"the icon our probe's bubble showed while it read Pending ({n})" for n in icons["msg_pending"]]
            pend.why += ["a status element labelled Pending in the page's language"]

    # ------------------------------------------------------------------ attachments (never sent)
    def attach(self) -> None:
        """Open the attach menu and a photo preview (never sent) to check their keys."""
        self.record("attach menu", ("attach_button",))
        if not self.js("return !!document.querySelector(`[data-wa-doctor~='attach_button']`)"):
            self.skip(("media_input", "document_input"), "attach menu", "no attach button to open the menu")
            self.skip(STATES[7][1], "media preview", "no attach menu")
            return
        self.say("opening the attach menu")
        self.click_target("attach_button")
        self.wait("return document.querySelectorAll('input[type=\"file\"]').length > 0", 3)
        time.sleep(0.2)
        self.record("attach menu", ("media_input", "document_input"))
        target = self.js("return document.querySelector(`[data-wa-doctor~='media_input']`)")
        if target is None:
            self.skip(STATES[7][1], "media preview", "no photo input to preview a picture")
            self.close_menu()
            return
        self.say("previewing a picture (it is never sent)")
        tmp = Path(tempfile.mkdtemp(prefix="wa-doctor-"))
        try:
            png = tmp / "doctor.png"
            png.write_bytes(PNG)
            target.send_keys(str(png))
            shown = self.wait(
                "return Array.from(document.querySelectorAll('[contenteditable=\"true\"]')).some((e) => "
                "(e.offsetParent !== null) && !e.closest('#main footer') && !e.closest('#side'))",
                5,
            )
            if shown:
                self.record("media preview", STATES[7][1])
            else:
                self.skip(STATES[7][1], "media preview", "no preview showed for a picture")
            self.close_preview()
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        self.close_menu()

    def close_preview(self) -> None:
        """Escape, else its close control; never its send control."""
        still = (
            "return Array.from(document.querySelectorAll('[contenteditable=\"true\"]')).some((e) => "
            "(e.offsetParent !== null) && !e.closest('#main footer') && !e.closest('#side'))"
        )
        self.driver.switch_to.active_element.send_keys(Keys.ESCAPE)
        if self.wait(still.replace("return ", "return !"), 2):
            return
        self.js(
            "const words = [arguments[0], 'Close'].map((w) => w.toLowerCase());"
            "const c = Array.from(document.querySelectorAll('[aria-label], [title]')).find((e) => "
            "!e.closest('#main footer') && words.includes((e.getAttribute('aria-label') || "
            "e.getAttribute('title') || '').trim().toLowerCase()));"
            "if (c) (c.closest('[role=\"button\"], button') || c).click();",
            "Close",
        )
        if not self.wait(still.replace("return ", "return !"), 2):
            self.driver.get(self.cfg.browser.whatsapp_url)  # a page load drops the draft

    def close_menu(self) -> None:
        if self.js('return !!document.querySelector(\'input[type="file"][accept="*"]\')'):
            self.js("document.body.dispatchEvent(new MouseEvent('mousedown', {bubbles: true}));")


# ----------------------------------------------------------------------------- entry points


def _ordered(reports: dict[str, KeyReport]) -> list[KeyReport]:
    keys = [k for _state, ks in STATES for k in ks]
    keys += [k for k in knowledge.DEFAULT_SELECTORS if k not in keys]
    return [
        reports.get(k) or KeyReport(k, STATE_OF.get(k, "-"), "not checkable", None, note="no state for it")
        for k in keys
    ]


def hold_worker(cfg: Config, *, wait: float = HOLD_WAIT) -> None:
    """Ask the account's worker to let go of the browser profile (`run/accounts/NAME/hold`)
    and wait until the profile is free. Raises a user error when it does not happen in time."""
    own = runfiles.account_dir(cfg.paths.run_dir, cfg.account_name)
    runfiles.set_flag(own, runfiles.HOLD)
    deadline = time.monotonic() + wait
    while True:
        try:
            prepare_profile(Path(cfg.browser.profile_dir))
            return
        except WorkerUserError:
            if time.monotonic() >= deadline:
                runfiles.clear_flag(own, runfiles.HOLD)
                raise WorkerUserError(
                    f"the browser profile {cfg.browser.profile_dir} stayed in use for {wait:.0f} s: stop the "
                    "worker (python -m supervisor stop) and run the doctor again"
                ) from None
            time.sleep(0.3)


def examine(
    cfg: Config,
    driver: Any,
    *,
    number: str | None = None,
    probe: bool = False,
    load: bool = True,
    own_name: str | None = None,
    say: Callable[[str], None] = lambda _m: None,
) -> Report:
    """Check every key on a browser already running WhatsApp Web (the worker's own, for its
    self-repair; or one the doctor started)."""
    t0 = time.monotonic()
    doctor = LiveDoctor(cfg, driver, number=number, probe=probe, own_name=own_name, say=say, load=load)
    try:
        doctor.run()
    except ProbeError as exc:
        raise WorkerUserError(f"probe: {exc}") from None
    return Report(
        _ordered(doctor.reports),
        time.monotonic() - t0,
        "live",
        doctor.number,
        probe=doctor.probe_result,
        rows=doctor.check.rows,
    )


def diagnose(
    cfg: Config,
    *,
    number: str | None = None,
    page: str | Path | None = None,
    probe: bool = False,
    say: Callable[[str], None] = lambda _m: None,
) -> Report:
    """Check every key (live, or on a saved page) and propose fixes. Writes nothing; sends
    nothing but, with `probe`, one text to the account's own chat."""
    t0 = time.monotonic()
    if cfg.account is None:
        cfg = cfg.for_account()
    if page is not None:
        return _diagnose_saved(cfg, Path(page), t0)
    hold_worker(cfg)
    driver = None
    try:
        driver, _service = start_browser(cfg.browser)
        report = examine(cfg, driver, number=number, probe=probe, say=say)
        report.seconds = time.monotonic() - t0
        return report
    finally:
        if driver is not None:
            try:
                driver.quit()
            except Exception:  # the report matters more than a clean quit
                pass
        runfiles.clear_flag(runfiles.account_dir(cfg.paths.run_dir, cfg.account_name), runfiles.HOLD)


def _diagnose_saved(cfg: Config, path: Path, t0: float) -> Report:
    import dataclasses

    from common import safefiles

    safefiles.regular_file(path, "saved page", max_bytes=50 * 1024 * 1024)
    html = path.read_text(encoding="utf-8", errors="replace")
    # The saved page must not run (nor fetch) anything: its scripts are dropped and a
    # content security policy placed first forbids every load but inline styles.
    html = re.sub(r"<script\b.*?</script>", "", html, flags=re.S | re.I)
    html = NO_FETCH + html
    tmp = Path(tempfile.mkdtemp(prefix="wa-doctor-page-"))
    driver = None
    try:
        static = tmp / "page.html"
        static.write_text(html, encoding="utf-8")
        browser = dataclasses.replace(cfg.browser, profile_dir=tmp / "profile")
        driver, _service = start_browser(browser)
        driver.get(static.as_uri())
        check = PageCheck(driver, cfg)
        reports: dict[str, KeyReport] = {}
        for state, keys in STATES:
            for key, r in check.check(state, keys).items():
                if r.status == "not seen" and key not in SITUATIONAL:
                    r.status = "not checkable"
                    r.note = "not on this saved page (it needs the page in another state)"
                reports[key] = r
        return Report(_ordered(reports), time.monotonic() - t0, str(path), rows=check.rows)
    finally:
        if driver is not None:
            driver.quit()
        shutil.rmtree(tmp, ignore_errors=True)


def write_winners(cfg: Config, report: Report, *, proven_only: bool = False, restart: bool = True) -> Report:
    """Put each fixed key's winners first in its list in the config file (a backup beside
    it, comments kept, never a file that does not load); with `restart`, ask the worker to
    restart with it."""
    winners = report.winners(proven_only=proven_only)
    if not winners:
        return report
    if cfg.path is None:
        raise WorkerUserError("no config file to write to")
    backup = settings.prepend_selectors(cfg.path, winners)
    if restart:
        runfiles.set_flag(runfiles.account_dir(cfg.paths.run_dir, cfg.account_name), runfiles.RESTART)
    report.written = sorted(winners)
    report.backup = str(backup) if backup else None
    return report


def format_report(report: Report, cfg: Config, width: int = 80) -> str:
    """The report as a person reads it in an 80-column terminal."""
    mark = {"ok": "ok", "failed": "FAIL", "wrong": "WRONG", "not seen": "-", "not checkable": "n/a"}
    lines = [f"{'key':<18} {'state':<14} {'':<5} {'match':<5} {'n':>3} {'vis':<3}  note"]
    room = width - 55
    for k in report.keys:
        match = f"#{k.fallback}" if k.fallback else "-"
        vis = "yes" if k.visible else ("no" if k.fallback else "")
        note = k.note if len(k.note) <= room else k.note[: room - 1] + "…"
        lines.append(f"{k.key:<18} {k.state:<14} {mark[k.status]:<5} {match:<5} {k.count:>3} {vis:<3}  {note}")
    fixes = report.toml_lines(cfg)
    failed_without = [k.key for k in report.keys if k.needs_fix and not k.proposal]
    lines.append("")
    where = (
        report.source
        if report.source != "live"
        else "the live page" + (f" (chat {report.number})" if report.number else "")
    )
    if report.rows:
        lines.append(
            f"The open chat's bubbles by meaning: {report.rows.get('own', 0)} of ours, "
            f"{report.rows.get('theirs', 0)} of the contact, {report.rows.get('unclassified', 0)} unclear."
        )
    if report.probe:
        p = report.probe
        lines.append(
            f"Probe: {p.get('text')!r} sent to {p.get('number')} with {p.get('sent_with')}; bubble after "
            f"{p.get('bubble_after_s')} s, tick after {p.get('tick_after_s')} s; labels seen: "
            f"{', '.join(p.get('labels_seen') or []) or '-'}."
        )
    sent = "one probe was sent to the account's own chat" if report.probe else "nothing was sent"
    lines.append(f"Checked {where} in {report.seconds:.1f} s; {sent}.")
    if fixes:
        lines.append("Add to [selectors] in config.toml (python tui.py doctor --write does it):")
        lines.extend(f"  {line}" for line in fixes)
        for k in report.keys:
            if k.needs_fix and k.proposal:
                why = k.why[0] if k.why else ""
                proof = " (proven by the probe)" if k.proven else ""
                lines.append(f"  # {k.key}: {why}{proof}")
    if failed_without:
        lines.append(f"No working selector found for: {', '.join(failed_without)} (see docs/whatsapp-dom.md).")
    if report.written:
        lines.append(f"Written: {', '.join(report.written)} (backup {report.backup}); the worker restarts to use them.")
    if not fixes and not failed_without:
        lines.append("Every key that could be checked works.")
    return "\n".join(lines)
