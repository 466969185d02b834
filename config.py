"""Reading and validating config.toml, and the run context every process shares.

Every part of the product may import this module; it imports nothing of the product
(only `prepend_selectors` uses the leaf `safefiles` to write the file whole).
A problem with the file raises ConfigError whose message is one line naming the file,
the key and, where it can be found, the line.

`resolve(config, db)` turns `--config` / `WA_SENDER_CONFIG` / the default and `--db`
into one `RunContext` that records where each value came from; the CLI, the dashboard,
the supervisor (also detached) and the worker all receive it (`ctx.argv()` hands it to a
child process), so every process works on the same files.

User errors: any exception class with `user_error = True` (ConfigError, the CLI's,
the store's, the contact reader's...) is shown by `exit_on_user_error` as one line and
exit status 2, without a traceback, its text cut to `MAX_ERROR_LINE` characters.
"""
from __future__ import annotations

import dataclasses
import functools
import math
import os
import re
import sys
import time
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Callable

import dburl
import optout_words

ENV_VAR = "WA_SENDER_CONFIG"
PROJECT_DIR = Path(__file__).resolve().parent
DEFAULT_PATH = PROJECT_DIR / "config.toml"
EXIT_USER_ERROR = 2
MAX_ERROR_LINE = 300  # characters of an error line; longer input is cut with an ellipsis


class UserError(Exception):
    """A problem the user fixes (file, config, argument): one line, exit status 2."""

    user_error = True


class ConfigError(UserError):
    """A user error in the configuration: the message is shown as is."""


def one_line(text: object, limit: int = MAX_ERROR_LINE) -> str:
    """A message on one line, cut with an ellipsis (an error may echo a huge input)."""
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def is_user_error(exc: BaseException) -> bool:
    """Marked as one (`user_error = True`), or a file of the user's that cannot be used
    (an OSError naming its file: permission denied, no such folder, disk full...)."""
    if getattr(type(exc), "user_error", False):
        return True
    return isinstance(exc, OSError) and bool(getattr(exc, "filename", None))


def exit_on_user_error(main: Callable[..., int]) -> Callable[..., int]:
    """Wrap an entry point: a user error is printed as `error: ...` on one line, status 2."""
    @functools.wraps(main)
    def wrapper(*args: Any, **kwargs: Any) -> int:
        try:
            return main(*args, **kwargs)
        except Exception as exc:
            if not is_user_error(exc):
                raise
            if isinstance(exc, OSError) and not getattr(type(exc), "user_error", False):
                text = f"{exc.filename}: {exc.strerror or exc}"
            else:
                text = str(exc)
            print(f"error: {one_line(text)}", file=sys.stderr)
            return EXIT_USER_ERROR
    return wrapper


@dataclass(frozen=True)
class PathSettings:
    # An SQLite file, or a `postgresql://user@host/db` URL (a str) for several hosts.
    database: Path | str = Path("data/wa_sender.db")
    run_dir: Path = Path("run")
    log_dir: Path = Path("logs")


@dataclass(frozen=True)
class BrowserSettings:
    binary: Path = Path("/usr/bin/chromium")
    driver: Path = Path("/usr/bin/chromedriver")
    profile_dir: Path = Path("profile")
    headless: bool = True
    whatsapp_url: str = "https://web.whatsapp.com"
    navigation: str = "in_app"
    # "auto": the installed browser's own user agent, with HeadlessChrome -> Chrome.
    user_agent: str = "auto"
    language: str = "en-US"
    boot_timeout: float = 90.0
    chat_timeout: float = 30.0
    ack_timeout: float = 60.0


@dataclass(frozen=True)
class SendingSettings:
    default_region: str = "US"
    delay_min: float = 4.0
    delay_max: float = 8.0
    long_pause_every: int = 10
    long_pause_min: float = 20.0
    long_pause_max: float = 40.0
    max_attempts: int = 3
    retry_backoff: float = 30.0
    daily_cap: int = 200  # per account: see config.toml for why
    window_start: str = "00:00"
    window_end: str = "00:00"
    auto_requeue_limit: int = 1
    attention_after: int = 3
    # Warm-up of a new account: over its first `warmup_days` days of sending, the cap
    # grows from `warmup_start` to `daily_cap` (0 days: no warm-up).
    warmup_days: int = 0
    warmup_start: int = 20

    def cap_today(self, first_sent_at: float | None, now: float) -> int:
        """Today's cap of an account that first sent at `first_sent_at` (None: not yet)."""
        return self.cap_on_day(day_number(first_sent_at, now))

    def cap_on_day(self, day: int) -> int:
        """The daily cap on the account's `day`-th day of sending (1 = its first); 0 = no cap."""
        if self.daily_cap <= 0 or self.warmup_days <= 0 or day >= self.warmup_days:
            return self.daily_cap
        start = min(self.warmup_start, self.daily_cap)
        return start + (self.daily_cap - start) * (max(day, 1) - 1) // (self.warmup_days - 1 or 1)


