"""Reading and validating config.toml.

A problem with the file raises ConfigError whose message is one line naming the file,
the key and, where it can be found, the line. Every number is checked against the bounds
declared beside its field (`model.bounded`); the rules here tie fields together.
"""

from __future__ import annotations

import dataclasses
import math
import re
import tomllib
from dataclasses import fields
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from common import dburl
from common.events import EVENTS, known_topic
from worker import knowledge
from worker.optout_words import normalize as normalize_optout

from .model import (
    ACCOUNT_NAME,
    ACCOUNT_OVERRIDES,
    SECTIONS,
    AccountSettings,
    Config,
    ConfigError,
    SendingSettings,
    WebhookSettings,
    bounds_of,
    labels_in,
)

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

_Section = TypeVar("_Section", bound="DataclassInstance")

MAX_CONFIG_BYTES = 1_000_000
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
    """Builds the one-line error for a key of the file being read."""

    def __init__(self, path: Path | None, text: str) -> None:
        self.path = path
        self.text = text

    def fail(self, section: str, key: str | None, problem: str) -> ConfigError:
        where = str(self.path) if self.path else "config"
        line = _line_of(self.text, section, key)
        name = f"{section}.{key}" if key else f"[{section}]"
        at = f", line {line}" if line else ""
        return ConfigError(f"{where}{at}: {name}: {problem}")


def _coerce(check: _Checker, section: str, key: str, value: object, default: object) -> Any:
    """`value` as read from TOML, checked against the type of the field's `default` and
    converted to it (Any: the field's own type, which differs from key to key)."""
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
    if (section, key) == ("alerts", "command"):
        if not isinstance(value, str):
            raise check.fail(section, key, f'must be a command line (a string; "" for none), not {value!r}')
        return value.strip()
    if isinstance(default, (str, Path)):
        if not isinstance(value, str) or (not value.strip() and default != ""):
            raise check.fail(section, key, f"must be a non-empty string, not {value!r}")
        if (section, key) == ("paths", "database"):
            if dburl.is_url(value):
                return dburl.check_url(value.strip(), what=f"{section}.{key}")
            problem = dburl.not_a_path(value)
            if problem:
                raise check.fail(section, key, problem)
        return Path(value) if isinstance(default, Path) else value
    raise AssertionError(f"unhandled default type for {section}.{key}")


def _check_bounds(check: _Checker, section: str, obj: DataclassInstance, where: str | None = None) -> None:
    """Every field's declared bounds (`model.bounded`); `where` names an account's table."""
    for f in fields(obj):
        b = bounds_of(f)
        if not b:
            continue
        value = getattr(obj, f.name)
        name = where or section
        if b.get("choices"):
            if value not in b["choices"]:
                allowed = ", ".join(f'"{c}"' for c in b["choices"])
                raise check.fail(name, f.name, f"must be one of {allowed}, not {value!r}")
            continue
        if b.get("lo") is not None and value < b["lo"]:
            problem = "must not be negative" if b["lo"] == 0 else f"must be at least {b['lo']:g}"
            raise check.fail(name, f.name, f"{problem}, got {value:g}")
        if b.get("above") is not None and value <= b["above"]:
            raise check.fail(name, f.name, f"must be greater than {b['above']:g}, got {value:g}")
        if b.get("hi") is not None and value > b["hi"]:
            raise check.fail(name, f.name, f"must be at most {b['hi']:g}, got {value:g}")


def _build_section(check: _Checker, section: str, cls: type[_Section], data: object, base: Path) -> _Section:
    """One plain [section] of the file as its dataclass, checked; relative paths resolved."""
    if not isinstance(data, dict):
        raise check.fail(section, None, "must be a table")
    known = {f.name: f for f in fields(cls)}
    values: dict[str, Any] = {}  # the dataclass's keyword arguments, each of its field's type
    for key, value in data.items():
        if key not in known:
            raise check.fail(section, key, f"unknown key (known: {', '.join(known)})")
        values[key] = _coerce(check, section, key, value, known[key].default)
    obj = cls(**values)
    _check_bounds(check, section, obj)
    # Relative paths are relative to the config file, so the tool works from any cwd.
    for f in fields(cls):
        current = getattr(obj, f.name)
        if isinstance(current, Path) and not current.is_absolute():
            obj = dataclasses.replace(obj, **{f.name: (base / current).resolve()})
    return obj


