"""The settings of config.toml as typed, frozen dataclasses, each number with its bounds
beside it (`bounded`); `settings.parse` checks every bound the same way and adds the
rules that tie two fields together. config.toml documents every key for the user.
"""

from __future__ import annotations

import dataclasses
import datetime
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from common.errors import UserError
from common.events import DEFAULT_ALERTS, EVENTS
from worker import knowledge
from worker.optout_words import DEFAULT_WORDS

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

DAY = 86400.0
_T = TypeVar("_T")


class ConfigError(UserError):
    """A user error in the configuration: the message names the file, the key and its line."""


def bounded(
    default: _T,
    *,
    lo: float | None = None,
    above: float | None = None,
    hi: float | None = None,
    choices: tuple[str, ...] = (),
) -> _T:
    """A field whose value must be >= `lo`, > `above`, <= `hi`, or one of `choices`."""
    return field(default=default, metadata={"lo": lo, "above": above, "hi": hi, "choices": choices})


def bounds_of(f: dataclasses.Field[Any]) -> dict[str, Any]:
    """The bounds `bounded` declared for a field ({} for none): "lo", "above", "hi" (a
    number or None) and "choices" (a tuple of words); Any as dataclass metadata is."""
    return dict(f.metadata) if f.metadata else {}


@dataclass(frozen=True)
class PathSettings:
    """[paths]: where the database, the run directory (signal files) and the logs are."""

    # An SQLite file, or a `postgresql://user@host/db` URL (a str) for several hosts.
    database: Path | str = Path("data/wa_sender.db")
    run_dir: Path = Path("run")
    log_dir: Path = Path("logs")


@dataclass(frozen=True)
class BrowserSettings:
    """[browser]: the Chromium the worker drives, its profile (the login) and its timeouts."""

    binary: Path = Path("/usr/bin/chromium")
    driver: Path = Path("/usr/bin/chromedriver")
    profile_dir: Path = Path("profile")
    headless: bool = True
    whatsapp_url: str = "https://web.whatsapp.com"
    navigation: str = bounded("in_app", choices=("in_app", "url"))
    # "auto": the installed browser's own user agent, with HeadlessChrome -> Chrome.
    user_agent: str = "auto"
    language: str = "en-US"
    boot_timeout: float = bounded(90.0, above=0, hi=DAY)
    chat_timeout: float = bounded(30.0, above=0, hi=DAY)
    ack_timeout: float = bounded(60.0, above=0, hi=DAY)