def day_number(first: float | None, now: float) -> int:
    """Which local calendar day of sending `now` is, the day of `first` being day 1 (no
    first send yet: day 1)."""
    import datetime

    if first is None or first > now:
        return 1
    return (datetime.date.fromtimestamp(now) - datetime.date.fromtimestamp(first)).days + 1


@dataclass(frozen=True)
class WorkerSettings:
    heartbeat_interval: float = 2.0
    poll_interval: float = 1.0


@dataclass(frozen=True)
class ReplySettings:
    """Reading what contacts answer (docs in config.toml)."""
    enabled: bool = True
    # Open unread chats to read every new message with its time. Opening a chat marks it
    # read, so the contact sees blue ticks, as when a person opens it. false: read only
    # the chat list's one-line preview of the newest message; nothing is marked read.
    open_chats: bool = True
    look_every: float = 20.0     # seconds between two looks at the chat list
    budget: float = 4.0          # a look starts only this long before the next send is due, at least
    finished_days: float = 7.0   # replies to jobs finished this many days ago are still read
    optout_words: tuple[str, ...] = optout_words.DEFAULT_WORDS


@dataclass(frozen=True)
class SupervisorSettings:
    start_seconds: float = 10.0
    backoff_initial: float = 1.0
    backoff_max: float = 60.0
    max_restarts: int = 5
    restart_period: float = 300.0
    stable_seconds: float = 120.0
    stop_timeout: float = 10.0
    heartbeat_timeout: float = 120.0
    memory_limit_mb: int = 1500


@dataclass(frozen=True)
class DashboardSettings:
    # How the login QR is drawn: "auto" (half blocks when they fit, else sextants),
    # "half" or "sextant".
    qr_style: str = "auto"


DEFAULT_ACCOUNT = "default"
ACCOUNT_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
# [sending] keys an [[accounts]] table may override for its account.
ACCOUNT_OVERRIDES = ("delay_min", "delay_max", "long_pause_every", "long_pause_min", "long_pause_max",
                     "daily_cap", "window_start", "window_end", "warmup_days", "warmup_start")


@dataclass(frozen=True)
class AccountSettings:
    """One WhatsApp account: its own browser profile (its login), worker and limits."""

    name: str
    profile_dir: Path
    enabled: bool = True
    sending: dict[str, Any] = field(default_factory=dict)  # overrides of [sending]


# UI languages the worker knows: the date order of bubble times and the words WhatsApp
# Web shows, which selectors name as {Label} (English text in braces). Translations
# other than English are best effort; every key also has a structural fallback.
# `[labels.LANG]` in config.toml adds or corrects words (also for other languages).
LANGUAGES: dict[str, dict[str, Any]] = {
    "en-US": {"date_order": "MDY", "labels": {}},
    "en-GB": {"date_order": "DMY", "labels": {}},
    "pt-BR": {"date_order": "DMY", "labels": {
        "You": "Você", "Send": "Enviar", "Type a message": "Digite uma mensagem", "Attach": "Anexar",
        "Add a caption": "Adicione uma legenda", "Use here": "Usar aqui", "OK": "OK", "invalid": "inválido",
        "Trying to reach phone": "Tentando conectar ao celular", "Phone not connected": "Celular não conectado",
        "Read more": "Ler mais", "Click to reload QR code": "Clique para recarregar o código QR",
        "end-to-end encrypted": "ponta a ponta", "open the chat": "abrir a conversa",
        "Computer not connected": "Computador não conectado",
        "unread": "não lida", "Chat list": "Lista de conversas",
    }},
    "de-DE": {"date_order": "DMY", "labels": {
        "You": "Du", "Send": "Senden", "Type a message": "Nachricht eingeben", "Attach": "Anhängen",
        "Add a caption": "Bildunterschrift hinzufügen", "Use here": "Hier verwenden", "OK": "OK", "invalid": "ungültig",
        "Trying to reach phone": "Verbindung zum Telefon wird hergestellt",
        "Phone not connected": "Telefon nicht verbunden", "Read more": "Weiterlesen",
        "Click to reload QR code": "Klicke, um den QR-Code neu zu laden",
        "end-to-end encrypted": "Ende-zu-Ende", "open the chat": "Chat konnte nicht",
        "Computer not connected": "Computer nicht verbunden",
        "unread": "ungelesen", "Chat list": "Chatliste",
    }},
    "es-ES": {"date_order": "DMY", "labels": {
        "You": "Tú", "Send": "Enviar", "Type a message": "Escribe un mensaje", "Attach": "Adjuntar",
        "Add a caption": "Añade un comentario", "Use here": "Usar aquí", "OK": "OK", "invalid": "no es válido",
        "Trying to reach phone": "Intentando conectar con el teléfono", "Phone not connected": "Teléfono no conectado",
        "Read more": "Leer más", "Click to reload QR code": "Haz clic para volver a cargar el código QR",
        "end-to-end encrypted": "extremo a extremo", "open the chat": "abrir el chat",
        "Computer not connected": "Computadora no conectada",
        "unread": "no leído", "Chat list": "Lista de chats",
    }},
}
LABELS = ("You", "Send", "Type a message", "Attach", "Add a caption", "Use here", "OK", "invalid",
          "Trying to reach phone", "Phone not connected", "Read more", "Click to reload QR code",
          "end-to-end encrypted", "open the chat", "Computer not connected", "unread", "Chat list")

