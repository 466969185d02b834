"""WhatsApp Web, seen through the selectors of the config (docs/whatsapp-dom.md).

Every selector comes from `cfg.resolved_selectors()` (key -> ordered fallbacks, words
of the configured language filled in). Most reads are one JavaScript round trip that
looks up several keys at once, which keeps a message's automation time under a second.

When a key matches nothing where the page plainly has the thing, the page is read by
meaning (page_js): our rows by their sender and status labels, a row's status by its
label, its text by its `data-pre-plain-text` element. That key is recorded in
`failed_keys` all the same, with what was seen: the worker stops the line when a key
keeps failing, and repairs it (worker/heal.py).
"""

from __future__ import annotations

import logging
import os
import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from selenium.common.exceptions import StaleElementReferenceException, TimeoutException, WebDriverException
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.keys import Keys

from settings import Config

from . import knowledge, typist
from . import page_js as JS
from .errors import Interrupted, LoggedOut, Offline, PhoneDisconnected, SelectorNotFound, SendFailure
from .limits import LimitReader
from .textmatch import same

log = logging.getLogger("worker")

POLL = 0.05  # seconds between two looks at the page while waiting
CHAT_ERROR_GRACE = 2.0  # seconds an error toast must stand, with the session still up, to count
OPEN_LOOK = 1.0  # seconds the click on a chat's link waits in the page for the page to change
NOTICE_GRACE = 0.5  # seconds a notice must stand in place of the compose box (not a chat still drawing)
MAX_DUMPS = 50  # failure dumps kept in LOG_DIR/failures (the oldest go first)
# Network errors of a page load (Chrome's error codes): the worker goes offline.
NET_ERROR_HINTS = (
    "net::err_",
    "err_name_not_resolved",
    "err_connection",
    "err_internet_disconnected",
    "err_address_unreachable",
    "err_timed_out",
    "err_network_changed",
    "err_empty_response",
)


def meaning_words(cfg: Config, own_name: str | None = None) -> dict[str, list[str]]:
    """The words that give the page its meaning, in the page's language and in English:
    who "you" are (and the account's own profile name), the status labels, "unread"."""
    words = cfg.words()

    def both(label: str) -> list[str]:
        return list(dict.fromkeys([words.get(label, label), label]))

    you = both("You") + ([own_name] if own_name else [])
    return {
        "you": you,
        "pending": both("Pending"),
        "ack": both("Sent") + both("Delivered") + both("Read"),
        "unread": both("unread"),
        "failed": both("Not sent") + list(knowledge.NOT_SENT_LABELS),
    }


def title_digits(title: str | None) -> str | None:
    """A chat named by a number ("+55 11 98765-4321"): its digits; a saved name: None."""
    if not title:
        return None
    digits = re.sub(r"\D", "", title)
    return digits if 7 <= len(digits) <= 15 and not re.search(r"[^\d\s+().\-\u202a\u202c\u00a0]", title) else None


def sender_of(pre: str | None) -> str | None:
    """The sender in "[2:05 PM, 11/30/2026] You: " (None without one)."""
    if not pre or "]" not in pre:
        return None
    return pre.split("]", 1)[1].strip().rstrip(":").strip() or None


@dataclass
class ChatResult:
    """Whether a chat opened, or the number is not on WhatsApp; `notice`: the chat opened
    with WhatsApp's notice where the compose box should be (a limit: worker/limits.py)."""

    ok: bool
    invalid: bool = False
    notice: str | None = None


@dataclass
class Row:
    """One of our message rows in the open chat (or, read by meaning, a row that may be ours)."""

    id: str | None
    text: str | None  # the message text element's text; None when message_text matched nothing
    full: str  # the whole row's text (a document's name is there)
    pre: str | None  # data-pre-plain-text, None when the row has none
    media: bool
    ack: bool | None  # a tick; None: its status cannot be read
    pending: bool
    more: bool  # a "Read more" is still there
    own: bool | None = True  # ours; None: its signals disagree or are missing (read by meaning)
    refused: bool = False  # WhatsApp's failure mark ("Not sent"): it was not sent


def check_box(box_key: str, got: str | None, text: str) -> None:
    """The box holds exactly the message text (as the page renders it), or SendFailure."""
    if not same(got, text, markers=True):
        raise SendFailure(f"the {box_key} holds {len(got or '')} characters that differ from the message text")


