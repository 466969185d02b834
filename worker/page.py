"""WhatsApp Web, seen through the DOM contract (docs/whatsapp-dom.md).

Every selector comes from the config (`cfg.selectors`: key -> ordered fallbacks, "xpath:"
prefix for XPath). Most reads are one JavaScript round trip that looks up several keys at
once, which keeps a message's automation time well under a second.
"""
from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.keys import Keys

log = logging.getLogger("worker")

POLL = 0.05  # seconds between two looks at the page while waiting
CHAT_ERROR_GRACE = 2.0  # seconds an error toast must stand, with the session still up, to count

# Shared JS prelude: F(key, root, visibleOnly) finds the first element matching one of the
# key's selectors; FA(key, root) all elements of the first selector that matches any.
_PRELUDE = r"""
const SEL = arguments[0];
const vis = (e) => !!(e && e.isConnected && (e.offsetParent !== null || e.getClientRects().length));
const one = (s, root) => {
  if (s.startsWith('xpath:')) {
    const r = document.evaluate(s.slice(6), root || document, null, XPathResult.ORDERED_NODE_SNAPSHOT_TYPE, null);
    const out = []; for (let i = 0; i < r.snapshotLength; i++) out.push(r.snapshotItem(i)); return out;
  }
  return Array.from((root || document).querySelectorAll(s));
};
const FA = (key, root) => {
  for (const s of (SEL[key] || [])) { try { const l = one(s, root); if (l.length) return l; } catch (e) {} }
  return [];
};
const F = (key, root, visibleOnly) => {
  for (const s of (SEL[key] || [])) {
    try { for (const e of one(s, root)) { if (!visibleOnly || vis(e)) return e; } } catch (e) {}
  }
  return null;
};
const norm = (t) => String(t || '').replace(/\r\n?/g, '\n').replace(/\u00a0/g, ' ').trim();
const boxText = (box) => {
  // The text of a contenteditable as the user sees it ("\n" per line break).
  const BLOCK = /^(DIV|P|LI|UL|OL|H[1-6]|BLOCKQUOTE|PRE)$/;
  let out = '', pending = false;
  const flush = () => { if (pending) { out += '\n'; pending = false; } };
  const walk = (node) => {
    for (const c of node.childNodes) {
      if (c.nodeType === 3) { if (c.data) { flush(); out += c.data; } }
      else if (c.nodeName === 'BR') {
        flush();
        if (c.nextSibling || !(c.parentNode === box || BLOCK.test(c.parentNode.nodeName))) out += '\n';
      } else if (c.nodeType === 1) {
        const block = BLOCK.test(c.nodeName);
        if (block && out !== '') pending = true;
        walk(c);
        if (block) pending = true;
      }
    }
  };
  walk(box);
  return out;
};
const bubbleText = (b) => { const t = F('message_text', b); return t ? t.innerText : ''; };
const bubbleAtt = (b) => { const a = b.querySelector('[data-attachment-name]'); return a ? a.getAttribute('data-attachment-name') : null; };
"""

_STATE_JS = _PRELUDE + r"""
const qr = F('qr_code', null, true);
const chat = F('chat_open', null, true);
let title = null;
if (chat) title = chat.getAttribute('title') || chat.textContent || '';
return {
  booting: !!F('booting', null, true),
  qr: qr ? qr.getAttribute('data-ref') : null,
  qr_expired: !!F('qr_reload', null, true),
  logged_in: !!F('logged_in', null, true),
  phone_disconnected: !!F('phone_disconnected', null, true),
  use_here: !!F('use_here_button', null, true),
  chat_title: title,
  compose: !!F('compose_box', null, true),
  invalid: !!F('invalid_popup', null, true),
  popup_ok: !!F('popup_ok', null, true),
  // Only an error shown after this chat was asked for counts (see _OPEN_LINK_JS).
  chat_error: FA('chat_error', null).some((e) => vis(e) && !e.hasAttribute('data-wa-sender-seen')),
};
"""

_CLICK_JS = _PRELUDE + r"""
const e = F(arguments[1], null, arguments[2]);
if (!e) return false;
e.click();
return true;
"""