_ICON_OUT = "span[data-icon='msg-time'], span[data-icon='msg-check'], span[data-icon='msg-dblcheck']"

# Ordered fallbacks that hold on every DOM generation of docs/whatsapp-dom.md (2024 and
# 2026). Structure first (ids, roles, data-icon names, data-tab), words last: words
# change with the UI language and with WhatsApp's copywriting.
DEFAULT_SELECTORS: dict[str, tuple[str, ...]] = {
    "booting": ("#startup", "progress"),
    "qr_code": ("div[data-ref]", "[data-ref]:has(> canvas)", "xpath://canvas/parent::*[@data-ref]"),
    "qr_reload": ("div[data-ref] button", "xpath://button[contains(., '{Click to reload QR code}')]",
                  "xpath://*[@data-ref]/parent::*//button"),
    "logged_in": ("#pane-side", "#side"),
    "phone_disconnected": ("div[data-testid='alert-phone']", "span[data-icon='alert-phone']",
                           "xpath://*[@id='side']//*[contains(text(), '{Trying to reach phone}')]",
                           "xpath://*[@id='side']//*[contains(text(), '{Phone not connected}')]"),
    "offline_banner": ("div[data-testid='alert-computer']", "span[data-icon='alert-computer']",
                       "xpath://*[@id='side']//*[contains(text(), '{Computer not connected}')]"),
    "use_here_button": (
        "xpath://div[@data-animate-modal-popup='true']//button[normalize-space()='{Use here}']",
        "xpath://div[@role='dialog']//button[normalize-space()='{Use here}']",
    ),
    "chat_open": ("#main header span[title]", "#main header"),
    "chat_error": ("div[data-testid='toast']",
                   "xpath://*[@role='status' or @role='alert'][contains(., '{open the chat}')]",
                   "xpath://*[not(ancestor::*[@id='main'])][text()[contains(., '{open the chat}')]]"),
    "compose_box": (
        "#main footer div[contenteditable='true'][role='textbox'][data-tab='10']",
        "#main footer div[contenteditable='true'][data-lexical-editor='true']",
        "#main footer div[contenteditable='true'][aria-placeholder='{Type a message}']",
        "#main footer div[contenteditable='true']",
    ),
    "send_button": (
        "#main footer button[aria-label='{Send}']",
        "#main footer div[role='button'][aria-label='{Send}']",
        "#main footer span[data-icon='wds-ic-send-filled']",
        "#main footer span[data-icon='send']",
    ),
    "invalid_popup": (
        "xpath://div[@data-animate-modal-popup='true'][contains(., '{invalid}')]",
        "xpath://div[@role='dialog'][contains(., '{invalid}')]",
    ),
    "popup_ok": (
        "xpath://div[@data-animate-modal-popup='true']//button[normalize-space()='{OK}']",
        "xpath://div[@role='dialog']//button[normalize-space()='{OK}']",
        "xpath://div[@data-animate-modal-popup='true']//*[@role='button'][normalize-space()='{OK}']",
    ),
    "message_row": ("#main div[role='row']",),
    "outgoing_message": ("#main div.message-out", f"#main div[role='row']:has({_ICON_OUT})"),
    "message_text": ("span.selectable-text > span", "span.selectable-text"),
    "message_meta": ("div.copyable-text[data-pre-plain-text]", "[data-pre-plain-text]"),
    "msg_pending": ("span[data-icon='msg-time']",),
    "msg_ack": ("span[data-icon='msg-check']", "span[data-icon='msg-dblcheck']"),
    "read_more": ("div[role='button'].read-more-button", "xpath:.//*[@role='button'][normalize-space()='{Read more}']"),
    "message_list": ("#main div[role='application']", "#main [data-tab='8']"),
    "chat_start": ("#main span[data-icon='lock-small']",
                   "xpath://*[@id='main']//*[not(ancestor-or-self::*[@data-pre-plain-text])]"
                   "[contains(text(), '{end-to-end encrypted}')]"),
    "attach_button": (
        "#main footer button[aria-label='{Attach}']",
        "span[data-icon='plus-rounded']",
        "span[data-icon='plus']",
        "span[data-icon='attach-menu-plus']",
        "#main footer div[role='button'][title='{Attach}']",
    ),
    # Exact accept values: a looser `[accept^='image']` also matches the sticker input.
    "media_input": (
        "input[type='file'][accept='image/*,video/mp4,video/3gpp,video/quicktime']",
        "input[type='file'][accept='image/*']",
    ),
    "document_input": ("input[type='file'][accept='*']",),
    "caption_box": (
        "div[contenteditable='true'][role='textbox'][aria-placeholder='{Add a caption}']",
        "div[contenteditable='true'][aria-label='{Add a caption}']",
        "div[contenteditable='true'][aria-label*='caption']",
    ),
    "media_send": ("span[data-icon='wds-ic-send-filled']", "div[role='button'][aria-label='{Send}']"),
    # The chat list: a chat's row (2024: list items; 2026: grid rows), its unread badge
    # (the count, labelled "3 unread messages" in the UI language), and in a row, the
    # chat's name and last-message preview are `span[title]`s, in that order.
    "chat_list_item": ("#pane-side div[role='listitem']", "#pane-side div[role='row']",
                       "div[aria-label='{Chat list}'] div[role='row']"),
    "unread_badge": ("span[aria-label*='{unread}']", "[data-testid='icon-unread-count']"),
    "incoming_message": ("#main div.message-in",),
}


