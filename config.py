"""Reading and validating config.toml.

Every part of the product may import this module; it imports nothing of the product.
A problem with the file raises ConfigError whose message is one line naming the file,
the key and, where it can be found, the line.
"""
from __future__ import annotations

import dataclasses
import os
import re
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

ENV_VAR = "WA_SENDER_CONFIG"
PROJECT_DIR = Path(__file__).resolve().parent
DEFAULT_PATH = PROJECT_DIR / "config.toml"


class ConfigError(Exception):
    """A user error in the configuration: the message is shown as is."""


@dataclass(frozen=True)
class Paths:
    database: Path = Path("data/wa_sender.db")
    run_dir: Path = Path("run")
    log_dir: Path = Path("logs")


@dataclass(frozen=True)
class Browser:
    binary: Path = Path("/usr/bin/chromium")
    driver: Path = Path("/usr/bin/chromedriver")
    profile_dir: Path = Path("profile")
    headless: bool = True
    whatsapp_url: str = "https://web.whatsapp.com"
    navigation: str = "in_app"
    user_agent: str = (
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/142.0.0.0 Safari/537.36"
    )
    boot_timeout: float = 90.0
    chat_timeout: float = 30.0
    ack_timeout: float = 60.0


@dataclass(frozen=True)
class Sending:
    default_region: str = "US"
    delay_min: float = 4.0
    delay_max: float = 8.0
    long_pause_every: int = 10
    long_pause_min: float = 20.0
    long_pause_max: float = 40.0
    max_attempts: int = 3
    retry_backoff: float = 30.0
    daily_cap: int = 0
    window_start: str = "00:00"
    window_end: str = "00:00"


@dataclass(frozen=True)
class Worker:
    heartbeat_interval: float = 2.0
    poll_interval: float = 1.0


@dataclass(frozen=True)
class Supervisor:
    start_seconds: float = 10.0
    backoff_initial: float = 1.0
    backoff_max: float = 60.0
    max_restarts: int = 5
    restart_period: float = 300.0
    stable_seconds: float = 120.0
    stop_timeout: float = 10.0
    heartbeat_timeout: float = 120.0
    memory_limit_mb: int = 1500


DEFAULT_SELECTORS: dict[str, tuple[str, ...]] = {
    "booting": ("#startup", "progress"),
    "qr_code": ("div[data-ref]",),
    "qr_reload": ("div[data-ref] button", "xpath://button[contains(., 'reload QR')]"),
    "logged_in": ("#pane-side", "#side"),
    "phone_disconnected": ("div[data-testid='alert-phone']", "span[data-icon='alert-phone']"),
    "use_here_button": (
        "xpath://div[@data-animate-modal-popup='true']//button[normalize-space()='Use here']",
    ),
    "chat_open": ("#main header span[title]", "#main header"),
    "chat_error": ("div[data-testid='toast']",),
    "compose_box": (
        "#main footer div[contenteditable='true'][role='textbox'][data-tab='10']",
        "#main footer div[contenteditable='true'][data-tab='10']",
        "#main footer div[contenteditable='true']",
    ),
    "send_button": ("#main footer button[aria-label='Send']", "#main footer span[data-icon='send']"),
    "invalid_popup": ("xpath://div[@data-animate-modal-popup='true'][contains(., 'invalid')]",),
    "popup_ok": ("xpath://div[@data-animate-modal-popup='true']//button[normalize-space()='OK']",),
    "outgoing_message": ("#main div.message-out",),
    "message_text": ("span.selectable-text > span", "span.selectable-text"),
    "message_meta": ("div.copyable-text[data-pre-plain-text]",),
    "msg_pending": ("span[data-icon='msg-time']",),
    "msg_ack": ("span[data-icon='msg-check']", "span[data-icon='msg-dblcheck']"),
    "attach_button": (
        "span[data-icon='plus-rounded']",
        "span[data-icon='plus']",
        "span[data-icon='attach-menu-plus']",
    ),
    "media_input": (
        "input[type='file'][accept='image/*,video/mp4,video/3gpp,video/quicktime']",
        "input[type='file'][accept^='image']",
    ),
    "document_input": ("input[type='file'][accept='*']",),
    "caption_box": (
        "div[contenteditable='true'][role='textbox'][aria-placeholder='Add a caption']",
        "div[contenteditable='true'][aria-label*='caption']",
    ),
    "media_send": ("span[data-icon='wds-ic-send-filled']", "div[role='button'][aria-label='Send']"),
}