_FIND_JS = _PRELUDE + "return F(arguments[1], null, arguments[2]);"

_MARK_ERRORS_JS = _PRELUDE + r"""
for (const e of FA('chat_error', null)) e.setAttribute('data-wa-sender-seen', '1');
return true;
"""

_OPEN_LINK_JS = r"""
const a = document.createElement('a');
a.href = arguments[0];
a.rel = 'noopener';
a.textContent = 'chat';
a.style.position = 'fixed'; a.style.left = '-100px'; a.style.top = '0';
(document.body || document.documentElement).appendChild(a);
try { a.click(); } finally { a.remove(); }
return true;
"""

_CLEAR_BOX_JS = _PRELUDE + r"""
const box = F(arguments[1], null, true);
if (!box) return null;
box.focus();
const r = document.createRange(); r.selectNodeContents(box);
const s = window.getSelection(); s.removeAllRanges(); s.addRange(r);
if (boxText(box) !== '') document.execCommand('delete', false);
return boxText(box);
"""

_INSERT_JS = _PRELUDE + r"""
const box = F(arguments[1], null, true);
if (!box) return null;
if (document.activeElement !== box) {
  box.focus();
  const r = document.createRange(); r.selectNodeContents(box); r.collapse(false);
  const s = window.getSelection(); s.removeAllRanges(); s.addRange(r);
}
if (arguments[2]) document.execCommand('insertText', false, arguments[2]);
return boxText(box);
"""

_BOX_TEXT_JS = _PRELUDE + r"""
const box = F(arguments[1], null, true);
return box ? boxText(box) : null;
"""

# Outgoing bubbles matching a text (and attachment name): their count and the newest one's ack.
_MATCH_JS = _PRELUDE + r"""
const want = arguments[1], att = arguments[2];
let count = 0, last = null;
for (const b of FA('outgoing_message')) {
  if (norm(bubbleText(b)) !== want) continue;
  if (att !== null && bubbleAtt(b) !== att) continue;
  count++; last = b;
}
const s = {
  count,
  ack: !!(last && F('msg_ack', last)),
  pending: !!(last && F('msg_pending', last)),
  logged_in: !!F('logged_in', null, true),
  qr: !!F('qr_code', null, true),
  phone_disconnected: !!F('phone_disconnected', null, true),
};
return s;
"""

_BUBBLES_JS = _PRELUDE + r"""
const out = [];
for (const b of FA('outgoing_message')) {
  const meta = F('message_meta', b);
  out.push({text: bubbleText(b), pre: meta ? meta.getAttribute('data-pre-plain-text') : null, att: bubbleAtt(b)});
}
return out;
"""

_PRE_RE = re.compile(r"\[(\d{1,2}):(\d{2}), (\d{1,2})/(\d{1,2})/(\d{4})\]")


def normalize(text: str | None) -> str:
    """The comparison form of a message text: \\r\\n as \\n, no surrounding whitespace
    (WhatsApp trims what it sends), non-breaking spaces as spaces."""
    return (text or "").replace("\r\n", "\n").replace("\r", "\n").replace("\u00a0", " ").strip()


def parse_pre_plain(pre: str | None) -> float | None:
    """Epoch seconds of a bubble's "[HH:MM, M/D/YYYY] You: " (local time, minute precision)."""
    m = _PRE_RE.search(pre or "")
    if not m:
        return None
    hh, mm, mon, day, year = (int(g) for g in m.groups())
    return time.mktime((year, mon, day, hh, mm, 0, 0, 0, -1))


def floor_minute(ts: float) -> float:
    lt = time.localtime(ts)
    return time.mktime((lt.tm_year, lt.tm_mon, lt.tm_mday, lt.tm_hour, lt.tm_min, 0, 0, 0, -1))


class SelectorNotFound(Exception):
    """None of the configured selectors of `key` matched in time."""

    def __init__(self, key: str, detail: str = "", dump: str | None = None) -> None:
        self.key = key
        self.detail = detail
        self.dump = dump
        msg = f"selector {key!r}: none of its configured selectors matched"
        if detail:
            msg += f" ({detail})"
        if dump:
            msg += f"; screenshot and page saved as {dump}.png/.html"
        super().__init__(msg)