@dataclass(frozen=True)
class Config:
    path: Path | None = None
    paths: PathSettings = field(default_factory=PathSettings)
    browser: BrowserSettings = field(default_factory=BrowserSettings)
    sending: SendingSettings = field(default_factory=SendingSettings)
    worker: WorkerSettings = field(default_factory=WorkerSettings)
    supervisor: SupervisorSettings = field(default_factory=SupervisorSettings)
    selectors: dict[str, tuple[str, ...]] = field(default_factory=lambda: dict(DEFAULT_SELECTORS))
    # Words added or corrected by `[labels.LANG]` tables: {lang: {label: text}}.
    labels: dict[str, dict[str, str]] = field(default_factory=dict)
    dashboard: DashboardSettings = field(default_factory=DashboardSettings)
    replies: ReplySettings = field(default_factory=ReplySettings)
    # [[accounts]]; without any, one account "default" on [browser] profile_dir.
    accounts: tuple[AccountSettings, ...] = ()
    # The account this config is narrowed to (`for_account`); None: the whole file.
    account: str | None = None

    def all_accounts(self) -> tuple[AccountSettings, ...]:
        return self.accounts or (AccountSettings(DEFAULT_ACCOUNT, self.browser.profile_dir),)

    def enabled_accounts(self) -> tuple[AccountSettings, ...]:
        return tuple(a for a in self.all_accounts() if a.enabled)

    def account_names(self) -> list[str]:
        return [a.name for a in self.all_accounts()]

    def get_account(self, name: str) -> AccountSettings:
        for a in self.all_accounts():
            if a.name == name:
                return a
        raise ConfigError(f"{self.path or 'config'}: no account {name!r} (accounts: "
                          f"{', '.join(self.account_names())})")

    def for_account(self, name: str | None = None) -> "Config":
        """This config as one account's worker sees it: its profile and its limits."""
        acc = self.get_account(name or self.all_accounts()[0].name)
        return dataclasses.replace(
            self, account=acc.name,
            browser=dataclasses.replace(self.browser, profile_dir=acc.profile_dir),
            sending=dataclasses.replace(self.sending, **acc.sending))

    @property
    def account_name(self) -> str:
        return self.account or self.all_accounts()[0].name

    def words(self) -> dict[str, str]:
        """The UI words of the configured language: {English label: text on the page}."""
        lang = self.browser.language
        known = LANGUAGES.get(lang, {}).get("labels", {})
        words = {label: known.get(label, label) for label in LABELS}
        words.update({k: v for k, v in self.labels.get(lang, {}).items()})
        return words

    def date_order(self) -> str:
        """How bubble dates are written in the configured language: "MDY" or "DMY"."""
        lang = self.browser.language
        if lang in LANGUAGES:
            return LANGUAGES[lang]["date_order"]
        return "MDY" if lang in ("en-US", "en-PH", "es-US") else "DMY"

    def resolved_selectors(self) -> dict[str, tuple[str, ...]]:
        """The selectors with every {Label} in the page's words; a word that differs from
        English is tried first and the English one after it (pages that stay English)."""
        return resolve_selectors(self.selectors, self.words())

    def with_database(self, db: str | Path) -> "Config":
        return dataclasses.replace(self, paths=dataclasses.replace(self.paths, database=dburl.normalize(db)))


_LABEL_RE = re.compile(r"\{([^{}]+)\}")


def resolve_selectors(selectors: dict[str, tuple[str, ...]], words: dict[str, str]) -> dict[str, tuple[str, ...]]:
    out: dict[str, tuple[str, ...]] = {}
    for key, values in selectors.items():
        resolved: list[str] = []
        for sel in values:
            variants = [_LABEL_RE.sub(lambda m: words.get(m.group(1), m.group(1)), sel),
                        _LABEL_RE.sub(lambda m: m.group(1), sel)]
            for v in variants:
                if v not in resolved:
                    resolved.append(v)
        out[key] = tuple(resolved)
    return out


SECTIONS: dict[str, type] = {
    "paths": PathSettings,
    "browser": BrowserSettings,
    "sending": SendingSettings,
    "worker": WorkerSettings,
    "supervisor": SupervisorSettings,
    "dashboard": DashboardSettings,
    "replies": ReplySettings,
}

