"""The WhatsApp Web simulator: global state, ledger and HTTP server.

Everything the simulator knows lives in one :class:`SimState` guarded by a lock.
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
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

log = logging.getLogger("simulator")

STATIC_DIR = Path(__file__).resolve().parent / "static"
HOST = "127.0.0.1"

_CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
}

_MSG_ID_RE = re.compile(r"^[A-Za-z0-9]{4,40}$")


class ConfigError(ValueError):
    """A bad setting given to :meth:`SimState.configure` (HTTP 400)."""


def digits_of(phone: Any) -> str:
    """The digits of a phone number ("+1 (555) 010-99" -> "155501099")."""
    return re.sub(r"\D", "", str(phone or ""))


DOMS = ("2024", "2026")
# UI languages the page is drawn in ("auto": the browser's own, as WhatsApp Web does).
LANGS = ("auto", "en-US", "en-GB", "pt-BR", "de-DE", "es-ES")

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
    date_style: str = "numeric"
    offline: bool = False
    own_number: str = "+15550100000"

    def as_dict(self) -> dict[str, Any]:
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
            "date_style": self.date_style,
            "offline": self.offline,
            "own_number": self.own_number,
        }

    def copy(self) -> "Settings":
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
        elif key == "invalid_numbers":
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
            new.invalid_numbers = numbers
        elif key == "invalid_suffix":
            if value in (None, ""):
                new.invalid_suffix = None
            else:
                d = digits_of(value)
                if not d or d != str(value).strip():
                    raise ConfigError(f"{key}: expected digits such as \"13\", got {value!r}")
                new.invalid_suffix = d
        elif key in ("stuck_clock", "phone_connected", "enter_sends", "offline"):
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
        elif key == "date_style":
            if value not in ("numeric", "words"):
                raise ConfigError(f"{key}: expected \"numeric\" or \"words\", got {value!r}")
            new.date_style = value
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
        elif key == "lose_clicks":
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ConfigError(f"{key}: expected an integer >= 0, got {value!r}")
            new.lose_clicks = value
        elif key == "failure_rate":
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
                raise ConfigError(f"{key}: expected a number from 0 to 1, got {value!r}")
            new.failure_rate = float(value)
        else:
            raise ConfigError(f"unknown setting {key!r} (known: {', '.join(sorted(Settings().as_dict()))})")
    for key, value in new.as_dict().items():
        setattr(settings, key, value)


# ----------------------------------------------------------------------------- state

@dataclass
class Message:
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
    seq: int | None = None
    incoming: bool = False

    def ack_view(self, now: float) -> dict[str, Any]:
        """What the page needs to draw this bubble's ack icon and meta."""
        if self.accepted_at is None:
            status, check_in, dbl_in = "queued", None, None
        elif self.stuck or self.check_at is None:
            status, check_in, dbl_in = "stuck", None, None
        else:
            status = "accepted"
            check_in = max(0.0, self.check_at - now)
            dbl_in = max(0.0, (self.dbl_at or self.check_at) - now)
        return {
            "id": self.id,
            "status": status,
            "check_in": check_in,
            "dbl_in": dbl_in,
            # The page formats the time in its UI language, as WhatsApp Web does.
            "at": self.accepted_at or self.sent_at,
        }

    def history_view(self, now: float) -> dict[str, Any]:
        if self.incoming:
            return {"id": self.id, "incoming": True, "at": self.sent_at, "text": self.text,
                    "attachment": self.attachment, "phone": self.phone}
        view = self.ack_view(now)
        view.update(text=self.text, attachment=self.attachment, phone=self.phone)
        return view