@dataclass(frozen=True)
class SendingSettings:
    """[sending]: pacing, attempts, the daily cap and its warm-up, the sending window; an
    account's [[accounts]] table may override some of them (ACCOUNT_OVERRIDES)."""

    default_region: str = "US"
    delay_min: float = bounded(4.0, lo=0, hi=DAY)
    delay_max: float = bounded(8.0, lo=0, hi=DAY)
    long_pause_every: int = bounded(10, lo=0, hi=1_000_000)
    long_pause_min: float = bounded(20.0, lo=0, hi=DAY)
    long_pause_max: float = bounded(40.0, lo=0, hi=DAY)
    max_attempts: int = bounded(3, above=0, hi=1000)
    retry_backoff: float = bounded(30.0, lo=0, hi=DAY)
    daily_cap: int = bounded(200, lo=0, hi=1_000_000)  # per account: see config.toml for why
    window_start: str = "00:00"
    window_end: str = "00:00"
    auto_requeue_limit: int = bounded(1, lo=0, hi=100)
    attention_after: int = bounded(3, lo=1, hi=1000)
    # Warm-up of a new account: over its first `warmup_days` days of sending, the cap
    # grows from `warmup_start` to `daily_cap` (0 days: no warm-up).
    warmup_days: int = bounded(0, lo=0, hi=365)
    warmup_start: int = bounded(20, lo=0, hi=1_000_000)
    # Typing like a person: the text goes in as words at this speed (characters a second,
    # with jitter), inside the delay between two sends; at most `typing_max` seconds.
    typing: bool = True
    typing_cps: float = bounded(8.0, above=0, hi=200)
    typing_max: float = bounded(6.0, lo=0, hi=120)
    # A text with a link: after typing, the click waits (at most this long) for WhatsApp's
    # preview of the link to show, so the message goes with it (0: never waits).
    link_preview_wait: float = bounded(4.0, lo=0, hi=60)
    # Account health (docs in config.toml): people the account never chatted with that it
    # may message a day (at least 1; known contacts do not count); the margin below
    # WhatsApp's unanswered-messages cap at which new contacts stop; how long a limit
    # whose end the page does not state lasts.
    new_contacts_per_day: int = bounded(20, lo=1, hi=1_000_000)
    unanswered_margin: int = bounded(10, lo=0, hi=100_000)
    limit_cooldown_hours: float = bounded(24.0, above=0, hi=30 * 24)

    def cap_today(self, first_sent_at: float | None, now: float) -> int:
        """Today's cap of an account that first sent at `first_sent_at` (None: not yet)."""
        return self.cap_on_day(day_number(first_sent_at, now))

    def cap_on_day(self, day: int) -> int:
        """The daily cap on the account's `day`-th day of sending (1 = its first); 0 = no cap."""
        if self.daily_cap <= 0 or self.warmup_days <= 0 or day >= self.warmup_days:
            return self.daily_cap
        start = min(self.warmup_start, self.daily_cap)
        return start + (self.daily_cap - start) * (max(day, 1) - 1) // (self.warmup_days - 1 or 1)

    def new_contacts_today(self, first_sent_at: float | None, now: float) -> int:
        """Today's budget of new contacts (people the account has no chat with) of an
        account that first sent at `first_sent_at`: the store's `claim(new_today=...)`."""
        return self.new_contacts_on_day(day_number(first_sent_at, now))

    def new_contacts_on_day(self, day: int) -> int:
        """The warm-up grows the new-contact budget as it grows the daily cap: in the same
        proportion (cap of the day / daily_cap), at least 1."""
        full = self.new_contacts_per_day
        if self.daily_cap <= 0 or self.warmup_days <= 0 or day >= self.warmup_days:
            return full
        return max(1, full * self.cap_on_day(day) // self.daily_cap)

    def limit_until(self, now: float, stated: float | None = None) -> float:
        """When a limit ends: the time the page stated, else now plus the cool-down."""
        return stated if stated is not None and stated > now else now + self.limit_cooldown_hours * 3600


def day_number(first: float | None, now: float) -> int:
    """Which local calendar day of sending `now` is, the day of `first` being day 1 (no
    first send yet: day 1)."""
    if first is None or first > now:
        return 1
    return (datetime.date.fromtimestamp(now) - datetime.date.fromtimestamp(first)).days + 1


@dataclass(frozen=True)
class WorkerSettings:
    """[worker]: how often the worker beats its heartbeat and looks for work."""

    heartbeat_interval: float = bounded(2.0, above=0, hi=5)
    poll_interval: float = bounded(1.0, above=0, hi=3600)


@dataclass(frozen=True)
class ReplySettings:
    """Reading what contacts answer (docs in config.toml)."""

    enabled: bool = True
    # Open unread chats to read every new message with its time. Opening a chat marks it
    # read, so the contact sees blue ticks, as when a person opens it. false: read only
    # the chat list's one-line preview of the newest message; nothing is marked read.
    open_chats: bool = True
    look_every: float = bounded(20.0, above=0, hi=DAY)  # seconds between two looks at the chat list
    budget: float = bounded(4.0, lo=0, hi=3600)  # a look starts only this long before a due send
    finished_days: float = bounded(7.0, lo=0, hi=365)  # replies to jobs finished this many days ago
    optout_words: tuple[str, ...] = DEFAULT_WORDS


@dataclass(frozen=True)
class HealSettings:
    """Self-repair of the selectors when WhatsApp Web changes its page (docs in config.toml)."""

    enabled: bool = True
    # A repair proves its candidates by sending this text to the account's own chat
    # ("Message yourself"); never to a contact.
    probe_text: str = "wa-sender self-check ✓"
    max_probes_per_hour: int = bounded(3, lo=0, hi=60)
    # The account's own number for the probe (E.164, e.g. "+5511987654321"); empty: the
    # number WhatsApp Web keeps for the logged-in account. [[accounts]] tables may set theirs.
    own_number: str = ""


@dataclass(frozen=True)
class SupervisorSettings:
    """[supervisor]: restarts and their backoff, when a worker counts as hung or too big."""

    start_seconds: float = bounded(10.0, lo=0, hi=DAY)
    backoff_initial: float = bounded(1.0, lo=0, hi=DAY)
    backoff_max: float = bounded(60.0, above=0, hi=DAY)
    max_restarts: int = bounded(5, lo=0, hi=1_000_000)
    restart_period: float = bounded(300.0, above=0, hi=30 * DAY)
    stable_seconds: float = bounded(120.0, lo=0, hi=30 * DAY)
    stop_timeout: float = bounded(10.0, above=0, hi=DAY)
    heartbeat_timeout: float = bounded(120.0, above=0, hi=DAY)
    memory_limit_mb: int = bounded(1500, lo=0, hi=1_000_000)


@dataclass(frozen=True)
class DashboardSettings:
    """[dashboard]: how the dashboard draws things."""

    # How the login QR is drawn: "auto" (half blocks when they fit, else sextants),
    # "half" or "sextant".
    qr_style: str = bounded("auto", choices=("auto", "half", "sextant"))


@dataclass(frozen=True)
class ApiSettings:
    """`python tui.py serve`: the HTTP API (docs/api.md)."""

    enabled: bool = False  # the supervisor runs `serve` as one of its programs
    host: str = "127.0.0.1"
    port: int = bounded(8080, lo=1, hi=65535)
    allow_remote: bool = False  # a host other than loopback must be allowed here (or --allow-remote)
    token_file: Path = Path("data/api_token")
    upload_dir: Path = Path("data/uploads")  # attachments sent with POST /send
    max_upload_mb: int = bounded(64, lo=1, hi=2248)  # one request's body


@dataclass(frozen=True)
class WebhookSettings:
    """One `[[webhooks]]` table: where events are POSTed, which ones, signed with what."""

    url: str
    secret: str
    events: tuple[str, ...] = EVENTS


@dataclass(frozen=True)
class DeliverySettings:
    """How the outbox delivers to webhooks and the alert command."""

    retry_first: float = bounded(5.0, above=0, hi=3600)
    retry_max: float = bounded(300.0, above=0, hi=DAY)
    attempts: int = bounded(10, lo=1, hi=100)
    timeout: float = bounded(10.0, above=0, hi=300)
    keep_days: float = bounded(7.0, above=0, hi=365)


@dataclass(frozen=True)
class AlertSettings:
    """`[alerts]`: a command that gets each event as JSON on stdin ("": none)."""

    command: str = ""
    events: tuple[str, ...] = DEFAULT_ALERTS
    logged_out_after_minutes: float = bounded(10.0, lo=0, hi=7 * 24 * 60)
    timeout: float = bounded(30.0, above=0, hi=3600)


DEFAULT_ACCOUNT = "default"
ACCOUNT_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
# [sending] keys an [[accounts]] table may override for its account.
ACCOUNT_OVERRIDES = (
    "delay_min",
    "delay_max",
    "long_pause_every",
    "long_pause_min",
    "long_pause_max",
    "daily_cap",
    "window_start",
    "window_end",
    "warmup_days",
    "warmup_start",
    "new_contacts_per_day",
    "unanswered_margin",
)


@dataclass(frozen=True)
class AccountSettings:
    """One WhatsApp account: its own browser profile (its login), worker and limits."""

    name: str
    profile_dir: Path
    enabled: bool = True
    # Overrides of [sending] (ACCOUNT_OVERRIDES), each of its field's type, checked by the
    # parser; Any because each key has its own type (they go to dataclasses.replace).
    sending: dict[str, Any] = field(default_factory=dict)
    own_number: str = ""  # for the self-repair probe (else [heal] own_number, else the page's)


_LABEL_RE = re.compile(r"\{([^{}]+)\}")


def resolve_selectors(selectors: dict[str, tuple[str, ...]], words: dict[str, str]) -> dict[str, tuple[str, ...]]:
    """Each {Label} filled in with the page's word; the English word is tried after it."""
    out: dict[str, tuple[str, ...]] = {}
    for key, values in selectors.items():
        resolved: list[str] = []
        for sel in values:
            variants = [
                _LABEL_RE.sub(lambda m: words.get(m.group(1), m.group(1)), sel),
                _LABEL_RE.sub(lambda m: m.group(1), sel),
            ]
            for v in variants:
                if v not in resolved:
                    resolved.append(v)
        out[key] = tuple(resolved)
    return out


def labels_in(selector: str) -> list[str]:
    """The {Label} words a selector names."""
    return _LABEL_RE.findall(selector)


@dataclass(frozen=True)
class Config:
    """The whole config file, or one account's view of it (`for_account`)."""

    path: Path | None = None
    paths: PathSettings = field(default_factory=PathSettings)
    browser: BrowserSettings = field(default_factory=BrowserSettings)
    sending: SendingSettings = field(default_factory=SendingSettings)
    worker: WorkerSettings = field(default_factory=WorkerSettings)
    supervisor: SupervisorSettings = field(default_factory=SupervisorSettings)
    selectors: dict[str, tuple[str, ...]] = field(default_factory=lambda: dict(knowledge.DEFAULT_SELECTORS))
    # Words added or corrected by `[labels.LANG]` tables: {lang: {label: text}}.
    labels: dict[str, dict[str, str]] = field(default_factory=dict)
    dashboard: DashboardSettings = field(default_factory=DashboardSettings)
    replies: ReplySettings = field(default_factory=ReplySettings)
    heal: HealSettings = field(default_factory=HealSettings)
    # [[accounts]]; without any, one account "default" on [browser] profile_dir.
    accounts: tuple[AccountSettings, ...] = ()
    # The account this config is narrowed to (`for_account`); None: the whole file.
    account: str | None = None
    api: ApiSettings = field(default_factory=ApiSettings)
    webhooks: tuple[WebhookSettings, ...] = ()
    delivery: DeliverySettings = field(default_factory=DeliverySettings)
    alerts: AlertSettings = field(default_factory=AlertSettings)

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
        raise ConfigError(f"{self.path or 'config'}: no account {name!r} (accounts: {', '.join(self.account_names())})")

    def for_account(self, name: str | None = None) -> Config:
        """This config as one account's worker sees it: its profile, its limits, its number."""
        acc = self.get_account(name or self.all_accounts()[0].name)
        return dataclasses.replace(
            self,
            account=acc.name,
            browser=dataclasses.replace(self.browser, profile_dir=acc.profile_dir),
            sending=dataclasses.replace(self.sending, **acc.sending),
            heal=dataclasses.replace(self.heal, own_number=acc.own_number or self.heal.own_number),
        )

    @property
    def account_name(self) -> str:
        return self.account or self.all_accounts()[0].name

    def words(self) -> dict[str, str]:
        """The UI words of the configured language: {English label: text on the page}."""
        lang = self.browser.language
        known = knowledge.LANGUAGES.get(lang, {}).get("labels", {})
        words = {label: known.get(label, label) for label in knowledge.LABELS}
        words.update(dict(self.labels.get(lang, {}).items()))
        return words

    def date_order(self) -> str:
        """How bubble dates are written in the configured language: "MDY" or "DMY"."""
        lang = self.browser.language
        if lang in knowledge.LANGUAGES:
            return str(knowledge.LANGUAGES[lang]["date_order"])
        return "MDY" if lang in ("en-US", "en-PH", "es-US") else "DMY"

    def resolved_selectors(self) -> dict[str, tuple[str, ...]]:
        """The selectors with every {Label} in the page's words; a word that differs from
        English is tried first and the English one after it (pages that stay English)."""
        return resolve_selectors(self.selectors, self.words())

    def with_database(self, db: str | Path) -> Config:
        from common import dburl

        return dataclasses.replace(self, paths=dataclasses.replace(self.paths, database=dburl.normalize(db)))


# The plain sections of the file: [name] -> its dataclass.
SECTIONS: dict[str, type[DataclassInstance]] = {
    "paths": PathSettings,
    "browser": BrowserSettings,
    "sending": SendingSettings,
    "worker": WorkerSettings,
    "supervisor": SupervisorSettings,
    "dashboard": DashboardSettings,
    "replies": ReplySettings,
    "heal": HealSettings,
    "api": ApiSettings,
    "delivery": DeliverySettings,
    "alerts": AlertSettings,
}