DAY = 86400.0
# Upper bounds: a number past them is a typo, and an infinite wait is a hang.
MAXIMA: dict[tuple[str, str], float] = {
    **{("browser", k): DAY for k in ("boot_timeout", "chat_timeout", "ack_timeout")},
    **{("sending", k): DAY for k in ("delay_min", "delay_max", "long_pause_min", "long_pause_max",
                                      "retry_backoff")},
    ("sending", "long_pause_every"): 1_000_000, ("sending", "max_attempts"): 1000,
    ("sending", "daily_cap"): 1_000_000, ("sending", "auto_requeue_limit"): 100,
    ("sending", "attention_after"): 1000, ("sending", "warmup_days"): 365,
    ("sending", "warmup_start"): 1_000_000,
    ("worker", "poll_interval"): 3600,
    **{("supervisor", k): DAY for k in ("start_seconds", "backoff_initial", "backoff_max", "stop_timeout",
                                         "heartbeat_timeout")},
    ("supervisor", "restart_period"): 30 * DAY, ("supervisor", "stable_seconds"): 30 * DAY,
    ("supervisor", "max_restarts"): 1_000_000, ("supervisor", "memory_limit_mb"): 1_000_000,
}

_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


def _line_of(text: str, section: str, key: str | None) -> int | None:
    """Best effort: the line where `key` is set inside `[section]` (tomllib gives no positions)."""
    current = None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        header = re.match(r"^\[\[?\s*([A-Za-z0-9_.-]+)\s*\]", line)
        if header:
            current = header.group(1)
            if key is None and current == section:
                return number
            continue
        if key is not None and current == section and re.match(rf"^{re.escape(key)}\s*=", line):
            return number
    return None


class _Checker:
    def __init__(self, path: Path | None, text: str) -> None:
        self.path = path
        self.text = text

    def fail(self, section: str, key: str | None, problem: str) -> ConfigError:
        where = str(self.path) if self.path else "config"
        line = _line_of(self.text, section, key)
        name = f"{section}.{key}" if key else f"[{section}]"
        at = f", line {line}" if line else ""
        return ConfigError(f"{where}{at}: {name}: {problem}")


def _coerce(check: _Checker, section: str, key: str, value: Any, default: Any) -> Any:
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise check.fail(section, key, f"must be true or false, not {value!r}")
        return value
    if isinstance(default, int) and not isinstance(default, bool):
        if isinstance(value, bool) or not isinstance(value, int):
            raise check.fail(section, key, f"must be a whole number, not {value!r}")
        return value
    if isinstance(default, float):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise check.fail(section, key, f"must be a number, not {value!r}")
        if not math.isfinite(value):
            raise check.fail(section, key, f"must be a finite number, not {value!r}")
        return float(value)
    if isinstance(default, tuple):
        if not isinstance(value, list) or not value or not all(isinstance(v, str) and v.strip() for v in value):
            raise check.fail(section, key, "must be a non-empty list of words")
        return tuple(v.strip() for v in value)
    if isinstance(default, (str, Path)):
        if not isinstance(value, str) or not value.strip():
            raise check.fail(section, key, f"must be a non-empty string, not {value!r}")
        if (section, key) == ("paths", "database") and dburl.is_url(value):
            return value.strip()
        if (section, key) == ("paths", "database") and "://" in value:
            raise check.fail(section, key, f"must be a file path or a postgresql:// URL, not {value!r}")
        return Path(value) if isinstance(default, Path) else value
    raise AssertionError(f"unhandled default type for {section}.{key}")


def _build_section(check: _Checker, section: str, cls: type, data: Any, base: Path) -> Any:
    if not isinstance(data, dict):
        raise check.fail(section, None, "must be a table")
    known = {f.name: f for f in fields(cls)}
    values: dict[str, Any] = {}
    for key, value in data.items():
        if key not in known:
            raise check.fail(section, key, f"unknown key (known: {', '.join(known)})")
        values[key] = _coerce(check, section, key, value, known[key].default)
    obj = cls(**values)
    # Relative paths are relative to the config file, so the tool works from any cwd.
    for f in fields(cls):
        current = getattr(obj, f.name)
        if isinstance(current, Path) and not current.is_absolute():
            obj = dataclasses.replace(obj, **{f.name: (base / current).resolve()})
    return obj


def _validate_sending(check: _Checker, s: SendingSettings, section: str = "sending") -> None:
    """The [sending] rules, also for an account's overrides (`section` names where)."""
    for key in ("delay_min", "delay_max", "long_pause_min", "long_pause_max", "long_pause_every", "retry_backoff",
                "daily_cap", "warmup_days", "warmup_start"):
        value = getattr(s, key)
        if value < 0:
            raise check.fail(section, key, f"must not be negative, got {value}")
        limit = MAXIMA.get(("sending", key))
        if limit is not None and value > limit:
            raise check.fail(section, key, f"must be at most {limit:g}, got {value:g}")
    if s.delay_min > s.delay_max:
        raise check.fail(section, "delay_max", f"must be at least delay_min ({s.delay_min})")
    if s.long_pause_min > s.long_pause_max:
        raise check.fail(section, "long_pause_max", f"must be at least long_pause_min ({s.long_pause_min})")
    for key in ("window_start", "window_end"):
        if not _HHMM.match(getattr(s, key)):
            raise check.fail(section, key, f"must be a time written HH:MM, not {getattr(s, key)!r}")
    if s.warmup_days > 0 and s.daily_cap <= 0:
        raise check.fail(section, "warmup_days", "a warm-up needs a daily_cap to grow to (daily_cap > 0)")


