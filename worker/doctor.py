"""The selector doctor: when WhatsApp Web changes, find working selectors in a minute.

`python tui.py doctor` opens WhatsApp Web with the account's own profile (the worker is
asked to let go of the browser between two messages and takes it back afterwards), drives
the page through its states — chat list, an invalid number's popup, an open chat with
its bubbles, the compose box with a text (typed, never sent, cleared), the attach menu,
a media preview (closed, never sent) — and checks every selector key there: which
fallback matched, how many elements, visible or not, and whether it is the element the
page's structure says it should be. For a key that fails it proposes selectors found by
structure, tried live and ranked; `--write` puts the winners first in config.toml.

It never sends anything: it never clicks a send control, never presses Enter in a box,
and clears what it typed. `--page FILE.html` checks a page the worker saved when a
selector failed (the keys that need interaction are then not checkable).
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
from worker import knowledge

from . import doctor_js as DJ
from . import page_js as JS
from .browser import UserError, prepare_profile, start_browser

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
    # a new account has no chats, a chat list no unread one, a chat no reply;
    # incoming rows have a structural fallback (a row without a status icon)
    "chat_list_item",
    "unread_badge",
    "incoming_message",
}
STATE_OF = {key: state for state, keys in STATES for key in keys}
PROBE_TEXT = "doctor check: typed, never sent"
HOLD_WAIT = 60.0  # seconds for the worker to let go of the browser
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


@dataclass
class KeyReport:
    key: str
    state: str
    status: str  # ok | failed | wrong | not seen | not checkable
    fallback: int | None  # 1-based index of the configured selector that matched
    count: int = 0
    visible: bool = False
    note: str = ""
    proposal: list[str] = field(default_factory=list)  # best first, {Word} placeholders kept

    @property
    def needs_fix(self) -> bool:
        return self.status in ("failed", "wrong")


@dataclass
class Report:
    keys: list[KeyReport]
    seconds: float
    source: str  # "live" or the saved page's path
    number: str | None = None
    written: list[str] = field(default_factory=list)
    backup: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "seconds": round(self.seconds, 2),
            "number": self.number,
            "written": self.written,
            "backup": self.backup,
            "keys": [asdict(k) for k in self.keys],
        }

    def winners(self) -> dict[str, str]:
        return {k.key: k.proposal[0] for k in self.keys if k.needs_fix and k.proposal}

    def toml_lines(self, cfg: Any) -> list[str]:
        lines = []
        for key, winner in self.winners().items():
            rest = [s for s in cfg.selectors.get(key, ()) if s != winner]
            values = ", ".join(_toml_str(s) for s in [winner, *rest])
            lines.append(f"{key} = [{values}]")
        return lines


def _toml_str(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


# ----------------------------------------------------------------------------- checking a page


class PageCheck:
    """Checks keys on whatever the browser shows now."""

    def __init__(self, driver: Any, cfg: Any) -> None:
        self.driver = driver
        self.cfg = cfg
        self.words = cfg.words()
        self.resolved = cfg.resolved_selectors()

    def check(self, state: str, keys: tuple[str, ...] | list[str]) -> dict[str, KeyReport]:
        found = self.driver.execute_script(DJ.FIND, self.words, list(keys))
        sets: dict[str, list[str]] = {}
        proposals: dict[str, list[str]] = {}
        for key in keys:
            configured = list(self.resolved.get(key, ()))
            raw = list(found[key]["candidates"])
            proposals[key] = raw
            resolved_candidates = [settings.resolve_selectors({key: (c,)}, self.words)[key][0] for c in raw]
            sets[key] = configured + resolved_candidates
        tried = self.driver.execute_script(DJ.TRY, sets)
        out: dict[str, KeyReport] = {}
        for key in keys:
            n_conf = len(self.resolved.get(key, ()))
            results = tried[key]
            conf, cand = results[:n_conf], results[n_conf:]
            targets = found[key]["targets"]
            hit = next((i for i, r in enumerate(conf) if r.get("count")), None)
            match = conf[hit] if hit is not None else {}
            good = [raw for raw, r in zip(proposals[key], cand) if r.get("count") and r.get("target")]
            if targets:
                if hit is None:
                    status, note = "failed", "no configured selector matches"
                elif not match.get("target"):
                    status, note = "wrong", "matches, but not the element the page's structure points at"
                else:
                    status, note = "ok", ""
            elif hit is not None:
                status, note = "ok", "the page's structure did not confirm it"
            else:
                status = "not seen"
                note = "not shown now" if key in SITUATIONAL else "not on this page"
            out[key] = KeyReport(
                key,
                state,
                status,
                None if hit is None else hit + 1,
                match.get("count", 0),
                bool(match.get("visible")),
                note,
                good if status in ("failed", "wrong") else [],
            )
        return out


# ----------------------------------------------------------------------------- the live walk


class LiveDoctor:
    def __init__(
        self, cfg: Any, driver: Any, *, number: str | None = None, say: Callable[[str], None] = lambda _m: None
    ) -> None:
        self.cfg = cfg
        self.driver = driver
        self.number = number
        self.say = say
        self.check = PageCheck(driver, cfg)
        self.reports: dict[str, KeyReport] = {}

    def js(self, script: str, *args: Any) -> Any:
        return self.driver.execute_script(script, *args)

    def wait(self, script: str, timeout: float, *args: Any) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            value = self.js(script, *args)
            if value or time.monotonic() >= deadline:
                return value
            time.sleep(0.1)

    def record(self, state: str, keys: tuple[str, ...] | list[str]) -> dict[str, KeyReport]:
        got = self.check.check(state, keys)
        self.reports.update(got)
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
        cfg = self.cfg
        self.say("loading WhatsApp Web")
        self.driver.get(cfg.browser.whatsapp_url)
        booting = "return !!document.querySelector('#startup, progress')"
        booted = self.wait(booting, 3)
        if booted:
            got = self.record("login page", ("booting",))
            if got["booting"].status == "failed" and not self.js(booting):
                # The page finished booting between the look at its structure and the try of
                # the selectors: nothing was there to match any more, not a broken selector.
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
            raise UserError(f"WhatsApp Web did not show its app or its QR code within {cfg.browser.boot_timeout:.0f} s")
        self.skip(("qr_code", "qr_reload"), "login page", "logged in: no QR page")
        if not booted:
            self.skip(("booting",), "login page", "booted too fast to see")
        self.record("chat list", STATES[1][1])
        self.invalid_popup()
        self.open_chat()

    def open_link(self, digits: str) -> None:
        self.driver.execute_script(JS.OPEN_LINK, f"https://wa.me/{digits}")

    def invalid_popup(self) -> None:
        self.say("asking for an invalid number (its popup)")
        self.open_link(INVALID_NUMBER)
        shown = self.wait(
            "return Array.from(document.querySelectorAll('[data-animate-modal-popup], [role=\"dialog\"]'))"
            ".some((d) => d.offsetParent !== null || d.getClientRects().length)",
            10,
        )
        if not shown:
            self.skip(STATES[2][1], "invalid number", "no popup showed for an invalid number")
            return
        self.record("invalid number", STATES[2][1])
        if not self.click_target("popup_ok"):
            self.driver.switch_to.active_element.send_keys(Keys.ESCAPE)
        self.wait(
            "return !Array.from(document.querySelectorAll('[data-animate-modal-popup], [role=\"dialog\"]'))"
            ".some((d) => d.offsetParent !== null)",
            5,
        )

    def open_chat(self) -> None:
        number = self.number or self.js(DJ.OWN_NUMBER)
        if not number:
            for state, keys in STATES[3:]:
                self.skip(keys, state, "no chat to open: give one with --number")
            return
        self.number = number
        digits = re.sub(r"\D", "", number)
        self.say(f"opening the chat with {number}")
        self.open_link(digits)
        opened = self.wait(
            "return !!document.querySelector('#main footer [contenteditable=\"true\"]')", self.cfg.browser.chat_timeout
        )
        if not opened:
            for state, keys in STATES[3:]:
                self.skip(keys, state, f"the chat with {number} did not open")
            return
        time.sleep(0.3)  # its history renders a moment after the box
        self.record("open chat", STATES[3][1])
        got = self.record("bubble", STATES[4][1])
        if got["outgoing_message"].status == "not seen":
            for key in STATES[4][1]:
                r = self.reports[key]
                if r.status == "not seen":
                    r.status, r.note = "not checkable", "no message of yours here"
        self.compose()
        self.attach()

    def compose(self) -> None:
        self.say("typing a text into the box (it is never sent)")
        box = self.js("return document.querySelector(`[data-wa-doctor~='compose_box']`)")
        if box is None:
            self.skip(("send_button",), "compose+text", "no compose box to type into")
            return
        self.js(
            "const b = arguments[0]; b.focus(); document.execCommand('insertText', false, arguments[1]);",
            box,
            PROBE_TEXT,
        )
        self.wait(
            "const f = document.querySelector('#main footer');"
            "return !!(f && Array.from(f.querySelectorAll('button, [role=\"button\"]')).find((e) => "
            "/send/.test((e.querySelector('[data-icon]') || e).getAttribute('data-icon') || '') || "
            "(e.getAttribute('aria-label') || '') === arguments[0]))",
            3,
            self.check.words.get("Send", "Send"),
        )
        self.record("compose+text", ("send_button",))
        self.clear_box("compose_box")

    def clear_box(self, key: str) -> None:
        self.js(
            "const b = document.querySelector(`[data-wa-doctor~='${arguments[0]}']`) ||"
            " document.querySelector('#main footer [contenteditable=\"true\"]');"
            "if (!b) return; b.focus(); const r = document.createRange(); r.selectNodeContents(b);"
            "const s = window.getSelection(); s.removeAllRanges(); s.addRange(r);"
            "document.execCommand('delete', false);",
            key,
        )

    def attach(self) -> None:
        got = self.record("attach menu", ("attach_button",))
        if not self.js("return !!document.querySelector(`[data-wa-doctor~='attach_button']`)"):
            self.skip(("media_input", "document_input"), "attach menu", "no attach button to open the menu")
            self.skip(STATES[7][1], "media preview", "no attach menu")
            return
        del got
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
            "const c = Array.from(document.querySelectorAll('[aria-label], [data-icon]')).find((e) => "
            "!e.closest('#main footer') && ((e.getAttribute('aria-label') || '').toLowerCase() === 'close' || "
            "e.getAttribute('data-icon') === 'x')); if (c) (c.closest('[role=\"button\"], button') || c).click();"
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


def hold_worker(cfg: Any, store: Any = None, *, wait: float = HOLD_WAIT) -> None:
    """Ask the account's worker to let go of the browser profile (`run/accounts/NAME/hold`)
    and wait until the profile is free. Raises UserError when it does not happen in time."""
    own = runfiles.account_dir(cfg.paths.run_dir, cfg.account_name)
    runfiles.set_flag(own, runfiles.HOLD)
    deadline = time.monotonic() + wait
    while True:
        try:
            prepare_profile(Path(cfg.browser.profile_dir))
            return
        except UserError:
            if time.monotonic() >= deadline:
                runfiles.clear_flag(own, runfiles.HOLD)
                raise UserError(
                    f"the browser profile {cfg.browser.profile_dir} stayed in use for {wait:.0f} s: "
                    "stop the worker (python -m supervisor stop) and run the doctor again"
                ) from None
            time.sleep(0.3)


def diagnose(
    cfg: Any, *, number: str | None = None, page: str | Path | None = None, say: Callable[[str], None] = lambda _m: None
) -> Report:
    """Check every key (live, or on a saved page) and propose fixes. Writes nothing."""
    t0 = time.monotonic()
    if cfg.account is None:
        cfg = cfg.for_account()
    if page is not None:
        return _diagnose_saved(cfg, Path(page), t0)
    hold_worker(cfg)
    driver = None
    try:
        driver, _service = start_browser(cfg.browser)
        doctor = LiveDoctor(cfg, driver, number=number, say=say)
        doctor.run()
        return Report(_ordered(doctor.reports), time.monotonic() - t0, "live", doctor.number)
    finally:
        if driver is not None:
            try:
                driver.quit()
            except Exception:  # the report matters more than a clean quit
                pass
        runfiles.clear_flag(runfiles.account_dir(cfg.paths.run_dir, cfg.account_name), runfiles.HOLD)


def _diagnose_saved(cfg: Any, path: Path, t0: float) -> Report:
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
        return Report(_ordered(reports), time.monotonic() - t0, str(path))
    finally:
        if driver is not None:
            driver.quit()
        shutil.rmtree(tmp, ignore_errors=True)


def write_winners(cfg: Any, report: Report) -> Report:
    """Put each fixed key's winner first in its list in the config file (backup beside it),
    then ask the worker to restart with it."""
    winners = report.winners()
    if not winners:
        return report
    if cfg.path is None:
        raise UserError("no config file to write to")
    backup = settings.prepend_selectors(cfg.path, {k: [v] for k, v in winners.items()})
    runfiles.set_flag(cfg.paths.run_dir, runfiles.RESTART)
    report.written = sorted(winners)
    report.backup = str(backup)
    return report


def format_report(report: Report, cfg: Any, width: int = 80) -> str:
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
    lines.append(f"Checked {where} in {report.seconds:.1f} s; nothing was sent.")
    if fixes:
        lines.append("Add to [selectors] in config.toml (python tui.py doctor --write does it):")
        lines.extend(f"  {line}" for line in fixes)
    if failed_without:
        lines.append(f"No working selector found for: {', '.join(failed_without)} (see docs/whatsapp-dom.md).")
    if report.written:
        lines.append(f"Written: {', '.join(report.written)} (backup {report.backup}); the worker restarts to use them.")
    if not fixes and not failed_without:
        lines.append("Every key that could be checked works.")
    return "\n".join(lines)