class LoggedOut(Exception):
    """WhatsApp Web shows the QR code: the session was logged out."""


class PhoneDisconnected(Exception):
    """The "phone not connected" banner is shown."""


class Interrupted(Exception):
    """A pause, stop or job status change asked the current step to end."""

    def __init__(self, what: str) -> None:
        self.what = what
        super().__init__(what)


@dataclass
class ChatResult:
    ok: bool
    invalid: bool = False


class WhatsAppPage:
    """One browser tab running WhatsApp Web (or the simulator)."""

    def __init__(self, driver: Any, cfg: Any, *, check: Callable[[], None] | None = None) -> None:
        self.driver = driver
        self.cfg = cfg
        self.sel = {k: list(v) for k, v in cfg.selectors.items()}
        self.base_url = cfg.browser.whatsapp_url.rstrip("/")
        self.log_dir = Path(cfg.paths.log_dir)
        # Called in every wait loop: raises Interrupted when a stop/pause asks to end the step.
        self.check = check or (lambda: None)

    # ------------------------------------------------------------------ plumbing
    def js(self, script: str, *args: Any) -> Any:
        return self.driver.execute_script(script, self.sel, *args)

    def state(self) -> dict[str, Any]:
        return self.js(_STATE_JS)

    def find(self, key: str, *, visible: bool = True) -> Any:
        return self.js(_FIND_JS, key, visible)

    def click(self, key: str, *, visible: bool = True) -> bool:
        """Click the first element matching `key` with a real (Selenium) click; JS click as fallback."""
        el = self.js(_FIND_JS, key, visible)
        if el is None:
            return False
        try:
            el.click()
        except WebDriverException:
            self.driver.execute_script("arguments[0].click();", el)
        return True

    def dump(self, key: str) -> str | None:
        """Save a screenshot and the page HTML in the log directory; returns the path stem."""
        try:
            d = self.log_dir / "failures"
            d.mkdir(parents=True, exist_ok=True)
            stem = d / f"{time.strftime('%Y%m%d-%H%M%S')}-{int(time.time() * 1000) % 1000:03d}-{key}"
            try:
                self.driver.save_screenshot(str(stem) + ".png")
            except WebDriverException as exc:
                log.warning("screenshot failed: %s", exc)
            (Path(str(stem) + ".html")).write_text(self.driver.page_source or "", encoding="utf-8")
            return str(stem)
        except Exception as exc:  # the dump must never hide the original failure
            log.warning("could not save the failure dump for %s: %s", key, exc)
            return None

    def not_found(self, key: str, detail: str = "") -> SelectorNotFound:
        err = SelectorNotFound(key, detail, self.dump(key))
        log.error("%s", err)
        return err

    def _sleep(self) -> None:
        self.check()
        time.sleep(POLL)

    # ------------------------------------------------------------------ session
    def load(self, url: str | None = None) -> None:
        """A full page load (the first one, or URL navigation). Accepts a "leave page?" prompt."""
        try:
            self.driver.get(url or self.base_url)
        except WebDriverException as exc:
            if "alert" not in str(exc).lower():
                raise
            self._accept_alert()
            self.driver.get(url or self.base_url)
        self._accept_alert()

    def _accept_alert(self) -> None:
        try:
            self.driver.switch_to.alert.accept()
        except WebDriverException:
            pass

    def session(self) -> dict[str, Any]:
        """Where the app is: booting / logged_out (qr) / logged_in (+ phone_disconnected) / use_here."""
        s = self.state()
        if s["use_here"]:
            s["login"] = "use_here"
        elif s["logged_in"] and not s["qr"]:
            s["login"] = "phone_disconnected" if s["phone_disconnected"] else "logged_in"
        elif s["qr"] is not None:
            s["login"] = "logged_out"
        elif s["booting"]:
            s["login"] = "booting"
        else:
            s["login"] = "unknown"
        return s

    def wait_booted(self, timeout: float) -> dict[str, Any]:
        """Wait until the app shows the QR code or the logged-in app (or the "Use here" dialog)."""
        deadline = time.monotonic() + timeout
        while True:
            s = self.session()
            if s["login"] not in ("booting", "unknown"):
                return s
            if time.monotonic() >= deadline:
                raise self.not_found("logged_in", f"WhatsApp Web did not boot within {timeout:.0f} s "
                                                  "(neither 'qr_code' nor 'logged_in' matched)")
            self._sleep()

    # ------------------------------------------------------------------ chats
    def open_chat(self, phone: str, *, navigation: str | None = None) -> ChatResult:
        """Open the chat with `phone` ("+DIGITS"); wait for its compose box or the invalid popup."""
        digits = re.sub(r"\D", "", phone)
        nav = navigation or self.cfg.browser.navigation
        if nav == "url":
            self.load(f"{self.base_url}/send?phone={digits}")
            # The page boots again: the chat opens when the app is up.
            timeout = self.cfg.browser.boot_timeout + self.cfg.browser.chat_timeout
        else:
            self.js(_MARK_ERRORS_JS)  # an error toast still showing from an earlier chat doesn't count
            self.driver.execute_script(_OPEN_LINK_JS, f"https://wa.me/{digits}")
            timeout = self.cfg.browser.chat_timeout
        deadline = time.monotonic() + timeout
        error_seen = 0.0
        while True:
            s = self.state()
            if s["use_here"]:
                self.click("use_here_button")
                raise Interrupted("use_here")
            if s["qr"] is not None and not s["logged_in"]:
                raise LoggedOut()
            if s["invalid"]:
                self.click("popup_ok")
                return ChatResult(ok=False, invalid=True)
            if s["compose"] and s["chat_title"] is not None and re.sub(r"\D", "", s["chat_title"]) == digits:
                return ChatResult(ok=True)
            if s["chat_error"]:
                # The same toast shows when the session just ended (logout, phone gone): give
                # the page a moment to show that, which releases the message instead of
                # burning an attempt.
                error_seen = error_seen or time.monotonic()
                if s["phone_disconnected"]:
                    raise PhoneDisconnected()
                if time.monotonic() - error_seen >= CHAT_ERROR_GRACE:
                    raise SendFailure("WhatsApp could not open the chat")
            if s["popup_ok"]:  # some other popup ("couldn't open the chat", ...)
                self.click("popup_ok")
                raise SendFailure("WhatsApp showed a popup while opening the chat")
            if time.monotonic() >= deadline:
                key = "compose_box" if s["chat_title"] is not None else "chat_open"
                raise self.not_found(key, f"chat with {phone} did not open within {timeout:.0f} s")
            self._sleep()

    # ------------------------------------------------------------------ typing
    def type_text(self, box_key: str, text: str) -> None:
        """Put `text` into the box exactly: each line inserted with insertText (emoji outside
        the BMP cannot go through send_keys), Shift+Enter between lines (Enter would send)."""
        if self.js(_CLEAR_BOX_JS, box_key) is None:
            raise self.not_found(box_key)
        lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        for i, line in enumerate(lines):
            if i:
                ActionChains(self.driver).key_down(Keys.SHIFT).send_keys(Keys.ENTER).key_up(Keys.SHIFT).perform()
            if line:
                if self.js(_INSERT_JS, box_key, line) is None:
                    raise self.not_found(box_key)
        got = self.js(_BOX_TEXT_JS, box_key)
        if normalize(got) != normalize(text):
            raise SendFailure(f"the {box_key} holds {got!r} instead of the message text")

    def wait_for(self, key: str, timeout: float, *, visible: bool = True) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            el = self.js(_FIND_JS, key, visible)
            if el is not None:
                return el
            if time.monotonic() >= deadline:
                raise self.not_found(key)
            self._sleep()

    # ------------------------------------------------------------------ bubbles
    def match(self, text: str, attachment_name: str | None = None) -> dict[str, Any]:
        return self.js(_MATCH_JS, normalize(text), attachment_name)

    def bubbles(self) -> list[dict[str, Any]]:
        return self.js(_BUBBLES_JS)


class SendFailure(Exception):
    """Something went wrong before the send click (retryable)."""