def _validate(check: _Checker, cfg: Config) -> None:
    s, b, sup, w = cfg.sending, cfg.browser, cfg.supervisor, cfg.worker
    _validate_sending(check, s)
    non_negative = [
        ("sending", "delay_min", s.delay_min), ("sending", "delay_max", s.delay_max),
        ("sending", "long_pause_min", s.long_pause_min), ("sending", "long_pause_max", s.long_pause_max),
        ("sending", "long_pause_every", s.long_pause_every), ("sending", "retry_backoff", s.retry_backoff),
        ("sending", "daily_cap", s.daily_cap), ("supervisor", "max_restarts", sup.max_restarts),
        ("supervisor", "start_seconds", sup.start_seconds), ("supervisor", "memory_limit_mb", sup.memory_limit_mb),
        ("supervisor", "backoff_initial", sup.backoff_initial), ("supervisor", "stable_seconds", sup.stable_seconds),
    ]
    for section, key, value in non_negative:
        if value < 0:
            raise check.fail(section, key, f"must not be negative, got {value}")
    positive = [
        ("browser", "boot_timeout", b.boot_timeout), ("browser", "chat_timeout", b.chat_timeout),
        ("browser", "ack_timeout", b.ack_timeout), ("sending", "max_attempts", s.max_attempts),
        ("worker", "poll_interval", w.poll_interval), ("supervisor", "restart_period", sup.restart_period),
        ("supervisor", "stop_timeout", sup.stop_timeout), ("supervisor", "heartbeat_timeout", sup.heartbeat_timeout),
        ("supervisor", "backoff_max", sup.backoff_max),
    ]
    for section, key, value in positive:
        if value <= 0:
            raise check.fail(section, key, f"must be greater than 0, got {value}")
    for (section, key), limit in MAXIMA.items():
        value = getattr(getattr(cfg, section), key)
        if value > limit:
            raise check.fail(section, key, f"must be at most {limit:g}, got {value:g}")
    if not 0 < w.heartbeat_interval <= 5:
        raise check.fail("worker", "heartbeat_interval", "must be greater than 0 and at most 5 seconds")
    if sup.backoff_initial > sup.backoff_max:
        raise check.fail("supervisor", "backoff_max", f"must be at least backoff_initial ({sup.backoff_initial})")
    import phonenumbers  # external library, not the product: allowed here

    if s.default_region.upper() not in phonenumbers.SUPPORTED_REGIONS:
        raise check.fail("sending", "default_region", f"unknown region {s.default_region!r} (use a code such as US, IN, GB)")
    if b.navigation not in ("in_app", "url"):
        raise check.fail("browser", "navigation", f"must be \"in_app\" or \"url\", not {b.navigation!r}")
    if not re.match(r"^https?://", b.whatsapp_url):
        raise check.fail("browser", "whatsapp_url", f"must start with http:// or https://, not {b.whatsapp_url!r}")
    if "headless" in b.user_agent.lower():
        raise check.fail("browser", "user_agent", "must not contain 'Headless' (WhatsApp refuses such browsers)")
    if not re.match(r"^[a-z]{2,3}(-[A-Z][A-Za-z]{1,3})?$", b.language):
        raise check.fail("browser", "language", f"must be a language tag such as \"en-US\" or \"pt-BR\", "
                                                f"not {b.language!r}")
    if s.auto_requeue_limit < 0:
        raise check.fail("sending", "auto_requeue_limit", f"must not be negative, got {s.auto_requeue_limit}")
    if s.attention_after < 1:
        raise check.fail("sending", "attention_after", f"must be at least 1, got {s.attention_after}")
    if cfg.dashboard.qr_style not in ("auto", "half", "sextant"):
        raise check.fail("dashboard", "qr_style", f"must be \"auto\", \"half\" or \"sextant\", "
                                                  f"not {cfg.dashboard.qr_style!r}")
    for acc in cfg.accounts:
        _validate_sending(check, dataclasses.replace(s, **acc.sending), "accounts")


