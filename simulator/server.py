"""The WhatsApp Web simulator: state, ledger and HTTP server.

Everything the simulator knows lives in one :class:`SimState` guarded by a lock:
devices (one per browser profile, known by a cookie), the WhatsApp accounts they are
linked to (each with its own chats), and one ledger of every accepted message.
The browser page is a small single-page app (``simulator/static/``) that asks the
server for everything (chat history, sends, login state) through JSON endpoints
under ``/__sim__/app/``; tests and people steer it through the control API under
``/__sim__/`` (see docs/simulator.md). Only the standard library is used.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import random
import re
import secrets
import socket
import sys
import threading
import time
from dataclasses import dataclass, field
from http.cookies import CookieError, SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from simulator import mutate

log = logging.getLogger("simulator")

STATIC_DIR = Path(__file__).resolve().parent / "static"
HOST = "127.0.0.1"

_CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
}

_MSG_ID_RE = re.compile(r"^[A-Za-z0-9]{4,40}$")
TYPING_SENDS = 200  # sends kept per chat for GET /__sim__/typing
TYPING_EVENTS = 2000  # compose-box changes kept per send


class ConfigError(ValueError):
    """A bad setting given to :meth:`SimState.configure` (HTTP 400)."""


def digits_of(phone: Any) -> str:
    """The digits of a phone number ("+1 (555) 010-99" -> "155501099")."""
    return re.sub(r"\D", "", str(phone or ""))


DOMS = ("2024", "2026")
# UI languages the page is drawn in ("auto": the browser's own, as WhatsApp Web does).
LANGS = ("auto", "en-US", "en-GB", "pt-BR", "de-DE", "es-ES", "fr-FR")
# Whose name our own bubbles carry in data-pre-plain-text ("auto": the own profile name on a
# pt-BR page of the 2026 generation, the word for "You" everywhere else).
SENDER_STYLES = ("auto", "you", "name")
MAX_SEED = 2**31 - 1

_CHROME_RE = re.compile(r"\b(Headless)?Chrome/(\d+)")


def browser_refused(user_agent: str, min_chrome: int) -> str | None:
    """Why WhatsApp Web (2026) would show "update your browser" to this user agent, or None."""
    m = _CHROME_RE.search(user_agent or "")
    if m is None:
        return None  # not Chrome at all: the simulator only models Chrome's checks
    if m.group(1):
        return "HeadlessChrome"
    if int(m.group(2)) < min_chrome:
        return f"Chrome {m.group(2)} is older than {min_chrome}"
    return None


def _b64(n: int) -> str:
    return base64.b64encode(secrets.token_bytes(n)).decode("ascii")


# ----------------------------------------------------------------------------- settings


@dataclass
class Settings:
    """Fault injection and timing. Changed with ``configure(**kwargs)``."""

    boot_time: float = 3.0
    ack_delay: float = 0.3
    dblcheck_delay: float = 1.0
    invalid_numbers: list[str] = field(default_factory=list)
    invalid_suffix: str | None = None
    stuck_clock: bool = False
    lose_clicks: int = 0
    failure_rate: float = 0.0
    phone_connected: bool = True
    auto_login: float | None = None
    qr_rotate_seconds: float = 20.0
    qr_max_rotations: int = 5
    poll_interval: float = 0.3
    dom: str = "2026"
    lang: str = "auto"
    enter_sends: bool = True
    contact_names: dict[str, str] = field(default_factory=dict)
    min_chrome: int = 120
    history_page: int = 30
    read_more_chars: int = 1000
    # A link typed in the box gets its preview above it this long after (None: never, as for
    # a site that gives none); a send with the preview showing carries it.
    link_preview_delay: float | None = 1.0
    date_style: str = "numeric"
    text_style: str = "text"  # "image": our own bubbles' texts drawn as pictures (unreadable)
    offline: bool = False
    own_number: str = "+15550100000"
    mutate: int | None = None  # the build's seed (None: the page as written)
    read_after: float | None = None  # accepted messages show " Read " this long after acceptance
    own_name: str = "Sim User"  # the default account's profile name
    sender_style: str = "auto"
    # Account limits (docs/simulator.md, "Account limits"). All off by default.
    new_chat_limit_after: int | None = None  # new chats started before "can't message new people"
    new_chat_limit_hours: float | None = 11.0  # how long that lasts (None: "later", until changed)
    restricted_until: float | None = None  # epoch seconds: "Your account is restricted" until then
    banned: bool = False  # "This account is not allowed to use WhatsApp" instead of the app
    unanswered_cap: int | None = None  # the monthly cap of messages nobody replied to (None: no banner)
    unanswered_warn: float = 0.9  # the banner shows from this fraction of the cap
    unanswered_count: int | None = None  # force the count shown (None: counted for real)
    fail_sends: int = 0  # the next N sends get the failure mark ("not sent"); counts down
    fail_numbers: list[str] = field(default_factory=list)  # sends to these numbers get the failure mark

    def as_dict(self) -> dict[str, Any]:
        """Every setting as JSON (the control API and the page read it)."""
        return {
            "boot_time": self.boot_time,
            "ack_delay": self.ack_delay,
            "dblcheck_delay": self.dblcheck_delay,
            "invalid_numbers": list(self.invalid_numbers),
            "invalid_suffix": self.invalid_suffix,
            "stuck_clock": self.stuck_clock,
            "lose_clicks": self.lose_clicks,
            "failure_rate": self.failure_rate,
            "phone_connected": self.phone_connected,
            "auto_login": self.auto_login,
            "qr_rotate_seconds": self.qr_rotate_seconds,
            "qr_max_rotations": self.qr_max_rotations,
            "poll_interval": self.poll_interval,
            "dom": self.dom,
            "lang": self.lang,
            "enter_sends": self.enter_sends,
            "contact_names": dict(self.contact_names),
            "min_chrome": self.min_chrome,
            "history_page": self.history_page,
            "read_more_chars": self.read_more_chars,
            "link_preview_delay": self.link_preview_delay,
            "date_style": self.date_style,
            "text_style": self.text_style,
            "offline": self.offline,
            "own_number": self.own_number,
            "mutate": self.mutate,
            "read_after": self.read_after,
            "own_name": self.own_name,
            "sender_style": self.sender_style,
            "new_chat_limit_after": self.new_chat_limit_after,
            "new_chat_limit_hours": self.new_chat_limit_hours,
            "restricted_until": self.restricted_until,
            "banned": self.banned,
            "unanswered_cap": self.unanswered_cap,
            "unanswered_warn": self.unanswered_warn,
            "unanswered_count": self.unanswered_count,
            "fail_sends": self.fail_sends,
            "fail_numbers": list(self.fail_numbers),
        }

    def copy(self) -> Settings:
        return Settings(**self.as_dict())


def _seconds(key: str, value: Any, *, allow_none: bool = False, positive: bool = False) -> float | None:
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"{key}: expected a number of seconds, got {value!r}")
    value = float(value)
    if value < 0 or (positive and value == 0) or value != value:
        raise ConfigError(f"{key}: must be {'> 0' if positive else '>= 0'}, got {value!r}")
    return value


def _bool(key: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"{key}: expected true or false, got {value!r}")
    return value


def _count_or_none(key: str, value: Any, minimum: int = 0) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigError(f"{key}: expected a whole number >= {minimum} or null, got {value!r}")
    return value


def _numbers(key: str, value: Any) -> list[str]:
    """A list of phone numbers (or one comma-separated string) as their digits."""
    if isinstance(value, str):
        value = [v for v in value.split(",") if v.strip()]
    if not isinstance(value, (list, tuple, set)):
        raise ConfigError(f"{key}: expected a list of phone numbers, got {value!r}")
    numbers = []
    for v in value:
        d = digits_of(v)
        if not d:
            raise ConfigError(f"{key}: {v!r} is not a phone number")
        numbers.append(d)
    return numbers


def apply_settings(settings: Settings, changes: dict[str, Any]) -> None:
    """Validate every change first, then apply them all (nothing half-applied)."""
    new = settings.copy()
    for key, value in changes.items():
        if key in ("boot_time", "ack_delay", "dblcheck_delay"):
            setattr(new, key, _seconds(key, value))
        elif key == "auto_login":
            new.auto_login = _seconds(key, value, allow_none=True)
        elif key in ("qr_rotate_seconds", "poll_interval"):
            setattr(new, key, _seconds(key, value, positive=True))
        elif key == "qr_max_rotations":
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ConfigError(f"{key}: expected an integer >= 0, got {value!r}")
            new.qr_max_rotations = value
        elif key in ("invalid_numbers", "fail_numbers"):
            setattr(new, key, _numbers(key, value))
        elif key == "invalid_suffix":
            if value in (None, ""):
                new.invalid_suffix = None
            else:
                d = digits_of(value)
                if not d or d != str(value).strip():
                    raise ConfigError(f'{key}: expected digits such as "13", got {value!r}')
                new.invalid_suffix = d
        elif key in ("stuck_clock", "phone_connected", "enter_sends", "offline", "banned"):
            setattr(new, key, _bool(key, value))
        elif key == "dom":
            if str(value) not in DOMS:
                raise ConfigError(f"{key}: expected one of {', '.join(DOMS)}, got {value!r}")
            new.dom = str(value)
        elif key == "lang":
            if value not in LANGS:
                raise ConfigError(f"{key}: expected one of {', '.join(LANGS)}, got {value!r}")
            new.lang = value
        elif key == "own_number":
            d = digits_of(value)
            if not 7 <= len(d) <= 15:
                raise ConfigError(f"{key}: expected a phone number, got {value!r}")
            new.own_number = "+" + d
        elif key == "mutate":
            if isinstance(value, bool) or not (value is None or (isinstance(value, int) and 0 <= value <= MAX_SEED)):
                raise ConfigError(
                    f"{key}: expected a seed (a whole number from 0 to {MAX_SEED}; 0 = off), got {value!r}"
                )
            new.mutate = value or None  # 0: off
        elif key == "read_after":
            new.read_after = _seconds(key, value, allow_none=True)
        elif key == "link_preview_delay":
            new.link_preview_delay = _seconds(key, value, allow_none=True)
        elif key == "own_name":
            if not isinstance(value, str) or not value.strip() or len(value.strip()) > 60:
                raise ConfigError(f"{key}: expected a profile name (1 to 60 characters), got {value!r}")
            new.own_name = value.strip()
        elif key == "sender_style":
            if value not in SENDER_STYLES:
                raise ConfigError(f"{key}: expected one of {', '.join(SENDER_STYLES)}, got {value!r}")
            new.sender_style = value
        elif key == "date_style":
            if value not in ("numeric", "words"):
                raise ConfigError(f'{key}: expected "numeric" or "words", got {value!r}')
            new.date_style = value
        elif key == "text_style":
            if value not in ("text", "image"):
                raise ConfigError(f'{key}: expected "text" or "image", got {value!r}')
            new.text_style = value
        elif key == "contact_names":
            if not isinstance(value, dict):
                raise ConfigError(f"{key}: expected an object of number -> name, got {value!r}")
            names = {}
            for number, name in value.items():
                d = digits_of(number)
                if not d or not isinstance(name, str) or not name.strip():
                    raise ConfigError(f"{key}: bad entry {number!r}: {name!r}")
                names["+" + d] = name.strip()
            new.contact_names = names
        elif key in ("min_chrome", "history_page", "read_more_chars"):
            if isinstance(value, bool) or not isinstance(value, int) or value < (1 if key != "min_chrome" else 0):
                raise ConfigError(f"{key}: expected a whole number, got {value!r}")
            setattr(new, key, value)
        elif key in ("lose_clicks", "fail_sends"):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ConfigError(f"{key}: expected an integer >= 0, got {value!r}")
            setattr(new, key, value)
        elif key in ("new_chat_limit_after", "unanswered_count"):
            setattr(new, key, _count_or_none(key, value))
        elif key == "unanswered_cap":
            new.unanswered_cap = _count_or_none(key, value, 1)
        elif key == "unanswered":  # both at once: {"count": N or null, "cap": M or null}
            if not isinstance(value, dict) or not set(value) <= {"count", "cap"}:
                raise ConfigError(f'{key}: expected {{"count": N, "cap": M}}, got {value!r}')
            if "count" in value:
                new.unanswered_count = _count_or_none("unanswered.count", value["count"])
            if "cap" in value:
                new.unanswered_cap = _count_or_none("unanswered.cap", value["cap"], 1)
        elif key == "new_chat_limit_hours":
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < float("inf")
            ):
                raise ConfigError(f'{key}: expected a number of hours > 0, or null for "later", got {value!r}')
            new.new_chat_limit_hours = None if value is None else float(value)
        elif key == "restricted_until":
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < float("inf")
            ):
                raise ConfigError(f"{key}: expected a time in epoch seconds, or null, got {value!r}")
            new.restricted_until = None if value is None else float(value)
        elif key == "unanswered_warn":
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
                raise ConfigError(f"{key}: expected a fraction from 0 to 1, got {value!r}")
            new.unanswered_warn = float(value)
        elif key == "failure_rate":
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
                raise ConfigError(f"{key}: expected a number from 0 to 1, got {value!r}")
            new.failure_rate = float(value)
        else:
            known = ", ".join(sorted([*Settings().as_dict(), "unanswered"]))
            raise ConfigError(f"unknown setting {key!r} (known: {known})")
    for key, value in new.as_dict().items():
        setattr(settings, key, value)


# ----------------------------------------------------------------------------- state


@dataclass
class Message:
    """One message in a chat (ours or a contact's) with its ticks' times; the ledger holds ours."""

    id: str
    phone: str  # "+DIGITS"
    text: str
    caption: str | None
    attachment: dict[str, Any] | None
    sent_at: float  # when the send click reached the server
    accepted_at: float | None = None  # None while queued (phone not connected)
    stuck: bool = False
    check_at: float | None = None
    dbl_at: float | None = None
    read_at: float | None = None  # the contact read it (blue ticks, " Read "); None: never
    seq: int | None = None
    incoming: bool = False
    account: str = ""  # the own number of the account whose chat holds it
    failed: str | None = None  # why WhatsApp refused it (the failure mark; never in the ledger)
    new_contact: bool = False  # the first message of a chat that held nothing (a new chat started)
    link_preview: bool = False  # sent with the preview of its link (a card above the text)

    def ack_view(self, now: float) -> dict[str, Any]:
        """What the page needs to draw this bubble's ack icon and meta."""
        read_in = None
        if self.failed is not None:
            status, check_in, dbl_in = "failed", None, None
        elif self.accepted_at is None:
            status, check_in, dbl_in = "queued", None, None
        elif self.stuck or self.check_at is None:
            status, check_in, dbl_in = "stuck", None, None
        else:
            status = "accepted"
            check_in = max(0.0, self.check_at - now)
            dbl_in = max(0.0, (self.dbl_at or self.check_at) - now)
            if self.read_at is not None:
                read_in = max(dbl_in, self.read_at - now)
        return {
            "id": self.id,
            "status": status,
            "check_in": check_in,
            "dbl_in": dbl_in,
            "read_in": read_in,
            # The page formats the time in its UI language, as WhatsApp Web does.
            "at": self.accepted_at or self.sent_at,
        }

    def history_view(self, now: float) -> dict[str, Any]:
        if self.incoming:
            return {
                "id": self.id,
                "incoming": True,
                "at": self.sent_at,
                "text": self.text,
                "attachment": self.attachment,
                "phone": self.phone,
            }
        view = self.ack_view(now)
        view.update(text=self.text, attachment=self.attachment, phone=self.phone, link_preview=self.link_preview)
        return view


def e164(number: Any, key: str = "number") -> str:
    """ "+DIGITS" for a phone number given in any spelling; ConfigError when it is none."""
    d = digits_of(number)
    if not 7 <= len(d) <= 15:
        raise ConfigError(f"{key}: expected a phone number, got {number!r}")
    return "+" + d


@dataclass
class Account:
    """One WhatsApp account, known by its own number: the chats its phone keeps.

    The chats outlive every logout: a device linked again gets them back, as WhatsApp
    syncs the history from the phone."""

    number: str
    chats: dict[str, list[Message]] = field(default_factory=dict)
    by_id: dict[str, Message] = field(default_factory=dict)  # message ids are unique per account
    queued: list[Message] = field(default_factory=list)
    chats_version: int = 0
    use_here: bool = False
    # Incoming messages not yet seen on a device, per chat (the chat list's badge), and
    # when each chat was last read (the contact then sees blue ticks).
    unread: dict[str, int] = field(default_factory=dict)
    read_at: dict[str, float] = field(default_factory=dict)
    # Account limits: new chats started (messages accepted into chats that held nothing) and
    # since when "You can't message new people" holds; sends refused with the failure mark.
    new_chats: int = 0
    new_limit_since: float | None = None
    refused: int = 0
    # What the page typed into the compose box before each send, per chat (GET /__sim__/typing).
    typing: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def has_history(self, phone: str) -> bool:
        """Does the chat hold anything (a message of either side) other than refused sends?"""
        return any(m.failed is None for m in self.chats.get(phone, ()))

    def mark_read(self, phone: str, now: float) -> None:
        if self.unread.get(phone):
            self.unread[phone] = 0
            self.read_at[phone] = now
            self.chats_version += 1

    def add(self, msg: Message, *, in_time_order: bool = False) -> None:
        msg.account = self.number
        self.by_id[msg.id] = msg
        chat = self.chats.setdefault(msg.phone, [])
        chat.append(msg)
        if in_time_order:  # a message from before goes where its time puts it
            chat.sort(key=lambda m: m.accepted_at or m.sent_at)
        self.chats_version += 1


class QrCode:
    """The login QR code of one device: a run of refs that rotate, then expire.

    Every start is a new run with new keys, as every load of the real page is."""

    def __init__(self) -> None:
        self.started: float | None = None
        self.refs: list[str] = []
        self.keys = ""

    def start(self, now: float) -> None:
        self.started = now
        self.refs = []
        self.keys = ",".join([_b64(32), _b64(32), _b64(16)])

    def stop(self) -> None:
        """Scanned (or no longer shown): its refs are spent."""
        self.started = None
        self.refs = []

    def view(self, now: float, s: Settings) -> dict[str, Any]:
        if self.started is None:
            self.start(now)
        assert self.started is not None
        index = int((now - self.started) / s.qr_rotate_seconds)
        expired = index > s.qr_max_rotations
        index = min(index, s.qr_max_rotations)
        while len(self.refs) <= index:  # refs are made when due, so a scanned ref was on screen
            self.refs.append(f"2@{_b64(66)},{self.keys}")
        return {"ref": self.refs[index], "rotation": index, "expired": expired}

    def accepts(self, ref: str, now: float, s: Settings) -> bool:
        """A phone may scan any ref of the current run until the code expires."""
        return self.started is not None and not self.view(now, s)["expired"] and ref in self.refs


@dataclass
class Session:
    """One browser profile, known by its cookie: a linked device, or one waiting to be linked."""

    id: str
    seen: float
    qr: QrCode = field(default_factory=QrCode)
    account: str | None = None  # the account a scan linked it to
    linked_before: str | None = None  # the last account it was linked to (auto_login links it back)


SESSION_COOKIE = "wa_sim_session"
# The page sends its device id in this header: it keeps the id in IndexedDB, which
# Chromium writes at once (a cookie may wait 30 s in memory: a killed browser loses it).
DEVICE_HEADER = "X-WA-Sim-Device"
SESSION_MAX_AGE = 400 * 24 * 3600  # the longest Chrome keeps a cookie: it outlives browser restarts
MAX_SESSIONS = 500  # never-linked sessions beyond this are forgotten (a curl loop on "/" makes one each)
_SESSION_ID_RE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


class SimState:
    """Everything the simulator knows: devices (sessions), accounts, the one ledger.

    Legacy single-user mode: ``login()`` makes every device that no scan linked elsewhere
    a device of the default account (``settings.own_number``)."""

    def __init__(self, settings: Settings, *, logged_in: bool = False, seed: int | None = None) -> None:
        self.lock = threading.RLock()
        self.initial_settings = settings.copy()
        self.settings = settings
        self.rng = random.Random(seed)
        self.legacy_login = logged_in
        self.sessions: dict[str, Session] = {}
        self.accounts: dict[str, Account] = {}
        # What GET /__sim__/state shows as "qr" while no page shows one (tests without a browser).
        self._spare_qr = QrCode()
        self._reset_data()
        self.page_lang: str | None = None  # the UI language the last page load resolved

    def _reset_data(self) -> None:
        self.ledger_messages: list[Message] = []
        self.accounts = {number: Account(number) for number in self.accounts}
        self.counters = {
            "page_loads": 0,
            "chat_opens": 0,
            "in_app_opens": 0,
            "url_opens": 0,
            "invalid_opens": 0,
            "failed_opens": 0,
            "lost_clicks": 0,
            "refused_browsers": 0,
            "offline_drops": 0,
        }
        self.refused_reasons: list[str] = []

    # --- accounts and devices ------------------------------------------------------

    @property
    def logged_in(self) -> bool:
        """Is the default account logged in (the single-user view)?"""
        with self.lock:
            return self.is_logged_in(self.settings.own_number)

    def _number(self, account: Any) -> str:
        return self.settings.own_number if account is None else e164(account, "account")

    def _account(self, account: Any = None) -> Account:
        number = self._number(account)
        acc = self.accounts.get(number)
        if acc is None:
            acc = self.accounts[number] = Account(number)
        return acc

    def account_name(self, number: str) -> str:
        """An account's own profile name: `own_name` for the default account, "own_name 2",
        "own_name 3" … for the others in the order they became known."""
        with self.lock:
            if number == self.settings.own_number:
                return self.settings.own_name
            others = [n for n in self.accounts if n != self.settings.own_number]
            return (
                f"{self.settings.own_name} {others.index(number) + 2}" if number in others else self.settings.own_name
            )

    def account_of(self, session: Session) -> str | None:
        """The account a device is logged in as, or None while it shows the QR code."""
        with self.lock:
            if session.account is not None:
                return session.account
            return self.settings.own_number if self.legacy_login else None

    def is_logged_in(self, number: str) -> bool:
        with self.lock:
            if self.legacy_login and number == self.settings.own_number:
                return True
            return any(s.account == number for s in self.sessions.values())

    def _live(self, account: Any) -> Account | None:
        """The account, if some device (or the legacy login) has it logged in."""
        number = self._number(account)
        return self._account(number) if self.is_logged_in(number) else None

    def session_for(self, session_id: str | None) -> tuple[Session, bool]:
        """The device behind a cookie; a new one (True) when the cookie is missing or unknown."""
        with self.lock:
            now = time.time()
            known = self.sessions.get(session_id or "")
            if known is not None:
                known.seen = now
                return known, False
            session = Session(id=secrets.token_urlsafe(24), seen=now)
            self.sessions[session.id] = session
            self._prune_sessions()
            return session, True

    def _prune_sessions(self) -> None:
        spare = [s for s in self.sessions.values() if s.account is None and s.linked_before is None]
        spare.sort(key=lambda s: s.seen)
        for s in spare[: max(0, len(self.sessions) - MAX_SESSIONS)]:
            del self.sessions[s.id]

    def _showing_qr(self) -> list[Session]:
        return [s for s in self.sessions.values() if s.qr.started is not None and self.account_of(s) is None]

    def _link(self, session: Session, number: str) -> None:
        session.account = session.linked_before = number
        session.qr.stop()
        self._account(number)

    def _next_number(self) -> str:
        """A number no device has had: own_number first, then own_number + 1, + 2 …"""
        taken = {n for s in self.sessions.values() for n in (s.account, s.linked_before)}
        number = int(digits_of(self.settings.own_number))
        while f"+{number}" in taken:
            number += 1
        return f"+{number}"

    def _auto_link(self, now: float) -> None:
        """Demo mode: a phone scans every QR code that has been on screen auto_login seconds."""
        wait = self.settings.auto_login
        if wait is None:
            return
        for s in self._showing_qr():
            assert s.qr.started is not None
            if now - s.qr.started >= wait:
                self.link_here(s)

    def link_here(self, session: Session) -> None:
        """The page's own "simulate scanning": back to its last account, else a fresh number."""
        with self.lock:
            if self.account_of(session) is None:
                self._link(session, session.linked_before or self._next_number())

    # --- control -------------------------------------------------------------

    def login(self) -> None:
        """Legacy: every device not linked to another account is the default account's."""
        with self.lock:
            self.legacy_login = True
            self._account()
            for s in self.sessions.values():
                if s.account is None:
                    s.qr.stop()

    def logout(self, number: Any = None) -> None:
        """One account's devices (all devices when None) go back to a fresh QR code."""
        with self.lock:
            number = None if number is None else e164(number)
            linked = [(s, self.account_of(s)) for s in self.sessions.values()]
            leaving = [(s, n) for s, n in linked if n is not None and number in (None, n)]
            if number is None or number == self.settings.own_number:
                self.legacy_login = False
            for acc in self.accounts.values():
                if number in (None, acc.number):
                    acc.use_here = False
            now = time.time()
            for s, n in leaving:
                s.account, s.linked_before = None, n
                s.qr.start(now)
            self._spare_qr.stop()

    def scan(self, ref: Any, number: Any) -> str:
        """The phone of account `number` scans the QR code showing `ref`; the device's id."""
        with self.lock:
            number = e164(number)
            now = time.time()
            self._auto_link(now)
            for s in self._showing_qr():
                if isinstance(ref, str) and s.qr.accepts(ref, now, self.settings):
                    self._link(s, number)
                    return s.id
            raise ConfigError(f"ref: no QR code on screen shows {ref!r} (unknown, expired or already scanned)")

    def show_use_here(self, show: bool = True, account: Any = None) -> None:
        with self.lock:
            self._account(account).use_here = show

    def configure(self, **changes: Any) -> dict[str, Any]:
        with self.lock:
            was_connected = self.settings.phone_connected
            was_stuck = self.settings.stuck_clock
            apply_settings(self.settings, changes)
            if not was_connected and self.settings.phone_connected:
                self._flush_queue()
            if was_stuck and not self.settings.stuck_clock:
                self._unstick()
            return self.settings.as_dict()

    def _unstick(self) -> None:
        """The fault is over: messages that kept the clock get their ticks (a page that
        reopens the chat sees them)."""
        now = time.time()
        for msg in self.ledger_messages:
            if msg.stuck:
                msg.stuck = False
                msg.check_at = now + self.settings.ack_delay
                msg.dbl_at = msg.check_at + self.settings.dblcheck_delay
                msg.read_at = self._read_at(msg.dbl_at, now)

    def reset(self) -> None:
        """Forget ledger, chats and counters; restore the settings given at start.

        The login state (devices, their accounts, the legacy login) is kept.
        """
        with self.lock:
            self._reset_data()
            self.settings.__dict__.update(self.initial_settings.copy().__dict__)

    # --- QR -------------------------------------------------------------------

    def qr_start(self, session: Session) -> None:
        """A page load: a device that is not linked shows a fresh QR code."""
        with self.lock:
            if self.account_of(session) is None:
                session.qr.start(time.time())

    def _control_qr(self, now: float) -> dict[str, Any]:
        """The QR code the single-user view shows: the one most recently put on a screen."""
        showing = self._showing_qr()
        if not showing:
            return self._spare_qr.view(now, self.settings)
        return max(showing, key=lambda s: s.qr.started or 0.0).qr.view(now, self.settings)

    # --- reading ----------------------------------------------------------------

    def state(self, watch: list[str] | None = None) -> dict[str, Any]:
        """The control view: the default account as the single-user simulator had it, and all accounts."""
        with self.lock:
            now = time.time()
            self._auto_link(now)
            acc = self._account()
            logged_in = self.is_logged_in(acc.number)
            out: dict[str, Any] = {
                "logged_in": logged_in,
                "phone_connected": self.settings.phone_connected,
                "use_here": acc.use_here and logged_in,
                "qr": None if logged_in else self._control_qr(now),
                "demo": self.settings.auto_login is not None,
                "chats_version": acc.chats_version,
                "queued": len(acc.queued),
                "page_lang": self.page_lang,
                "settings": self.settings.as_dict(),
                "accounts": self._accounts_view(),
                "limits": self._page_limits(acc, now),
            }
            if watch:
                out["watched"] = {mid: acc.by_id[mid].ack_view(now) for mid in watch if mid in acc.by_id}
            return out

    def app_state(self, session: Session, watch: list[str] | None = None) -> dict[str, Any]:
        """What one page sees: its device's login or QR code, its account's chats."""
        with self.lock:
            now = time.time()
            self._auto_link(now)
            number = self.account_of(session)
            acc = self._account(number) if number else None
            out: dict[str, Any] = {
                "device": session.id,
                "logged_in": acc is not None,
                "own_number": number,
                "own_name": self.account_name(number) if number else None,
                "phone_connected": self.settings.phone_connected,
                "use_here": bool(acc and acc.use_here),
                "qr": None if acc else session.qr.view(now, self.settings),
                "demo": self.settings.auto_login is not None,
                "chats_version": acc.chats_version if acc else 0,
                "queued": len(acc.queued) if acc else 0,
                "page_lang": self.page_lang,
                "settings": self.settings.as_dict(),
                "limits": self._page_limits(acc, now) if acc else None,
            }
            if watch and acc:
                out["watched"] = {mid: acc.by_id[mid].ack_view(now) for mid in watch if mid in acc.by_id}
            return out

    def _accounts_view(self) -> dict[str, dict[str, Any]]:
        devices: dict[str, int] = {}
        for s in self.sessions.values():
            number = self.account_of(s)
            if number is not None:
                devices[number] = devices.get(number, 0) + 1
        numbers = sorted(set(self.accounts) | set(devices) | {self.settings.own_number})
        return {n: {"sessions": devices.get(n, 0), "logged_in": self.is_logged_in(n)} for n in numbers}

    def pending_logins(self) -> list[dict[str, Any]]:
        """Devices showing a QR code now (oldest first), with the ref a phone would scan."""
        with self.lock:
            now = time.time()
            self._auto_link(now)
            return [
                {"session": s.id, **{k: v for k, v in s.qr.view(now, self.settings).items() if k in ("ref", "expired")}}
                for s in self._showing_qr()
            ]

    def sessions_view(self) -> list[dict[str, Any]]:
        """Every device: its account (None while not linked) and the QR code it shows."""
        with self.lock:
            now = time.time()
            self._auto_link(now)
            showing = {s.id for s in self._showing_qr()}
            return [
                {
                    "session": s.id,
                    "account": self.account_of(s),
                    "seen": s.seen,
                    "qr": s.qr.view(now, self.settings) if s.id in showing else None,
                }
                for s in self.sessions.values()
            ]

    def ledger(self) -> dict[str, Any]:
        with self.lock:
            msgs = [
                {
                    "seq": m.seq,
                    "id": m.id,
                    "phone": m.phone,
                    "text": m.text,
                    "caption": m.caption,
                    "attachment": dict(m.attachment) if m.attachment else None,
                    "accepted_at": m.accepted_at,
                    "account": m.account,
                    "link_preview": m.link_preview,
                }
                for m in self.ledger_messages
            ]
            return {"messages": msgs, **self.counters}

    def chat_list(self, account: Any = None) -> dict[str, Any]:
        """The account's chats, newest first, as the page's chat list shows them."""
        with self.lock:
            acc = self._account(account)
            items = []
            for phone, msgs in acc.chats.items():
                if not msgs:
                    continue
                last = msgs[-1]
                own = phone == acc.number  # "Message yourself": the page adds "(You)"
                items.append(
                    {
                        "phone": phone,
                        "name": self.account_name(acc.number) if own else self.settings.contact_names.get(phone),
                        "self": own,
                        "last_text": last.text if last.text else (last.attachment or {}).get("name", ""),
                        "last_at": last.accepted_at or last.sent_at,
                        "count": len(msgs),
                        "unread": acc.unread.get(phone, 0),
                    }
                )
            items.sort(key=lambda c: c["last_at"], reverse=True)
            return {"version": acc.chats_version, "chats": items[:200]}

    # --- account limits -------------------------------------------------------------

    def _restricted_until(self, now: float) -> float | None:
        """The end of the restriction while it holds, else None (it lifts by itself)."""
        until = self.settings.restricted_until
        return until if until is not None and now < until else None

    def _new_chat_limit(self, acc: Account, now: float) -> dict[str, Any] | None:
        """{"until": epoch, or None for "later"} while the account may not start new chats."""
        after = self.settings.new_chat_limit_after
        if after is None or acc.new_chats < after:
            return None
        if acc.new_limit_since is None:
            acc.new_limit_since = now
        hours = self.settings.new_chat_limit_hours
        if hours is None:
            return {"until": None}
        until = acc.new_limit_since + hours * 3600
        if now >= until:  # the timelock is over: counting starts again
            acc.new_chats = 0
            acc.new_limit_since = None
            return self._new_chat_limit(acc, now) if after == 0 else None
        return {"until": until}

    def _unanswered(self, acc: Account, now: float) -> int:
        """Messages accepted this (local) month into chats whose contact never wrote to the
        account; `unanswered_count` when set."""
        if self.settings.unanswered_count is not None:
            return self.settings.unanswered_count
        t = time.localtime(now)
        month_start = time.mktime((t.tm_year, t.tm_mon, 1, 0, 0, 0, 0, 0, -1))
        count = 0
        for phone, msgs in acc.chats.items():
            if phone == acc.number or any(m.incoming for m in msgs):
                continue
            count += sum(1 for m in msgs if m.seq is not None and (m.accepted_at or 0) >= month_start)
        return count

    def _page_limits(self, acc: Account, now: float) -> dict[str, Any]:
        """What the page draws: the ban screen, the restriction, the new-chat notice, the banner."""
        s = self.settings
        banner = None
        if s.unanswered_cap is not None:
            count = self._unanswered(acc, now)
            if count >= s.unanswered_warn * s.unanswered_cap:
                banner = {"count": count, "cap": s.unanswered_cap}
        return {
            "banned": s.banned,
            "restricted_until": self._restricted_until(now),
            "new_chats": self._new_chat_limit(acc, now),
            "unanswered": banner,
        }

    def limits(self, account: Any = None) -> dict[str, Any]:
        """The account's limits as the control API reports them (GET /__sim__/limits)."""
        with self.lock:
            now = time.time()
            acc = self._account(account)
            page = self._page_limits(acc, now)
            new = page["new_chats"]
            return {
                "account": acc.number,
                "banned": page["banned"],
                "restricted_until": page["restricted_until"],
                "new_chats": {
                    "started": acc.new_chats,
                    "limit": self.settings.new_chat_limit_after,
                    "limited": new is not None,
                    "until": new["until"] if new else None,
                },
                "unanswered": {
                    "count": self._unanswered(acc, now),
                    "cap": self.settings.unanswered_cap,
                    "banner": page["unanswered"] is not None,
                },
                "refused": acc.refused,
            }

    def _refusal(self, acc: Account, contact: str, now: float) -> str | None:
        """Why WhatsApp refuses this send (the failure mark), or None."""
        s = self.settings
        if s.banned:
            return "banned"
        if self._restricted_until(now) is not None:
            return "restricted"
        if contact != acc.number and not acc.has_history(contact) and self._new_chat_limit(acc, now) is not None:
            return "new_chat_limit"
        if digits_of(contact) in s.fail_numbers:
            return "fault"
        if s.fail_sends > 0:
            s.fail_sends -= 1
            return "fault"
        return None

    def _note_typing(
        self, acc: Account, phone: str, msg_id: str, text: str, events: Any, status: str, now: float
    ) -> None:
        """Keep what the page typed before a send (its compose box's changes)."""
        if not isinstance(events, list):
            return
        clean = []
        for e in events[-TYPING_EVENTS:]:
            if not isinstance(e, dict):
                continue
            at, length = e.get("at"), e.get("length")
            if isinstance(at, (int, float)) and not isinstance(at, bool) and isinstance(length, int):
                clean.append({"at": float(at), "length": length})
        sends = acc.typing.setdefault(phone, [])
        sends.append({"id": msg_id, "sent_at": now, "text": text, "status": status, "events": clean})
        del sends[:-TYPING_SENDS]

    def typing(self, account: Any = None) -> dict[str, list[dict[str, Any]]]:
        """Per chat, every send of the page with what was typed before it (GET /__sim__/typing)."""
        with self.lock:
            acc = self._account(account)
            return {
                phone: [dict(r, events=[dict(e) for e in r["events"]]) for r in sends]
                for phone, sends in acc.typing.items()
            }

    # --- the app ------------------------------------------------------------------

    def note_refused(self, reason: str) -> None:
        with self.lock:
            self.counters["refused_browsers"] += 1
            self.refused_reasons.append(reason)

    def count_page_load(self) -> None:
        with self.lock:
            self.counters["page_loads"] += 1

    def is_invalid(self, digits: str) -> bool:
        s = self.settings
        if not 7 <= len(digits) <= 15:
            return True
        if digits in s.invalid_numbers:
            return True
        return bool(s.invalid_suffix) and digits.endswith(s.invalid_suffix or "")

    def open_chat(self, phone: Any, via: str, *, account: Any = None) -> dict[str, Any]:
        """A chat asked for by the page: its history, or why it cannot open (invalid, failed)."""
        with self.lock:
            acc = self._live(account)
            if acc is None:
                return {"error": "not logged in"}
            digits = digits_of(phone)
            if self.settings.failure_rate and self.rng.random() < self.settings.failure_rate:
                self.counters["failed_opens"] += 1
                return {"failed": True, "error": "Couldn't open the chat. Check your connection and try again."}
            if self.is_invalid(digits):
                self.counters["invalid_opens"] += 1
                return {"invalid": True}
            self.counters["chat_opens"] += 1
            self.counters["url_opens" if via == "url" else "in_app_opens"] += 1
            now = time.time()
            contact = "+" + digits
            acc.mark_read(contact, now)  # an opened chat is read
            own = contact == acc.number  # "Message yourself": the page adds "(You)"
            return {
                "phone": contact,
                "name": self.account_name(acc.number) if own else self.settings.contact_names.get(contact),
                "self": own,
                "history": [m.history_view(now) for m in acc.chats.get(contact, [])],
                "limits": self._page_limits(acc, now),  # the page draws the chat with the limits of now
            }

    def history(self, phone: Any, *, account: Any = None) -> dict[str, Any]:
        """The open chat's messages again (the page merges new ones in, e.g. a reply)."""
        with self.lock:
            acc = self._account(account)
            now = time.time()
            contact = "+" + digits_of(phone)
            acc.mark_read(contact, now)  # the open chat shows them: read
            return {"phone": contact, "history": [m.history_view(now) for m in acc.chats.get(contact, [])]}

    def seed_history(
        self, phone: Any, text: str, *, at: float, incoming: bool = False, account: Any = None
    ) -> dict[str, Any]:
        """A message already in a chat from before (e.g. an earlier campaign), at time `at`.
        Outgoing ones show a double tick; none of them is in the ledger."""
        with self.lock:
            acc = self._account(account)
            digits = digits_of(phone)
            if not isinstance(text, str) or not text.strip():
                raise ConfigError("text: expected a non-empty string")
            msg = Message(
                id=("3A" if incoming else "3EB0") + secrets.token_hex(8).upper(),
                phone="+" + digits,
                text=text,
                caption=None,
                attachment=None,
                sent_at=at,
                accepted_at=at,
                check_at=at,
                dbl_at=at,
                incoming=incoming,
                read_at=None if incoming else self._read_at(at, at),
            )
            acc.add(msg, in_time_order=True)
            return {"id": msg.id, "phone": msg.phone}

    def deliver(self, phone: Any, text: str, *, at: float | None = None, account: Any = None) -> dict[str, Any]:
        """An incoming message from `phone` (a contact's reply): in its chat, never in the ledger."""
        with self.lock:
            acc = self._account(account)
            digits = digits_of(phone)
            if not 7 <= len(digits) <= 15:
                raise ConfigError(f"phone: {phone!r} is not a phone number")
            if not isinstance(text, str) or not text.strip():
                raise ConfigError("text: expected a non-empty string")
            now = time.time() if at is None else at
            msg = Message(
                id="3A" + secrets.token_hex(9).upper(),
                phone="+" + digits,
                text=text,
                caption=None,
                attachment=None,
                sent_at=now,
                accepted_at=now,
                incoming=True,
            )
            acc.add(msg)
            acc.unread[msg.phone] = acc.unread.get(msg.phone, 0) + 1
            return {"id": msg.id, "phone": msg.phone}

    def read_chat(self, phone: Any, account: Any = None) -> None:
        """The account's own phone opened the chat: read everywhere, no badge on any device."""
        with self.lock:
            self._account(account).mark_read("+" + digits_of(phone), time.time())

    def unread(self, account: Any = None) -> dict[str, int]:
        """Chats with incoming messages no device has shown yet (their badge counts)."""
        with self.lock:
            return {p: n for p, n in self._account(account).unread.items() if n}

    def read_receipts(self, account: Any = None) -> dict[str, float]:
        """When each chat was read: what the contact sees as blue ticks."""
        with self.lock:
            return dict(self._account(account).read_at)

    def send(
        self,
        phone: Any,
        msg_id: str,
        text: str,
        *,
        attachment: dict[str, Any] | None = None,
        account: Any = None,
        typing: list[Any] | None = None,
        link_preview: bool = False,
    ) -> dict[str, Any]:
        """A send click reached the server. Returns what the page should show.

        `typing`: the page's compose-box changes before this send ([{"at", "length"}]),
        kept for GET /__sim__/typing. `link_preview`: the box showed its link's preview."""
        with self.lock:
            acc = self._live(account)
            if acc is None:
                return {"id": msg_id, "status": "lost", "error": "not logged in"}
            digits = digits_of(phone)
            if not digits or self.is_invalid(digits):
                return {"id": msg_id, "status": "lost", "error": "invalid number"}
            known = acc.by_id.get(msg_id or "")
            if known is not None and known.phone == "+" + digits and known.text == text and not known.incoming:
                return known.ack_view(time.time())  # the page sent it again (its answer was lost)
            if not _MSG_ID_RE.match(msg_id or "") or known is not None:
                msg_id = "3EB0" + secrets.token_hex(8).upper()
            now = time.time()
            contact = "+" + digits
            if self.settings.lose_clicks > 0:
                self.settings.lose_clicks -= 1
                self.counters["lost_clicks"] += 1
                self._note_typing(acc, contact, msg_id, text, typing, "lost", now)
                return {"id": msg_id, "status": "lost"}
            msg = Message(
                id=msg_id,
                phone=contact,
                text=text,
                caption=text if attachment is not None else None,
                attachment=attachment,
                sent_at=now,
                link_preview=link_preview and attachment is None,
            )
            reason = self._refusal(acc, contact, now)
            if reason is not None:  # the failure mark: in the chat, never in the ledger
                msg.failed = reason
                acc.add(msg)
                acc.refused += 1
                self._note_typing(acc, contact, msg_id, text, typing, "failed", now)
                return dict(msg.ack_view(now), reason=reason)
            msg.new_contact = contact != acc.number and not acc.has_history(contact)
            acc.add(msg)
            if self.settings.phone_connected:
                self._accept(msg, now)
            else:
                acc.queued.append(msg)
            view = msg.ack_view(now)
            self._note_typing(acc, contact, msg_id, text, typing, view["status"], now)
            return view

    def _accept(self, msg: Message, now: float) -> None:
        msg.accepted_at = now
        msg.seq = len(self.ledger_messages) + 1
        if self.settings.stuck_clock:
            msg.stuck = True
        else:
            msg.check_at = now + self.settings.ack_delay
            msg.dbl_at = msg.check_at + self.settings.dblcheck_delay
            msg.read_at = self._read_at(msg.dbl_at, now)
        self.ledger_messages.append(msg)
        acc = self.accounts.get(msg.account)
        if msg.new_contact and acc is not None:
            acc.new_chats += 1
            self._new_chat_limit(acc, now)  # the limit starts now when this was the last one allowed

    def _read_at(self, dbl_at: float, accepted: float) -> float | None:
        """When the contact reads a message accepted at `accepted` (read_after), never before
        its double tick; None while read_after is off."""
        after = self.settings.read_after
        return None if after is None else max(dbl_at, accepted + after)

    def _flush_queue(self) -> None:
        """The phone is back: every account's waiting messages go, in the order they were sent."""
        now = time.time()
        waiting = sorted((m for acc in self.accounts.values() for m in acc.queued), key=lambda m: m.sent_at)
        for acc in self.accounts.values():
            acc.queued = []
        for msg in waiting:
            self._accept(msg, now)


# ----------------------------------------------------------------------------- HTTP

_UNSUPPORTED_HTML = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>WhatsApp</title></head>
<body><div id="app"><div class="landing-unsupported" data-unsupported-browser="true">
<h1>WhatsApp works with Google Chrome {MIN} and newer</h1>
<p>To use WhatsApp, update Chrome or use Mozilla Firefox, Safari, Microsoft Edge or Opera.</p>
<a href="https://www.google.com/chrome">UPDATE GOOGLE CHROME</a>
</div></div></body></html>
"""


def _session_id(cookie_header: str | None) -> str | None:
    """The device id a request's Cookie header carries, if it looks like one of ours."""
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(cookie_header or "")
    except CookieError:
        return None
    morsel = jar.get(SESSION_COOKIE)
    return morsel.value if morsel is not None and _SESSION_ID_RE.match(morsel.value) else None


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def __init__(self, addr: tuple[str, int], state: SimState) -> None:
        self.state = state
        self.static: dict[str, bytes] = {
            p.name: p.read_bytes() for p in STATIC_DIR.iterdir() if p.suffix in _CONTENT_TYPES
        }
        self.connections: set[socket.socket] = set()
        self.conn_lock = threading.Lock()
        super().__init__(addr, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self.conn_lock:
            self.connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self.conn_lock:
            self.connections.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        exc = sys.exc_info()[1]
        if isinstance(exc, OSError):  # a connection cut by stop() or by the browser
            log.debug("connection error with %s: %s", client_address, exc)
        else:
            log.exception("simulator: error while serving %s", client_address)

    def close_connections(self) -> None:
        """Cut open keep-alive connections, so a stopped simulator answers nothing."""
        with self.conn_lock:
            conns = list(self.connections)
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    server_version = "WhatsAppSimulator/1.0"

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s %s", self.address_string(), format % args)

    # --- helpers ---

    _session: Session | None = None  # the device of the request being answered

    def _send(self, status: int, body: bytes, ctype: str, extra: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        if self._new_cookie:
            self.send_header("Set-Cookie", self._new_cookie)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, obj: Any, status: int = 200) -> None:
        self._send(status, json.dumps(obj).encode("utf-8"), "application/json; charset=utf-8")

    def _error(self, status: int, message: str) -> None:
        self._json({"error": message}, status)

    def _body(self) -> bytes:
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n > 0 else b""

    def _device(self) -> Session:
        """This request's device: the one its page names (header DEVICE_HEADER, kept in the
        profile's IndexedDB, as WhatsApp Web keeps its keys), else the one its cookie names,
        else a new one (the answer sets its cookie; the page stores the id it is told)."""
        if self._session is None:
            claimed = self.headers.get(DEVICE_HEADER)
            claimed = claimed if claimed and _SESSION_ID_RE.match(claimed) else None
            self._session, created = self.server.state.session_for(claimed or _session_id(self.headers.get("Cookie")))
            if created:
                self._new_cookie = (
                    f"{SESSION_COOKIE}={self._session.id}; Path=/; Max-Age={SESSION_MAX_AGE}; HttpOnly; SameSite=Strict"
                )
        return self._session

    def _json_body(self) -> dict[str, Any]:
        raw = self._body()
        if not raw.strip():
            return {}
        data = json.loads(raw.decode("utf-8"))
        if not isinstance(data, dict):
            raise ConfigError("expected a JSON object")
        return data

    # --- routing ---

    def do_HEAD(self) -> None:
        self.do_GET()

    def _offline_drop(self) -> bool:
        """The computer is offline: what the page asks for (a load, its own calls) gets no
        answer at all; the control API (tests, the CLI) still works."""
        st = self.server.state
        if not st.settings.offline:
            return False
        path = urlsplit(self.path).path
        if (
            path.startswith("/__sim__/")
            and not path.startswith(("/__sim__/app/", "/__sim__/static/"))
            and path != "/__sim__/login"
        ):
            return False
        with st.lock:
            st.counters["offline_drops"] += 1
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        return True

    def _new_request(self) -> None:
        self._session = None
        self._new_cookie: str | None = None

    def do_GET(self) -> None:
        self._new_request()
        if self._offline_drop():
            return
        try:
            self._get()
        except (BrokenPipeError, ConnectionResetError):
            pass

    def do_POST(self) -> None:
        self._new_request()
        if self._offline_drop():
            return
        try:
            self._post()
        except (BrokenPipeError, ConnectionResetError):
            pass
        except (ValueError, ConfigError) as exc:  # bad JSON or bad settings
            self._error(400, str(exc))

    def _get(self) -> None:
        url = urlsplit(self.path)
        path, query = url.path, parse_qs(url.query)
        st = self.server.state
        if path in ("/", "/send", "/index.html"):
            st.count_page_load()
            settings = st.settings
            refused = (
                browser_refused(self.headers.get("User-Agent", ""), settings.min_chrome)
                if settings.dom == "2026"
                else None
            )
            if refused:
                st.note_refused(refused)
                self._send(
                    200,
                    _UNSUPPORTED_HTML.replace("{MIN}", str(settings.min_chrome)).encode("utf-8"),
                    _CONTENT_TYPES[".html"],
                )
                return
            self._device()  # a browser profile without a cookie is a new device
            html = self.server.static["app.html"].decode("utf-8")
            boot = {
                "boot_time": settings.boot_time,
                "poll_interval": settings.poll_interval,
                "dom": settings.dom,
                "lang": settings.lang,
            }
            if settings.mutate:  # a build: the page draws it from the plan, the stylesheet matches
                boot.update(mutate=settings.mutate, mutation=mutate.plan(settings.mutate))
                html = mutate.rewrite_html(html, settings.mutate)
            html = html.replace("/*SIM_CONFIG*/{}", json.dumps(boot))
            self._send(200, html.encode("utf-8"), _CONTENT_TYPES[".html"])
        elif path.startswith("/__sim__/static/"):
            name = path.rsplit("/", 1)[-1]
            body = self.server.static.get(name)
            build = query.get("build", [""])[0]
            if name == "app.css" and build:
                if not build.isdigit() or not 0 < int(build) <= MAX_SEED:
                    self._error(404, "no such build")
                    return
                body = mutate.stylesheet(int(build)).encode("utf-8")
            if body is None:
                self._error(404, "no such file")
            else:
                self._send(200, body, _CONTENT_TYPES[Path(name).suffix])
        elif path in ("/__sim__/state", "/__sim__/app/state"):  # control / the page's poll
            watch = [w for w in ",".join(query.get("watch", [])).split(",") if w]
            self._json(st.app_state(self._device(), watch) if path.startswith("/__sim__/app/") else st.state(watch))
        elif path == "/__sim__/sessions":
            self._json({"sessions": st.sessions_view()})
        elif path == "/__sim__/pending_logins":
            self._json(st.pending_logins())
        elif path == "/__sim__/ledger":
            self._json(st.ledger())
        elif path == "/__sim__/mutation":
            seed = query.get("seed", [None])[0]
            if seed is not None and (not seed.isdigit() or int(seed) > MAX_SEED):
                self._error(400, f"seed: expected a whole number from 0 to {MAX_SEED}, got {seed!r}")
                return
            self._json(mutate.describe(int(seed) if seed is not None else st.settings.mutate))
        elif path == "/__sim__/unread":
            self._json(
                {
                    "unread": st.unread(query.get("account", [None])[0]),
                    "read_at": st.read_receipts(query.get("account", [None])[0]),
                }
            )
        elif path in ("/__sim__/limits", "/__sim__/typing"):
            try:
                account = query.get("account", [None])[0]
                self._json(st.limits(account) if path.endswith("limits") else st.typing(account))
            except ConfigError as exc:
                self._error(400, str(exc))
        elif path == "/__sim__/config":
            with st.lock:
                self._json(st.settings.as_dict())
        elif path == "/__sim__/app/chats":
            number = st.account_of(self._device())
            self._json(st.chat_list(number) if number else {"version": 0, "chats": []})
        elif path == "/favicon.ico":
            self._send(204, b"", "image/x-icon")
        else:
            self._error(404, f"no such page: {path}")

    def _post(self) -> None:
        url = urlsplit(self.path)
        path, query = url.path, parse_qs(url.query)
        st = self.server.state
        if path == "/__sim__/login":
            self._body()
            st.login()
            self._json(st.state())
        elif path == "/__sim__/logout":
            st.logout(self._json_body().get("number"))
            self._json(st.state())
        elif path == "/__sim__/scan":
            body = self._json_body()
            session = st.scan(body.get("ref"), body.get("number"))
            self._json({"session": session, "account": st.account_of(st.sessions[session])})
        elif path == "/__sim__/config":
            self._json(st.configure(**self._json_body()))
        elif path == "/__sim__/reset":
            self._body()
            st.reset()
            self._json(st.state())
        elif path == "/__sim__/use_here":
            body = self._json_body()
            st.show_use_here(bool(body.get("show", True)), body.get("account"))
            self._json(st.state())
        elif path == "/__sim__/incoming":
            body = self._json_body()
            self._json(st.deliver(body.get("phone"), body.get("text"), account=body.get("account")))
        elif path.startswith("/__sim__/app/"):
            self._post_app(path, query)
        else:
            self._body()
            self._error(404, f"no such endpoint: {path}")

    def _post_app(self, path: str, query: dict[str, list[str]]) -> None:
        """The page's calls: each acts for the request's device and the account it is linked to
        (a device showing the QR code has none: its calls find nothing and send nothing)."""
        st = self.server.state
        device = self._device()
        number = st.account_of(device)
        if path == "/__sim__/app/qr/start":
            body = self._json_body()
            if isinstance(body.get("lang"), str):
                st.page_lang = body["lang"][:20]
            st.qr_start(device)
            self._json(st.app_state(device))
        elif path == "/__sim__/app/scan":  # the QR page's "simulate scanning" button (any key in demo mode)
            self._body()
            st.link_here(device)
            self._json(st.app_state(device))
        elif path == "/__sim__/app/use_here":  # the page's "Use here" button
            self._body()
            if number:
                st.show_use_here(False, number)
            self._json(st.app_state(device))
        elif path == "/__sim__/app/history":
            phone = self._json_body().get("phone")
            self._json(st.history(phone, account=number) if number else {"history": []})
        elif path == "/__sim__/app/open":
            body = self._json_body()
            self._json(
                st.open_chat(body.get("phone"), str(body.get("via") or "in_app"), account=number)
                if number
                else {"error": "not logged in"}
            )
        elif path == "/__sim__/app/send":
            body = self._json_body()
            text = body.get("text")
            if not isinstance(text, str) or not text:
                raise ValueError("text: expected a non-empty string")
            self._json(
                self._app_send(
                    number,
                    body.get("phone"),
                    str(body.get("id") or ""),
                    text,
                    typing=body.get("typing"),
                    link_preview=body.get("link_preview") is True,
                )
            )
        elif path == "/__sim__/app/send_file":
            data = self._body()
            q = {k: v[0] for k, v in query.items()}
            attachment = {
                "name": q.get("name") or "file",
                "size": len(data),
                "sha256": hashlib.sha256(data).hexdigest(),
            }
            if q.get("type"):
                attachment["type"] = q["type"]
            # Which file input the page was given the file through: media, document or sticker.
            attachment["kind"] = q.get("kind") or "document"
            self._json(self._app_send(number, q.get("phone"), q.get("id") or "", q.get("caption", ""), attachment))
        else:
            self._body()
            self._error(404, f"no such endpoint: {path}")

    def _app_send(
        self,
        number: str | None,
        phone: Any,
        msg_id: str,
        text: str,
        attachment: dict[str, Any] | None = None,
        typing: Any = None,
        link_preview: bool = False,
    ) -> dict[str, Any]:
        if number is None:
            return {"id": msg_id, "status": "lost", "error": "not logged in"}
        return self.server.state.send(
            phone, msg_id, text, attachment=attachment, account=number, typing=typing, link_preview=link_preview
        )


# ----------------------------------------------------------------------------- facade


class Simulator:
    """A WhatsApp Web stand-in on 127.0.0.1, for tests, demos and manual use.

    >>> with Simulator(port=0, boot_time=0.2) as sim:
    ...     sim.login()
    ...     # point a browser at sim.url
    """

    def __init__(
        self,
        port: int = 0,
        boot_time: float = 3.0,
        qr_rotate_seconds: float = 20.0,
        qr_max_rotations: int = 5,
        auto_login: float | None = None,
        *,
        logged_in: bool = False,
        seed: int | None = None,
        **settings: Any,
    ) -> None:
        s = Settings()
        apply_settings(
            s,
            {
                "boot_time": boot_time,
                "qr_rotate_seconds": qr_rotate_seconds,
                "qr_max_rotations": qr_max_rotations,
                "auto_login": auto_login,
                **settings,
            },
        )
        self.port = port
        self.state = SimState(s, logged_in=logged_in, seed=seed)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle ---

    def start(self) -> Simulator:
        if self._server is not None:
            return self
        self._server = _Server((HOST, self.port), self.state)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name=f"simulator:{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        self._server.close_connections()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> Simulator:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    # --- control (mirrors the HTTP API) ---

    def login(self) -> None:
        """Legacy single user: every device not linked to another account is the default account's."""
        self.state.login()

    def logout(self, number: str | None = None) -> None:
        """Log out the account `number` (its devices show a fresh QR code), or everything."""
        self.state.logout(number)

    def scan(self, ref: str, number: str) -> str:
        """The phone of account `number` scans the QR code showing `ref`; returns the device's
        session id. ConfigError when no device shows that ref (unknown, expired, scanned)."""
        return self.state.scan(ref, number)

    def pending_logins(self) -> list[dict[str, Any]]:
        """Devices showing a QR code: [{"session", "ref", "expired"}], oldest first."""
        return self.state.pending_logins()

    def sessions(self) -> list[dict[str, Any]]:
        """Every device: [{"session", "account" (None while not linked), "seen", "qr"}]."""
        return self.state.sessions_view()

    def configure(self, **settings: Any) -> dict[str, Any]:
        return self.state.configure(**settings)

    def show_use_here(self, show: bool = True, account: str | None = None) -> None:
        self.state.show_use_here(show, account)

    def reset(self) -> None:
        self.state.reset()

    def deliver(self, phone: str, text: str, account: str | None = None) -> dict[str, Any]:
        """A contact writes to us (an incoming message in their chat of `account`, default own_number)."""
        return self.state.deliver(phone, text, account=account)

    def read_chat(self, phone: str, account: str | None = None) -> None:
        """The account's phone opens the chat: it is read on every device (no badge)."""
        self.state.read_chat(phone, account)

    def unread(self, account: str | None = None) -> dict[str, int]:
        """Chats with messages no device has shown yet (the chat list's badges)."""
        return self.state.unread(account)

    def read_receipts(self, account: str | None = None) -> dict[str, float]:
        """When each chat was last read on a device (the contact's blue ticks)."""
        return self.state.read_receipts(account)

    def limits(self, account: str | None = None) -> dict[str, Any]:
        """The account's limits: {"account", "banned", "restricted_until", "new_chats": {"started",
        "limit", "limited", "until"}, "unanswered": {"count", "cap", "banner"}, "refused"}."""
        return self.state.limits(account)

    def typing(self, account: str | None = None) -> dict[str, list[dict[str, Any]]]:
        """Per chat ("+DIGITS"), each send of the page: {"id", "sent_at", "text", "status",
        "events": [{"at", "length"}]}: the compose box's changes before that send."""
        return self.state.typing(account)

    def set_offline(self, offline: bool = True) -> None:
        """The computer loses (or gets back) its network: page loads and the page's calls fail."""
        self.state.configure(offline=offline)

    def seed_history(
        self, phone: str, text: str, *, at: float, incoming: bool = False, account: str | None = None
    ) -> dict[str, Any]:
        """Put an older message into a chat of `account` (default own_number), not into the ledger."""
        return self.state.seed_history(phone, text, at=at, incoming=incoming, account=account)

    def ledger(self) -> dict[str, Any]:
        return self.state.ledger()

    def mutation(self, seed: int | None = None) -> dict[str, Any]:
        """The build the current `mutate` seed (or `seed`) draws: {"seed", "operators",
        "icons": {old: new}, "classes": {old: new}, …}; {"seed": None, "operators": []} when off."""
        return mutate.describe(self.settings["mutate"] if seed is None else seed)

    def get_state(self) -> dict[str, Any]:
        return self.state.state()

    @property
    def settings(self) -> dict[str, Any]:
        with self.state.lock:
            return self.state.settings.as_dict()

    def wait_for_messages(self, count: int, timeout: float = 10.0) -> list[dict[str, Any]]:
        """Wait until the ledger holds at least ``count`` messages; return them."""
        deadline = time.monotonic() + timeout
        while True:
            msgs = self.ledger()["messages"]
            if len(msgs) >= count or time.monotonic() >= deadline:
                return msgs
            time.sleep(0.02)