def _validate_sending(check: _Checker, s: SendingSettings, section: str = "sending") -> None:
    """The [sending] rules that tie fields together, also for an account's overrides."""
    if s.delay_min > s.delay_max:
        raise check.fail(section, "delay_max", f"must be at least delay_min ({s.delay_min})")
    if s.long_pause_min > s.long_pause_max:
        raise check.fail(section, "long_pause_max", f"must be at least long_pause_min ({s.long_pause_min})")
    for key in ("window_start", "window_end"):
        if not _HHMM.match(getattr(s, key)):
            raise check.fail(section, key, f"must be a time written HH:MM, not {getattr(s, key)!r}")
    if s.warmup_days > 0 and s.daily_cap <= 0:
        raise check.fail(section, "warmup_days", "a warm-up needs a daily_cap to grow to (daily_cap > 0)")
    if s.warmup_days > 0 and s.warmup_start > s.daily_cap:
        raise check.fail(
            section,
            "warmup_start",
            f"must be at most daily_cap ({s.daily_cap}): a warm-up grows to the cap, got {s.warmup_start}",
        )


def _validate(check: _Checker, cfg: Config) -> Config:
    """The rules that tie fields of several sections together (one ConfigError each);
    returns the config with normalised values."""
    s, b, sup = cfg.sending, cfg.browser, cfg.supervisor
    _validate_sending(check, s)
    if sup.backoff_initial > sup.backoff_max:
        raise check.fail("supervisor", "backoff_max", f"must be at least backoff_initial ({sup.backoff_initial})")
    import phonenumbers  # external library, not the product: allowed here

    if s.default_region.upper() not in phonenumbers.SUPPORTED_REGIONS:
        raise check.fail(
            "sending", "default_region", f"unknown region {s.default_region!r} (use a code such as US, IN, GB)"
        )
    if not re.match(r"^https?://", b.whatsapp_url):
        raise check.fail("browser", "whatsapp_url", f"must start with http:// or https://, not {b.whatsapp_url!r}")
    if "headless" in b.user_agent.lower():
        raise check.fail("browser", "user_agent", "must not contain 'Headless' (WhatsApp refuses such browsers)")
    if not re.match(r"^[a-z]{2,3}(-[A-Z][A-Za-z]{1,3})?$", b.language):
        raise check.fail(
            "browser", "language", f'must be a language tag such as "en-US" or "pt-BR", not {b.language!r}'
        )
    if cfg.heal.own_number:
        cfg = dataclasses.replace(
            cfg, heal=dataclasses.replace(cfg.heal, own_number=_own_number(check, "heal", cfg.heal.own_number))
        )
    if not cfg.heal.probe_text.strip() or len(cfg.heal.probe_text) > 200:
        raise check.fail(
            "heal", "probe_text", "must be a short text (1 to 200 characters): it is sent to the account's own chat"
        )
    empty = [w for w in cfg.replies.optout_words if not normalize_optout(w)]
    if empty:
        raise check.fail(
            "replies",
            "optout_words",
            f"{empty[0]!r} is no word once case, accents, punctuation and emoji are set aside: it would match nothing",
        )
    _validate_api(check, cfg)
    for name in cfg.alerts.events:
        if not known_topic(name):
            raise check.fail("alerts", "events", f"unknown event {name!r} (known: {', '.join(_topic_names())})")
    for acc in cfg.accounts:
        merged = dataclasses.replace(s, **acc.sending)
        _check_bounds(check, "sending", merged, where="accounts")
        _validate_sending(check, merged, "accounts")
    return cfg