@dataclass
class ChatView:
    """The open chat as the worker reads it: our rows, the times that show how far back the
    history goes, the session's banners, and the keys that missed what the page shows."""

    rows: list[Row]
    total: int  # our rows in the chat (rows holds the newest `limit`)
    structural: bool  # read by meaning: no configured selector found all our rows
    any_rows: int  # message rows of any kind
    metas: list[str | None]  # data-pre-plain-text of every row of any kind, oldest first
    start: bool  # the chat's beginning (end-to-end notice) is loaded
    expanded: int  # "Read more" clicked during this look
    box: str | None  # the compose box's text
    logged_in: bool
    qr: bool
    phone_disconnected: bool
    offline: bool = False
    failed: dict[str, str] = field(default_factory=dict)  # keys that missed what the page shows
    own_senders: list[str] = field(default_factory=list)  # senders of rows ours by their status label
    unclassified: int = 0  # rows that cannot be told ours or a contact's
    control: Any = field(default=None, repr=False)  # the element of `chat_view(control=KEY)`
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def has_history(self) -> bool:
        """The chat holds messages (ours or the contact's; a system row such as the
        encryption notice is none): the account knows the contact."""
        return any(self.metas) or self.total > 0

    @property
    def heads(self) -> list[str]:
        return [m for m in self.metas if m][:5]

    def ours_by_meta(self, you: set[str]) -> int:
        """Rows whose meta names us as the sender ("[...] You: "), recognised or not."""
        return sum(1 for m in self.metas if m and sender_of(m) in you)