def _accounts(check: _Checker, data: Any, base: Path) -> tuple[AccountSettings, ...]:
    if not isinstance(data, list) or not all(isinstance(t, dict) for t in data):
        raise check.fail("accounts", None, "must be [[accounts]] tables")
    out: list[AccountSettings] = []
    sending_fields = {f.name: f for f in fields(SendingSettings)}
    for table in data:
        name = table.get("name")
        if not isinstance(name, str) or not ACCOUNT_NAME.match(name):
            raise check.fail("accounts", "name", f"must be 1-32 lower-case letters, digits, '-' or '_' "
                                                 f"(it names folders), not {name!r}")
        if name in {a.name for a in out}:
            raise check.fail("accounts", "name", f"account {name!r} is listed twice")
        profile: Path = base / "profiles" / name
        enabled = True
        overrides: dict[str, Any] = {}
        for key, value in table.items():
            if key == "name":
                continue
            if key == "profile_dir":
                if not isinstance(value, str) or not value.strip():
                    raise check.fail("accounts", key, f"account {name!r}: must be a folder path")
                profile = Path(value).expanduser()
                profile = profile if profile.is_absolute() else (base / profile)
            elif key == "enabled":
                if not isinstance(value, bool):
                    raise check.fail("accounts", key, f"account {name!r}: must be true or false")
                enabled = value
            elif key in ACCOUNT_OVERRIDES:
                overrides[key] = _coerce(check, "accounts", key, value, sending_fields[key].default)
            else:
                raise check.fail("accounts", key, f"account {name!r}: unknown key (known: name, profile_dir, "
                                                  f"enabled, {', '.join(ACCOUNT_OVERRIDES)})")
        out.append(AccountSettings(name, profile.resolve(), enabled, overrides))
    profiles = [a.profile_dir for a in out]
    if len(set(profiles)) != len(profiles):
        raise check.fail("accounts", "profile_dir", "two accounts share a browser profile (one login each)")
    return tuple(out)


def _selectors(check: _Checker, data: Any, extra_labels: frozenset[str] = frozenset()) -> dict[str, tuple[str, ...]]:
    if not isinstance(data, dict):
        raise check.fail("selectors", None, "must be a table")
    result = dict(DEFAULT_SELECTORS)
    for key, value in data.items():
        if key not in DEFAULT_SELECTORS:
            raise check.fail("selectors", key, f"unknown selector key (known: {', '.join(DEFAULT_SELECTORS)})")
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not value or not all(isinstance(v, str) and v.strip() for v in value):
            raise check.fail("selectors", key, "must be a non-empty list of selector strings")
        for sel in value:
            for label in _LABEL_RE.findall(sel):
                if label not in LABELS and label not in extra_labels:
                    raise check.fail("selectors", key, f"unknown word {{{label}}} (known: {', '.join(LABELS)}; "
                                                       "add one in a [labels.LANG] table)")
        result[key] = tuple(value)
    return result


def _labels(check: _Checker, data: Any) -> dict[str, dict[str, str]]:
    if not isinstance(data, dict):
        raise check.fail("labels", None, "must be a table of languages, e.g. [labels.pt-BR]")
    out: dict[str, dict[str, str]] = {}
    for lang, words in data.items():
        if not isinstance(words, dict) or not all(isinstance(k, str) and isinstance(v, str) and v.strip()
                                                  for k, v in words.items()):
            raise check.fail("labels", lang, 'must be a table of "English word" = "word on the page"')
        out[lang] = dict(words)
    return out


def parse(text: str, path: Path | None = None) -> Config:
    """Parse and validate config text. Relative paths resolve against the file's directory."""
    check = _Checker(path, text)
    where = str(path) if path else "config"
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{where}: not valid TOML: {exc}") from None
    base = path.resolve().parent if path else Path.cwd()
    parts: dict[str, Any] = {}
    if "labels" in data:
        parts["labels"] = _labels(check, data["labels"])
    extra = frozenset(w for words in parts.get("labels", {}).values() for w in words)
    for section, value in data.items():
        if section == "labels":
            continue
        if section == "selectors":
            parts["selectors"] = _selectors(check, value, extra)
        elif section == "accounts":
            continue  # after [browser]: nothing of it is needed, but keep one order of errors
        elif section in SECTIONS:
            parts[section] = _build_section(check, section, SECTIONS[section], value, base)
        else:
            raise check.fail(section, None, f"unknown section (known: "
                                            f"{', '.join([*SECTIONS, 'selectors', 'labels', 'accounts'])})")
    for section, cls in SECTIONS.items():
        parts.setdefault(section, _build_section(check, section, cls, {}, base))
    if "accounts" in data:
        parts["accounts"] = _accounts(check, data["accounts"], base)
    cfg = Config(path=path, **parts)
    _validate(check, cfg)
    return cfg


@dataclass(frozen=True)
class RunContext:
    """The config file, the database and where each came from, resolved once."""

    config_path: Path
    config_source: str         # "--config", "$WA_SENDER_CONFIG" or "default"
    db_override: Path | str | None   # --db, if given (a file or a postgresql:// URL)
    cfg: Config

    @property
    def db_source(self) -> str:
        return "--db" if self.db_override is not None else f"[paths] database in {self.config_path}"

    def argv(self) -> list[str]:
        """The options that give a child process this same context."""
        out = ["--config", str(self.config_path)]
        if self.db_override is not None:
            out += ["--db", str(self.db_override)]
        return out

    def describe(self) -> str:
        return (f"config {self.config_path} (from {self.config_source}), database {self.cfg.paths.database} "
                f"(from {self.db_source})")