def _own_number(check: _Checker, section: str, value: Any, prefix: str = "") -> str:
    """An account's own number in E.164 ("+5511987654321"), or "" (the page's)."""
    if not isinstance(value, str):
        raise check.fail(section, "own_number", f"{prefix}must be a phone number in quotes, not {value!r}")
    if not value.strip():
        return ""
    import phonenumbers

    try:
        parsed = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        parsed = None
    if parsed is None or not phonenumbers.is_possible_number(parsed):
        raise check.fail(
            section,
            "own_number",
            f'{prefix}{value!r} is not a phone number with its country code (e.g. "+5511987654321")',
        )
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


LOOPBACK = ("127.0.0.1", "::1", "localhost")


def is_loopback(host: str) -> bool:
    """An address only this machine reaches (127.0.0.0/8, ::1, localhost)."""
    import ipaddress

    if host in LOOPBACK:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _validate_api(check: _Checker, cfg: Config) -> None:
    api = cfg.api
    if not re.match(r"^[A-Za-z0-9.:_-]{1,253}$", api.host):
        raise check.fail("api", "host", f"must be an address or a host name such as 127.0.0.1, not {api.host!r}")
    if not is_loopback(api.host) and not api.allow_remote:
        raise check.fail(
            "api",
            "host",
            f"{api.host!r} is reachable from other machines: set allow_remote = true to mean it "
            "(and put TLS in front: a reverse proxy, docs/api.md)",
        )


def _topic_names() -> list[str]:
    from common.events import ACCOUNT_STATES, EVENTS

    return [*EVENTS, *(f"account.{s}" for s in ACCOUNT_STATES)]


def check_webhook_url(url: str) -> str | None:
    """Why `url` cannot be a webhook's address (None: it can)."""
    from urllib.parse import urlsplit

    if any(c.isspace() for c in url) or not url:
        return f"must be an http:// or https:// URL without spaces, not {url!r}"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError as exc:
        return f"is not a URL ({exc}): {url!r}"
    if parts.scheme not in ("http", "https"):
        return f"must start with http:// or https://, not {url!r}"
    if not parts.hostname:
        return f"names no host: {url!r}"
    return None


def _webhooks(check: _Checker, data: Any) -> tuple[WebhookSettings, ...]:
    if not isinstance(data, list) or not all(isinstance(t, dict) for t in data):
        raise check.fail("webhooks", None, "must be [[webhooks]] tables (url, secret, events)")
    out: list[WebhookSettings] = []
    for n, table in enumerate(data, start=1):
        unknown = [k for k in table if k not in ("url", "secret", "events")]
        if unknown:
            raise check.fail("webhooks", unknown[0], f"webhook {n}: unknown key (known: url, secret, events)")
        url = table.get("url")
        if not isinstance(url, str):
            raise check.fail("webhooks", "url" if "url" in table else None, f"webhook {n}: needs a url (http(s)://…)")
        problem = check_webhook_url(url.strip())
        if problem:
            raise check.fail("webhooks", "url", f"webhook {n}: {problem}")
        secret = table.get("secret")
        if not isinstance(secret, str) or not secret.strip():
            raise check.fail(
                "webhooks",
                "secret" if "secret" in table else None,
                f"webhook {n}: needs a secret (a non-empty string) to sign its events with",
            )
        events: Any = table.get("events", None)
        if events is None:
            events = list(EVENTS)
        if not isinstance(events, list) or not events or not all(isinstance(e, str) for e in events):
            raise check.fail("webhooks", "events", f"webhook {n}: must be a non-empty list of event names")
        for e in events:
            if not known_topic(e.strip()):
                raise check.fail(
                    "webhooks", "events", f"webhook {n}: unknown event {e!r} (known: {', '.join(_topic_names())})"
                )
        if url.strip() in {w.url for w in out}:
            raise check.fail("webhooks", "url", f"webhook {n}: {url.strip()!r} is listed twice")
        out.append(WebhookSettings(url.strip(), secret, tuple(dict.fromkeys(e.strip() for e in events))))
    return tuple(out)