@dataclass(frozen=True)
class Config:
    path: Path | None = None
    paths: Paths = field(default_factory=Paths)
    browser: Browser = field(default_factory=Browser)
    sending: Sending = field(default_factory=Sending)
    worker: Worker = field(default_factory=Worker)
    supervisor: Supervisor = field(default_factory=Supervisor)
    selectors: dict[str, tuple[str, ...]] = field(default_factory=lambda: dict(DEFAULT_SELECTORS))

    @property
    def database_url(self) -> str:
        return f"sqlite:///{self.paths.database}"

    def with_database(self, db: str | Path) -> "Config":
        return dataclasses.replace(self, paths=dataclasses.replace(self.paths, database=Path(db).resolve()))


SECTIONS: dict[str, type] = {
    "paths": Paths,
    "browser": Browser,
    "sending": Sending,
    "worker": Worker,
    "supervisor": Supervisor,
}

_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


def _line_of(text: str, section: str, key: str | None) -> int | None:
    """Best effort: the line where `key` is set inside `[section]` (tomllib gives no positions)."""
    current = None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        header = re.match(r"^\[\s*([A-Za-z0-9_.-]+)\s*\]", line)
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
        return float(value)
    if isinstance(default, (str, Path)):
        if not isinstance(value, str) or not value.strip():
            raise check.fail(section, key, f"must be a non-empty string, not {value!r}")
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


def _validate(check: _Checker, cfg: Config) -> None:
    s, b, sup, w = cfg.sending, cfg.browser, cfg.supervisor, cfg.worker
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
    if not 0 < w.heartbeat_interval <= 5:
        raise check.fail("worker", "heartbeat_interval", "must be greater than 0 and at most 5 seconds")
    if s.delay_min > s.delay_max:
        raise check.fail("sending", "delay_max", f"must be at least delay_min ({s.delay_min})")
    if s.long_pause_min > s.long_pause_max:
        raise check.fail("sending", "long_pause_max", f"must be at least long_pause_min ({s.long_pause_min})")
    if sup.backoff_initial > sup.backoff_max:
        raise check.fail("supervisor", "backoff_max", f"must be at least backoff_initial ({sup.backoff_initial})")
    for key in ("window_start", "window_end"):
        if not _HHMM.match(getattr(s, key)):
            raise check.fail("sending", key, f"must be a time written HH:MM, not {getattr(s, key)!r}")
    import phonenumbers  # external library, not the product: allowed here

    if s.default_region.upper() not in phonenumbers.SUPPORTED_REGIONS:
        raise check.fail("sending", "default_region", f"unknown region {s.default_region!r} (use a code such as US, IN, GB)")
    if b.navigation not in ("in_app", "url"):
        raise check.fail("browser", "navigation", f"must be \"in_app\" or \"url\", not {b.navigation!r}")
    if not re.match(r"^https?://", b.whatsapp_url):
        raise check.fail("browser", "whatsapp_url", f"must start with http:// or https://, not {b.whatsapp_url!r}")
    if "headless" in b.user_agent.lower():
        raise check.fail("browser", "user_agent", "must not contain 'Headless' (WhatsApp refuses such browsers)")


def _selectors(check: _Checker, data: Any) -> dict[str, tuple[str, ...]]:
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
        result[key] = tuple(value)
    return result


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
    for section, value in data.items():
        if section == "selectors":
            parts["selectors"] = _selectors(check, value)
        elif section in SECTIONS:
            parts[section] = _build_section(check, section, SECTIONS[section], value, base)
        else:
            raise check.fail(section, None, f"unknown section (known: {', '.join([*SECTIONS, 'selectors'])})")
    for section, cls in SECTIONS.items():
        parts.setdefault(section, _build_section(check, section, cls, {}, base))
    cfg = Config(path=path, **parts)
    _validate(check, cfg)
    return cfg


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
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read config: {exc}") from None
    return parse(text, path)