class SimState:
    """The one global state of the simulator (single user)."""

    def __init__(self, settings: Settings, *, logged_in: bool = False, seed: int | None = None) -> None:
        self.lock = threading.RLock()
        self.initial_settings = settings.copy()
        self.settings = settings
        self.rng = random.Random(seed)
        self.logged_in = logged_in
        self.use_here = False
        self._reset_data()
        self._qr_start: float | None = None
        self._qr_refs: list[str] = []
        self._qr_keys = ""
        self.page_lang: str | None = None  # the UI language the last page load resolved

    def _reset_data(self) -> None:
        self.ledger_messages: list[Message] = []
        self.queued: list[Message] = []
        self.chats: dict[str, list[Message]] = {}
        self.by_id: dict[str, Message] = {}
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
        self.chats_version = 0

    # --- control -------------------------------------------------------------

    def login(self) -> None:
        with self.lock:
            self.logged_in = True
            self._qr_start = None

    def logout(self) -> None:
        with self.lock:
            self.logged_in = False
            self.use_here = False
            self._qr_start = None

    def show_use_here(self, show: bool = True) -> None:
        with self.lock:
            self.use_here = show

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

    def reset(self) -> None:
        """Forget ledger, chats and counters; restore the settings given at start.

        The login state is kept.
        """
        with self.lock:
            self._reset_data()
            self.settings.__dict__.update(self.initial_settings.copy().__dict__)
            self.use_here = False

    # --- QR -------------------------------------------------------------------

    def qr_start(self) -> None:
        with self.lock:
            self._qr_start = time.time()
            self._qr_refs = []
            self._qr_keys = ",".join([_b64(32), _b64(32), _b64(16)])

    def _qr_view(self, now: float) -> dict[str, Any] | None:
        if self.logged_in:
            return None
        if self._qr_start is None:
            self.qr_start()
        assert self._qr_start is not None
        s = self.settings
        elapsed = now - self._qr_start
        if s.auto_login is not None and elapsed >= s.auto_login:
            self.login()
            return None
        index = int(elapsed / s.qr_rotate_seconds)
        expired = index > s.qr_max_rotations
        index = min(index, s.qr_max_rotations)
        while len(self._qr_refs) <= index:
            self._qr_refs.append(f"2@{_b64(66)},{self._qr_keys}")
        return {"ref": self._qr_refs[index], "rotation": index, "expired": expired}

    # --- reading ----------------------------------------------------------------

    def state(self, watch: list[str] | None = None) -> dict[str, Any]:
        with self.lock:
            now = time.time()
            qr = self._qr_view(now)
            out: dict[str, Any] = {
                "logged_in": self.logged_in,
                "phone_connected": self.settings.phone_connected,
                "use_here": self.use_here and self.logged_in,
                "qr": qr,
                "demo": self.settings.auto_login is not None,
                "chats_version": self.chats_version,
                "queued": len(self.queued),
                "page_lang": self.page_lang,
                "settings": self.settings.as_dict(),
            }
            if watch:
                out["watched"] = {
                    mid: self.by_id[mid].ack_view(now) for mid in watch if mid in self.by_id
                }
            return out

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
                }
                for m in self.ledger_messages
            ]
            return {"messages": msgs, **self.counters}

    def chat_list(self) -> dict[str, Any]:
        with self.lock:
            items = []
            for phone, msgs in self.chats.items():
                if not msgs:
                    continue
                last = msgs[-1]
                items.append({
                    "phone": phone,
                    "name": self.settings.contact_names.get(phone),
                    "last_text": last.text if last.text else (last.attachment or {}).get("name", ""),
                    "last_at": last.accepted_at or last.sent_at,
                    "count": len(msgs),
                })
            items.sort(key=lambda c: c["last_at"], reverse=True)
            return {"version": self.chats_version, "chats": items[:200]}

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

    def open_chat(self, phone: Any, via: str) -> dict[str, Any]:
        with self.lock:
            if not self.logged_in:
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
            e164 = "+" + digits
            return {
                "phone": e164,
                "name": self.settings.contact_names.get(e164),
                "history": [m.history_view(now) for m in self.chats.get(e164, [])],
            }

    def history(self, phone: Any) -> dict[str, Any]:
        """The open chat's messages again (the page merges new ones in, e.g. a reply)."""
        with self.lock:
            now = time.time()
            e164 = "+" + digits_of(phone)
            return {"phone": e164, "history": [m.history_view(now) for m in self.chats.get(e164, [])]}

    def seed_history(self, phone: Any, text: str, *, at: float, incoming: bool = False) -> dict[str, Any]:
        """A message already in a chat from before (e.g. an earlier campaign), at time `at`.
        Outgoing ones show a double tick; none of them is in the ledger."""
        with self.lock:
            digits = digits_of(phone)
            if not isinstance(text, str) or not text.strip():
                raise ConfigError("text: expected a non-empty string")
            msg = Message(id=("3A" if incoming else "3EB0") + secrets.token_hex(8).upper(), phone="+" + digits,
                          text=text, caption=None, attachment=None, sent_at=at, accepted_at=at,
                          check_at=at, dbl_at=at, incoming=incoming)
            self.by_id[msg.id] = msg
            chat = self.chats.setdefault(msg.phone, [])
            chat.append(msg)
            chat.sort(key=lambda m: m.accepted_at or m.sent_at)
            self.chats_version += 1
            return {"id": msg.id, "phone": msg.phone}

    def deliver(self, phone: Any, text: str, *, at: float | None = None) -> dict[str, Any]:
        """An incoming message from `phone` (a contact's reply): in its chat, never in the ledger."""
        with self.lock:
            digits = digits_of(phone)
            if not 7 <= len(digits) <= 15:
                raise ConfigError(f"phone: {phone!r} is not a phone number")
            if not isinstance(text, str) or not text.strip():
                raise ConfigError("text: expected a non-empty string")
            now = time.time() if at is None else at
            msg = Message(id="3A" + secrets.token_hex(9).upper(), phone="+" + digits, text=text, caption=None,
                          attachment=None, sent_at=now, accepted_at=now, incoming=True)
            self.by_id[msg.id] = msg
            self.chats.setdefault(msg.phone, []).append(msg)
            self.chats_version += 1
            return {"id": msg.id, "phone": msg.phone}

    def send(
        self,
        phone: Any,
        msg_id: str,
        text: str,
        *,
        attachment: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """A send click reached the server. Returns what the page should show."""
        with self.lock:
            if not self.logged_in:
                return {"id": msg_id, "status": "lost", "error": "not logged in"}
            digits = digits_of(phone)
            if not digits or self.is_invalid(digits):
                return {"id": msg_id, "status": "lost", "error": "invalid number"}
            known = self.by_id.get(msg_id or "")
            if known is not None and known.phone == "+" + digits and known.text == text and not known.incoming:
                return known.ack_view(time.time())  # the page sent it again (its answer was lost)
            if not _MSG_ID_RE.match(msg_id or "") or known is not None:
                msg_id = "3EB0" + secrets.token_hex(8).upper()
            if self.settings.lose_clicks > 0:
                self.settings.lose_clicks -= 1
                self.counters["lost_clicks"] += 1
                return {"id": msg_id, "status": "lost"}
            now = time.time()
            msg = Message(
                id=msg_id,
                phone="+" + digits,
                text=text,
                caption=text if attachment is not None else None,
                attachment=attachment,
                sent_at=now,
            )
            self.by_id[msg_id] = msg
            self.chats.setdefault(msg.phone, []).append(msg)
            self.chats_version += 1
            if self.settings.phone_connected:
                self._accept(msg, now)
            else:
                self.queued.append(msg)
            return msg.ack_view(now)

    def _accept(self, msg: Message, now: float) -> None:
        msg.accepted_at = now
        msg.seq = len(self.ledger_messages) + 1
        if self.settings.stuck_clock:
            msg.stuck = True
        else:
            msg.check_at = now + self.settings.ack_delay
            msg.dbl_at = msg.check_at + self.settings.dblcheck_delay
        self.ledger_messages.append(msg)

    def _flush_queue(self) -> None:
        now = time.time()
        for msg in self.queued:
            self._accept(msg, now)
        self.queued = []


# ----------------------------------------------------------------------------- HTTP

_UNSUPPORTED_HTML = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>WhatsApp</title></head>
<body><div id="app"><div class="landing-unsupported" data-unsupported-browser="true">
<h1>WhatsApp works with Google Chrome {MIN} and newer</h1>
<p>To use WhatsApp, update Chrome or use Mozilla Firefox, Safari, Microsoft Edge or Opera.</p>
<a href="https://www.google.com/chrome">UPDATE GOOGLE CHROME</a>
</div></div></body></html>
"""


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

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        log.debug("%s %s", self.address_string(), format % args)

    # --- helpers ---

    def _send(self, status: int, body: bytes, ctype: str, extra: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        for k, v in (extra or {}).items():
            self.send_header(k, v)
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
        if path.startswith("/__sim__/") and not path.startswith(("/__sim__/app/", "/__sim__/static/")) \
                and path != "/__sim__/login":
            return False
        with st.lock:
            st.counters["offline_drops"] += 1
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        return True

    def do_GET(self) -> None:
        if self._offline_drop():
            return
        try:
            self._get()
        except (BrokenPipeError, ConnectionResetError):
            pass

    def do_POST(self) -> None:
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
            refused = browser_refused(self.headers.get("User-Agent", ""), settings.min_chrome) \
                if settings.dom == "2026" else None
            if refused:
                st.note_refused(refused)
                self._send(200, _UNSUPPORTED_HTML.replace("{MIN}", str(settings.min_chrome)).encode("utf-8"),
                           _CONTENT_TYPES[".html"])
                return
            html = self.server.static["app.html"].decode("utf-8")
            boot = {"boot_time": settings.boot_time, "poll_interval": settings.poll_interval,
                    "dom": settings.dom, "lang": settings.lang}
            html = html.replace("/*SIM_CONFIG*/{}", json.dumps(boot))
            self._send(200, html.encode("utf-8"), _CONTENT_TYPES[".html"])
        elif path.startswith("/__sim__/static/"):
            name = path.rsplit("/", 1)[-1]
            body = self.server.static.get(name)
            if body is None:
                self._error(404, "no such file")
            else:
                self._send(200, body, _CONTENT_TYPES[Path(name).suffix])
        elif path in ("/__sim__/state", "/__sim__/app/state"):  # control / the page's poll
            watch = [w for w in ",".join(query.get("watch", [])).split(",") if w]
            self._json(st.state(watch))
        elif path == "/__sim__/ledger":
            self._json(st.ledger())
        elif path == "/__sim__/config":
            with st.lock:
                self._json(st.settings.as_dict())
        elif path == "/__sim__/app/chats":
            self._json(st.chat_list())
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
            self._body()
            st.logout()
            self._json(st.state())
        elif path == "/__sim__/config":
            self._json(st.configure(**self._json_body()))
        elif path == "/__sim__/reset":
            self._body()
            st.reset()
            self._json(st.state())
        elif path == "/__sim__/use_here":
            body = self._json_body()
            st.show_use_here(bool(body.get("show", True)))
            self._json(st.state())
        elif path == "/__sim__/app/use_here":  # the page's "Use here" button
            self._body()
            st.show_use_here(False)
            self._json(st.state())
        elif path == "/__sim__/app/qr/start":
            body = self._json_body()
            if isinstance(body.get("lang"), str):
                st.page_lang = body["lang"][:20]
            st.qr_start()
            self._json(st.state())
        elif path == "/__sim__/incoming":
            body = self._json_body()
            self._json(st.deliver(body.get("phone"), body.get("text")))
        elif path == "/__sim__/app/history":
            body = self._json_body()
            self._json(st.history(body.get("phone")))
        elif path == "/__sim__/app/open":
            body = self._json_body()
            self._json(st.open_chat(body.get("phone"), str(body.get("via") or "in_app")))
        elif path == "/__sim__/app/send":
            body = self._json_body()
            text = body.get("text")
            if not isinstance(text, str) or not text:
                raise ValueError("text: expected a non-empty string")
            self._json(st.send(body.get("phone"), str(body.get("id") or ""), text))
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
            self._json(st.send(q.get("phone"), q.get("id") or "", q.get("caption", ""), attachment=attachment))
        else:
            self._body()
            self._error(404, f"no such endpoint: {path}")


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
        apply_settings(s, {
            "boot_time": boot_time,
            "qr_rotate_seconds": qr_rotate_seconds,
            "qr_max_rotations": qr_max_rotations,
            "auto_login": auto_login,
            **settings,
        })
        self.port = port
        self.state = SimState(s, logged_in=logged_in, seed=seed)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle ---

    def start(self) -> "Simulator":
        if self._server is not None:
            return self
        self._server = _Server((HOST, self.port), self.state)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.1},
            name=f"simulator:{self.port}", daemon=True,
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

    def __enter__(self) -> "Simulator":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    # --- control (mirrors the HTTP API) ---

    def login(self) -> None:
        self.state.login()

    def logout(self) -> None:
        self.state.logout()

    def configure(self, **settings: Any) -> dict[str, Any]:
        return self.state.configure(**settings)

    def show_use_here(self, show: bool = True) -> None:
        self.state.show_use_here(show)

    def reset(self) -> None:
        self.state.reset()

    def deliver(self, phone: str, text: str) -> dict[str, Any]:
        """A contact writes to us (an incoming message in their chat)."""
        return self.state.deliver(phone, text)

    def set_offline(self, offline: bool = True) -> None:
        """The computer loses (or gets back) its network: page loads and the page's calls fail."""
        self.state.configure(offline=offline)

    def seed_history(self, phone: str, text: str, *, at: float, incoming: bool = False) -> dict[str, Any]:
        """Put an older message into a chat (not into the ledger)."""
        return self.state.seed_history(phone, text, at=at, incoming=incoming)

    def ledger(self) -> dict[str, Any]:
        return self.state.ledger()

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