def resolve(config: str | Path | None = None, db: str | Path | None = None) -> RunContext:
    """Load the config chosen by --config, else $WA_SENDER_CONFIG, else the project's
    config.toml, and apply --db. Raises ConfigError (a user error)."""
    if config:
        source = "--config"
    elif os.environ.get(ENV_VAR):
        source = f"${ENV_VAR}"
    else:
        source = "default"
    path = config_path(config).resolve()
    cfg = load(path)
    override = None
    if db:
        if "://" in str(db) and not dburl.is_url(db):
            raise ConfigError(f"--db: must be a file path or a postgresql:// URL, not {db!r}")
        override = dburl.normalize(db)
        cfg = cfg.with_database(override)
    return RunContext(config_path=path, config_source=source, db_override=override, cfg=cfg)


def _rewrite(path: str | Path, edit: Callable[[Any, Config], None], *, backup: bool) -> Path | None:
    """Edit the config file at `path` with tomlkit (comments and order kept): `edit(doc,
    current)` changes the document; the result is validated before anything is written,
    then written whole. With `backup`, the old file is kept beside it (returned)."""
    import shutil

    import tomlkit

    import safefiles

    src = Path(path)
    text = src.read_text(encoding="utf-8")
    doc = tomlkit.parse(text)
    edit(doc, parse(text, src))
    new_text = tomlkit.dumps(doc)
    parse(new_text, src)  # nothing is written that would not load
    kept = None
    if backup:
        kept = src.with_name(f"{src.name}.bak-{time.strftime('%Y%m%d-%H%M%S')}")
        shutil.copy2(src, kept)
    safefiles.write_atomic(src, new_text, what="config file", mode=None)
    return kept


def prepend_selectors(path: str | Path, winners: dict[str, list[str]]) -> Path:
    """Put `winners` first in their keys' lists in the config file at `path`, keeping the
    others after them; the old file is kept beside it. Returns the backup's path."""
    import tomlkit

    def edit(doc: Any, current: Config) -> None:
        table = doc.get("selectors")
        if table is None:
            table = tomlkit.table()
            doc["selectors"] = table
        for key, first in winners.items():
            if key not in DEFAULT_SELECTORS:
                raise ConfigError(f"{path}: selectors.{key}: unknown selector key")
            rest = [s for s in current.selectors.get(key, ()) if s not in first]
            values = tomlkit.array()
            values.extend([*first, *rest])
            values.multiline(len(first) + len(rest) > 2)
            table[key] = values

    kept = _rewrite(path, edit, backup=True)
    assert kept is not None
    return kept


def add_account(path: str | Path, name: str, *, profile_dir: str | None = None, **overrides: Any) -> None:
    """Add an [[accounts]] table. A file without any gets one for its current account
    ("default", on [browser] profile_dir) first, so that login keeps working."""
    import tomlkit

    if not ACCOUNT_NAME.match(name):
        raise ConfigError(f"account name {name!r}: use 1-32 lower-case letters, digits, '-' or '_'")

    def edit(doc: Any, current: Config) -> None:
        if name in current.account_names() and current.accounts:
            raise ConfigError(f"{path}: account {name!r} exists already")
        if "accounts" not in doc:
            aot = tomlkit.aot()
            if name != DEFAULT_ACCOUNT:
                first = tomlkit.table()
                first["name"] = DEFAULT_ACCOUNT
                first["profile_dir"] = str(doc.get("browser", {}).get("profile_dir", "profile"))
                aot.append(first)
            doc.append("accounts", aot)
        table = tomlkit.table()
        table["name"] = name
        if profile_dir:
            table["profile_dir"] = profile_dir
        for key, value in overrides.items():
            table[key] = value
        doc["accounts"].append(table)

    _rewrite(path, edit, backup=False)


def set_account_enabled(path: str | Path, name: str, enabled: bool) -> None:
    """`enabled = true/false` in the account's table (a file without [[accounts]] gets one)."""
    def edit(doc: Any, current: Config) -> None:
        current.get_account(name)  # unknown: ConfigError
        if "accounts" not in doc:
            import tomlkit

            aot = tomlkit.aot()
            first = tomlkit.table()
            first["name"] = DEFAULT_ACCOUNT
            first["profile_dir"] = str(doc.get("browser", {}).get("profile_dir", "profile"))
            aot.append(first)
            doc.append("accounts", aot)
        for table in doc["accounts"]:
            if table.get("name") == name:
                table["enabled"] = enabled

    _rewrite(path, edit, backup=False)


def config_path(explicit: str | Path | None = None) -> Path:
    if explicit:
        return Path(explicit)
    if os.environ.get(ENV_VAR):
        return Path(os.environ[ENV_VAR])
    return DEFAULT_PATH


def load(explicit: str | Path | None = None) -> Config:
    """Load the config chosen by `explicit`, else $WA_SENDER_CONFIG, else ./config.toml of the project."""
    path = config_path(explicit)
    try:
        if path.exists() and not path.is_file():
            raise ConfigError(f"{path}: not a regular file (a config is a TOML file)")
        if path.is_file() and path.stat().st_size > MAX_CONFIG_BYTES:
            raise ConfigError(f"{path}: too big for a config file ({path.stat().st_size:,} bytes)")
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read config: {exc}") from None
    return parse(text, path)


MAX_CONFIG_BYTES = 1_000_000