class WhatsAppPage:
    """One browser tab running WhatsApp Web (or the simulator), read through the config's
    selectors and, where they miss, by meaning."""

    def __init__(
        self, driver: Any, cfg: Config, *, check: Callable[[], None] | None = None, own_name: str | None = None
    ) -> None:
        self.driver = driver
        self.cfg = cfg
        self.base_url = cfg.browser.whatsapp_url.rstrip("/")
        self.log_dir = Path(cfg.paths.log_dir)
        # Called in every wait loop: raises Interrupted when a stop/pause asks to end the step.
        self.check = check or (lambda: None)
        self.failed_keys: dict[str, str] = {}  # key -> what failed, for the current message
        self.last_dump: str | None = None
        self.own_name = own_name
        self._doc_mark = ""  # set on the document by load(): gone when the page reloads
        self.sel: dict[str, Any] = {}
        self.use(cfg)

    def use(self, cfg: Config) -> None:
        """Read the page through these selectors from now on (a repaired config)."""
        self.cfg = cfg
        self.sel = {k: list(v) for k, v in cfg.resolved_selectors().items()}
        self.sel["__meaning"] = meaning_words(cfg, self.own_name)
        self.limits = LimitReader(cfg)
        self.sel["__limits"] = self.limits.phrases

    def learn_own_name(self, name: str) -> None:
        self.own_name = name
        self.sel["__meaning"] = meaning_words(self.cfg, name)

    @property
    def you(self) -> set[str]:
        return set(self.sel["__meaning"]["you"])

    # ------------------------------------------------------------------ plumbing
    def js(self, script: str, *args: Any) -> Any:
        return self.driver.execute_script(script, self.sel, *args)

    def state(self) -> dict[str, Any]:
        state: dict[str, Any] = self.js(JS.STATE)
        return state

    def find(self, key: str, *, visible: bool = True) -> Any:
        return self.js(JS.FIND, key, visible)

    def click(self, key: str, *, visible: bool = True) -> bool:
        """Click the first element matching `key` with a real (Selenium) click; JS click as fallback."""
        el = self.js(JS.FIND, key, visible)
        if el is None:
            return False
        try:
            click_element(self.driver, el)
        except StaleElementReferenceException:
            # Redrawn between finding and clicking (a dialog closing by itself): not clicked;
            # the caller looks at the page again.
            return False
        return True

    def key_failed(self, key: str, detail: str) -> None:
        self.failed_keys.setdefault(key, detail)

    def dump(self, key: str) -> str | None:
        """Save a screenshot and the page HTML in the log directory; returns the path stem."""
        try:
            # The page shows the chat list with its previews: owner-only, whatever the umask.
            d = self.log_dir / "failures"
            d.mkdir(mode=0o700, parents=True, exist_ok=True)
            # One clock reading for the second and its milliseconds: read twice, a second
            # ticking in between made a newer dump sort before older ones (pruned first).
            now = time.time()
            stem = d / f"{time.strftime('%Y%m%d-%H%M%S', time.localtime(now))}-{int(now * 1000) % 1000:03d}-{key}"
            png, html = Path(str(stem) + ".png"), Path(str(stem) + ".html")
            try:
                self.driver.save_screenshot(str(png))
                png.chmod(0o600)
            except (WebDriverException, OSError) as exc:
                log.warning("screenshot failed: %s", exc)
            fd = os.open(html, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(self.driver.page_source or "")
            _prune_dumps(d)
            self.last_dump = str(stem)
            return str(stem)
        except Exception as exc:  # the dump must never hide the original failure
            log.warning("could not save the failure dump for %s: %s", key, exc)
            return None

    def not_found(self, key: str, detail: str = "") -> SelectorNotFound:
        err = SelectorNotFound(key, detail, self.dump(key))
        self.key_failed(key, str(err))
        log.error("%s", err)
        return err

    def _sleep(self) -> None:
        self.check()
        time.sleep(POLL)

    # ------------------------------------------------------------------ session
    def load(self, url: str | None = None) -> None:
        """A full page load (the first one, or URL navigation). Accepts a "leave page?" prompt.
        Raises Offline when the network does not let the page load."""
        try:
            try:
                self.driver.get(url or self.base_url)
            except WebDriverException as exc:
                if "alert" not in str(exc).lower():
                    raise
                self._accept_alert()
                self.driver.get(url or self.base_url)
        except WebDriverException as exc:
            text = str(exc).lower()
            if any(h in text for h in NET_ERROR_HINTS):
                code = next((w for w in text.replace(":", " ").split() if w.startswith("err_")), "network error")
                raise Offline(code.upper(), page_failed=True) from None
            raise
        self._accept_alert()
        error = self.driver.execute_script(JS.NET_ERROR)
        if error:
            raise Offline(str(error), page_failed=True)
        self._mark_document()

    def _mark_document(self) -> None:
        self._doc_mark = f"{os.getpid()}-{time.monotonic_ns()}"
        try:
            self.driver.execute_script(JS.MARK_DOCUMENT, self._doc_mark)
        except WebDriverException:
            self._doc_mark = ""

    def reloaded(self) -> bool:
        """The document was replaced since our last load (WhatsApp reloading into a new
        build, say): whatever failed on the old one says nothing of the page or the message.
        Says so once: the new document is ours from here on."""
        if not self._doc_mark:
            return False
        try:
            ours = self.driver.execute_script(JS.SAME_DOCUMENT, self._doc_mark)
        except WebDriverException:
            return False
        if ours:
            return False
        self._mark_document()
        return True

    def _accept_alert(self) -> None:
        try:
            self.driver.switch_to.alert.accept()
        except WebDriverException:
            pass

    def session(self) -> dict[str, Any]:
        """Where the app is: booting / logged_out (qr) / logged_in (+ phone_disconnected) / use_here."""
        s = self.state()
        if s["net_error"]:
            s["login"] = "offline"
        elif s["use_here"]:
            s["login"] = "use_here"
        elif s["offline"] and not s["qr"]:
            s["login"] = "offline"
        elif s["logged_in"] and not s["qr"]:
            s["login"] = "phone_disconnected" if s["phone_disconnected"] else "logged_in"
        elif s["qr"] is not None:
            s["login"] = "logged_out"
        elif s["booting"]:
            s["login"] = "booting"
        else:
            s["login"] = "unknown"
        return s

    # ------------------------------------------------------------------ chats
    def open_chat(
        self, phone: str, *, navigation: str | None = None, timeout: float | None = None, quiet: bool = False
    ) -> ChatResult:
        """Open the chat with `phone` ("+DIGITS"); wait for its compose box or the invalid popup.
        `quiet`: a chat that does not open is no selector failure (a look, not a send)."""
        digits = re.sub(r"\D", "", phone)
        nav = navigation or self.cfg.browser.navigation
        first: dict[str, Any] | None = None
        if nav == "url":
            self.js(JS.MARK_BEFORE_OPEN)
            self.load(f"{self.base_url}/send?phone={digits}")
            # The page boots again: the chat opens when the app is up.
            timeout = self.cfg.browser.boot_timeout + self.cfg.browser.chat_timeout
        else:
            # The first look comes back with the click, once the page has changed.
            try:
                first = self.driver.execute_async_script(
                    JS.OPEN_LINK_AND_LOOK, self.sel, f"https://wa.me/{digits}", int(OPEN_LOOK * 1000)
                )
            except TimeoutException:
                # The document went away while the script waited (ChromeDriver says "script
                # timeout" then), so the script had run and clicked: look again below.
                first = None
            timeout = timeout or self.cfg.browser.chat_timeout
        deadline = time.monotonic() + timeout
        error_seen = notice_seen = 0.0
        while True:
            s, first = first or self.state(), None
            if s["offline"] or s["net_error"]:
                raise Offline("WhatsApp Web says this computer is not connected", page_failed=s["net_error"])
            if s["use_here"]:
                self.click("use_here_button")
                raise Interrupted("use_here")
            if s["qr"] is not None and not s["logged_in"]:
                raise LoggedOut()
            if s["invalid"]:
                self.click("popup_ok")
                return ChatResult(ok=False, invalid=True)
            if s["compose"] and s["chat_title"] is not None and _is_this_chat(s, digits):
                return ChatResult(ok=True)
            if s["notice"] and s["chat_title"] is not None and _is_this_chat(s, digits):
                notice_seen = notice_seen or time.monotonic()
                if time.monotonic() - notice_seen >= NOTICE_GRACE:
                    return ChatResult(ok=True, notice=str(s["notice"]))
            else:
                notice_seen = 0.0
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
                if quiet:
                    raise SendFailure(f"the chat did not open within {timeout:.0f} s")
                raise self.not_found(key, f"the chat did not open within {timeout:.0f} s")
            self._sleep()

    # ------------------------------------------------------------------ typing
    def type_text(
        self,
        box_key: str,
        text: str,
        *,
        seconds: float = 0.0,
        rng: random.Random | None = None,
        check: bool = True,
    ) -> None:
        """Put `text` into the box exactly: inserted with insertText (emoji outside the BMP
        cannot go through send_keys), Shift+Enter between lines (Enter would send). With
        `seconds`, in word-sized pieces spread over that time, as a person types. `check`:
        read the box back here; without it the caller must (`check_box`), with a later look."""
        if self.js(JS.CLEAR_BOX, box_key) is None:
            raise self.not_found(box_key)
        lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        pieces = [(i, piece) for i, line in enumerate(lines) for piece in (typist.chunks(line) or [""])]
        waits = typist.pauses([p for _i, p in pieces], seconds, rng or random.Random())
        line_no, held = 0, ""

        def insert() -> None:
            # Pieces with no pause between them go in at once: each insert is a round trip.
            nonlocal held
            if held and self.js(JS.INSERT, box_key, held) is None:
                raise self.not_found(box_key)
            held = ""

        # Each piece is due at its time from the start, so the round trips (slow on a busy
        # machine) are taken out of the pauses instead of added to the typing time.
        start, due = time.monotonic(), 0.0
        for (i, piece), wait in zip(pieces, waits):
            if i != line_no or wait:
                insert()
            if i != line_no:
                ActionChains(self.driver).key_down(Keys.SHIFT).send_keys(Keys.ENTER).key_up(Keys.SHIFT).perform()
                line_no = i
            if wait:
                due += wait
                self.pause(start + due - time.monotonic())
            held += piece
        insert()
        if check:
            check_box(box_key, self.box_text(box_key), text)

    def pause(self, seconds: float) -> None:
        """Wait, looking at the signals (a stop or a pause ends the step)."""
        end = time.monotonic() + seconds
        while True:
            self.check()
            left = end - time.monotonic()
            if left <= 0:
                return
            time.sleep(min(left, 0.1))

    def wait_for_change(self, most: float, *, least: float = 0.0) -> None:
        """Wait until the open chat (`#main`, else the whole page) changes, at least `least`
        and at most `most` seconds: while a tick is awaited the chat is looked at when it
        changed, not every few milliseconds (a change between the last look and this wait
        is seen `most` later). Errors are left to the next look, which sees what the page
        has become."""
        start = time.monotonic()
        try:
            self.driver.execute_async_script(JS.WAIT_CHANGE, int(most * 1000))
        except WebDriverException:
            pass
        rest = least - (time.monotonic() - start)
        if rest > 0:
            time.sleep(rest)

    def wait_link_preview(self, box_key: str, host: str, most: float) -> bool:
        """Wait at most `most` seconds for the box's footer to show the preview of a link to
        `host`; whether it showed (a site may give none: no failure)."""
        end = time.monotonic() + most
        while True:
            if self.js(JS.LINK_PREVIEW, box_key, host):
                return True
            if time.monotonic() >= end:
                return False
            self._sleep()

    def box_text(self, box_key: str) -> str | None:
        text = self.js(JS.BOX_TEXT, box_key)
        return str(text) if text is not None else None

    def press_enter(self, box_key: str) -> bool:
        """Enter in the box (WhatsApp sends on Enter unless the user turned that off)."""
        box = self.find(box_key)
        if box is None:
            return False
        box.send_keys(Keys.ENTER)
        return True

    def wait_for(self, key: str, timeout: float, *, visible: bool = True) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            el = self.js(JS.FIND, key, visible)
            if el is not None:
                return el
            if time.monotonic() >= deadline:
                raise self.not_found(key)
            self._sleep()

    # ------------------------------------------------------------------ the open chat
    def chat_view(self, *, limit: int = 0, expand: bool = False, control: str | None = None) -> ChatView:
        """The open chat's rows that are ours (newest `limit`, 0 = all); `expand` clicks "Read more";
        `control`: a key whose visible element comes with the view (None when nothing matches).
        Keys that missed what the page shows are recorded as failed."""
        raw = self.js(JS.CHAT, bool(expand), int(limit), control)
        rows = [Row(**r) for r in raw["rows"]]
        view = ChatView(
            rows=rows,
            total=raw["total"],
            structural=raw["structural"],
            any_rows=raw["any_rows"],
            metas=raw["metas"],
            start=raw["start"],
            expanded=raw["expanded"],
            box=raw["box"],
            logged_in=raw["logged_in"],
            qr=raw["qr"],
            phone_disconnected=raw["phone_disconnected"],
            offline=raw["offline"],
            failed=dict(raw.get("failed") or {}),
            own_senders=list(raw.get("own_senders") or []),
            unclassified=int(raw.get("unclassified") or 0),
            control=raw.pop("control", None),
            raw=raw,
        )
        for key, detail in view.failed.items():
            self.key_failed(key, detail)
        return view

    def listed_contacts(self) -> list[str]:
        """The numbers of the chats the chat list shows (chats named by a saved name are not
        numbers: left out)."""
        seen = self.js(JS.CHAT_LIST)
        for key, detail in (seen.get("failed") or {}).items():
            # The reply reader counts and repairs the chat list's keys; here it is said.
            log.warning("the chat list read by meaning: %s (%s)", key, detail)
        return ["+" + d for c in seen["chats"] if (d := title_digits(c.get("title")))]

    def limit_texts(self) -> dict[str, Any]:
        """What the page shows of WhatsApp's limits: texts outside the chats (banners, the
        ban screen), the open chat's notice, and whether the chat list is there."""
        seen: dict[str, Any] = self.js(JS.LIMITS)
        return seen

    def load_earlier(self) -> bool:
        """Scroll to the top of the message list (the page then loads older messages)."""
        return bool(self.js(JS.SCROLL_TOP))


def click_element(driver: Any, el: Any) -> None:
    try:
        el.click()
    except WebDriverException:
        driver.execute_script("arguments[0].click();", el)


def _is_this_chat(s: dict[str, Any], digits: str) -> bool:
    """The open chat is the one asked for: its title shows the number, or it is a chat
    panel opened since the request and its title is a saved contact's name."""
    shown = re.sub(r"\D", "", s["chat_title"] or "")
    if shown == digits:
        return True
    return bool(s["chat_title_new"]) and len(shown) < 7


def _prune_dumps(folder: Path) -> None:
    stems = sorted(
        {p.with_suffix("") for p in folder.glob("*.html")} | {p.with_suffix("") for p in folder.glob("*.png")}
    )
    for stem in stems[:-MAX_DUMPS]:
        for suffix in (".png", ".html"):
            try:
                Path(str(stem) + suffix).unlink()
            except FileNotFoundError:
                pass