def _accounts(check: _Checker, data: object, base: Path) -> tuple[AccountSettings, ...]:
    """The [[accounts]] tables: names, profiles (one each) and their [sending] overrides."""
    if not isinstance(data, list) or not all(isinstance(t, dict) for t in data):
        raise check.fail("accounts", None, "must be [[accounts]] tables")
    out: list[AccountSettings] = []
    sending_fields = {f.name: f for f in fields(SendingSettings)}
    for table in data:
        name = table.get("name")
        if not isinstance(name, str) or not ACCOUNT_NAME.match(name):
            raise check.fail(
                "accounts",
                "name",
                f"must be 1-32 lower-case letters, digits, '-' or '_' (it names folders), not {name!r}",
            )
        if name in {a.name for a in out}:
            raise check.fail("accounts", "name", f"account {name!r} is listed twice")
        profile: Path = base / "profiles" / name
        enabled = True
        own_number = ""
        overrides: dict[str, Any] = {}  # AccountSettings.sending
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
            elif key == "own_number":
                own_number = _own_number(check, "accounts", value, f"account {name!r}: ")
            elif key in ACCOUNT_OVERRIDES:
                overrides[key] = _coerce(check, "accounts", key, value, sending_fields[key].default)
            else:
                raise check.fail(
                    "accounts",
                    key,
                    f"account {name!r}: unknown key (known: name, profile_dir, enabled, own_number, "
                    f"{', '.join(ACCOUNT_OVERRIDES)})",
                )
        out.append(AccountSettings(name, profile.resolve(), enabled, overrides, own_number))
    profiles = [a.profile_dir for a in out]
    if len(set(profiles)) != len(profiles):
        raise check.fail("accounts", "profile_dir", "two accounts share a browser profile (one login each)")
    return tuple(out)


def _selectors(check: _Checker, data: object, extra_labels: frozenset[str] = frozenset()) -> dict[str, tuple[str, ...]]:
    """[selectors]: each key's list of fallbacks, every {Label} in them a known word."""
    if not isinstance(data, dict):
        raise check.fail("selectors", None, "must be a table")
    result = dict(knowledge.DEFAULT_SELECTORS)
    for key, value in data.items():
        if key not in knowledge.DEFAULT_SELECTORS:
            raise check.fail(
                "selectors", key, f"unknown selector key (known: {', '.join(knowledge.DEFAULT_SELECTORS)})"
            )
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not value or not all(isinstance(v, str) and v.strip() for v in value):
            raise check.fail("selectors", key, "must be a non-empty list of selector strings")
        for sel in value:
            for label in labels_in(sel):
                if label not in knowledge.LABELS and label not in extra_labels:
                    raise check.fail(
                        "selectors",
                        key,
                        f"unknown word {{{label}}} (known: "
                        f"{', '.join(knowledge.LABELS)}; add one in a [labels.LANG] table)",
                    )
        result[key] = tuple(value)
    return result


def _labels(check: _Checker, data: object) -> dict[str, dict[str, str]]:
    if not isinstance(data, dict):
        raise check.fail("labels", None, "must be a table of languages, e.g. [labels.pt-BR]")
    out: dict[str, dict[str, str]] = {}
    for lang, words in data.items():
        if not isinstance(words, dict) or not all(
            isinstance(k, str) and isinstance(v, str) and v.strip() for k, v in words.items()
        ):
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
    parts: dict[str, Any] = {}  # Config's keyword arguments, one type per section
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
        elif section == "webhooks":
            parts["webhooks"] = _webhooks(check, value)
        elif section in SECTIONS:
            parts[section] = _build_section(check, section, SECTIONS[section], value, base)
        else:
            known = [*SECTIONS, "selectors", "labels", "accounts", "webhooks"]
            raise check.fail(section, None, f"unknown section (known: {', '.join(known)})")
    for section, cls in SECTIONS.items():
        parts.setdefault(section, _build_section(check, section, cls, {}, base))
    if "accounts" in data:
        parts["accounts"] = _accounts(check, data["accounts"], base)
    cfg = Config(path=path, **parts)
    return _validate(check, cfg)


def load_file(path: Path) -> Config:
    """Read and parse one config file (a regular file of bounded size)."""
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
