"""What the store's reads return: small typed records, one per kind of row.

Attributes are typed (`job.status` is a `JobStatus`, `message.columns` a dict); each
record also reads like the mapping it replaced (`row["status"]`, `row.get("name")`,
`dict(row)`), so callers move to attributes at their own pace, and `to_dict()` /
`jsonable` give plain JSON.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar

from .states import AccountHealth, JobStatus, MessageStatus

R = TypeVar("R", bound="Record")


class Record:
    """A dataclass that reads like a dict."""

    _names: ClassVar[frozenset[str]]

    @classmethod
    def of(cls: type[R], row: Mapping[str, Any]) -> R:
        """From a database row; columns this record does not know are left out (a newer schema)."""
        names = cls.field_names()
        return cls(**{k: v for k, v in row.items() if k in names})

    @classmethod
    def field_names(cls) -> frozenset[str]:
        names = cls.__dict__.get("_names")
        if names is None:
            names = frozenset(f.name for f in dataclasses.fields(cls))  # type: ignore[arg-type]
            cls._names = names
        return names

    # The mapping face.
    def __getitem__(self, key: str) -> Any:
        if key not in self.field_names():
            raise KeyError(key)
        return getattr(self, key)

    def __setitem__(self, key: str, value: Any) -> None:
        if key not in self.field_names():
            raise KeyError(f"{type(self).__name__} has no field {key!r}")
        setattr(self, key, value)

    def get(self, key: str, default: Any = None) -> Any:
        return getattr(self, key) if key in self.field_names() else default

    def keys(self) -> list[str]:
        return [f.name for f in dataclasses.fields(self)]  # type: ignore[arg-type]

    def values(self) -> list[Any]:
        return [getattr(self, k) for k in self.keys()]

    def items(self) -> list[tuple[str, Any]]:
        return [(k, getattr(self, k)) for k in self.keys()]

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys())

    def __len__(self) -> int:
        return len(self.keys())

    def __contains__(self, key: object) -> bool:
        return key in self.field_names()

    def to_dict(self) -> dict[str, Any]:
        return {k: jsonable(v) for k, v in self.items()}


def jsonable(value: Any) -> Any:
    """Plain JSON values (a `json.dumps(default=...)` hook too)."""
    if isinstance(value, Record):
        return value.to_dict()
    if isinstance(value, (JobStatus, MessageStatus, AccountHealth)):
        return str(value)
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    return value


def _job_status(value: Any) -> JobStatus:
    return JobStatus(value)


def _message_status(value: Any) -> MessageStatus | None:
    return None if value is None else MessageStatus(value)


@dataclass(eq=True)
class Job(Record):
    """A job with its counts by status, its accounts and its reply figures."""

    id: int
    name: str
    status: JobStatus
    template: str
    attachment: str | None = None
    source_file: str | None = None
    created_at: float = 0.0
    start_at: float | None = None
    started_at: float | None = None
    finished_at: float | None = None
    total: int = 0
    counts: dict[str, int] = field(default_factory=dict)  # messages by status
    accounts: list[str] = field(default_factory=list)  # who may send it (none: any account)
    replied: int = 0  # numbers that answered
    optouts: int = 0  # numbers that opted out by reply
    unclear: int = 0  # replies flagged for a look
    # Each contact's local hours: the window ("09:00-20:00"; None: any time) and the job's
    # zone; queued messages whose window is closed now (waiting for their morning) and
    # when the first of them opens.
    window: str | None = None
    timezone: str | None = None
    waiting: int = 0
    opens_at: float | None = None

    @property
    def reply_rate(self) -> float | None:
        """Numbers that answered per message sent (None before the first send)."""
        sent = self.counts.get("sent", 0)
        return self.replied / sent if sent else None

    def __post_init__(self) -> None:
        self.status = _job_status(self.status)


@dataclass(eq=True)
class Message(Record):
    """A message row; reads of part of the row (a page, the in-flight list) leave the rest None."""

    id: int
    job_id: int | None = None
    phone: str | None = None
    name: str | None = None
    columns: dict[str, Any] | None = None
    text: str | None = None
    attachment: str | None = None
    status: MessageStatus | None = None
    attempts: int | None = None
    next_attempt_at: float | None = None
    last_error: str | None = None
    claimed_by: str | None = None
    account: str | None = None
    claimed_at: float | None = None
    clicked_at: float | None = None
    sent_at: float | None = None
    updated_at: float | None = None
    requeues: int | None = None
    verify_tries: int | None = None
    review: str | None = None
    tz: int | None = None  # the contact's zone set in its job (`Store.job_zones`); 0: none

    def __post_init__(self) -> None:
        self.status = _message_status(self.status)


@dataclass(eq=True)
class Claim(Record):
    """A message just claimed: what the worker needs to send it."""

    id: int
    job_id: int
    phone: str
    name: str | None
    text: str
    attachment: str | None
    attempts: int
    claimed_at: float
    account: str
    known: bool = False  # the claiming account knows the contact (a chat exists); else a new contact


@dataclass(eq=True)
class Event(Record):
    """One line of the events log."""

    id: int
    at: float
    level: str
    kind: str
    job_id: int | None
    message_id: int | None
    text: str


@dataclass(eq=True)
class WorkerRow(Record):
    """A worker's row: its state, heartbeat, current message, QR string and figures."""

    id: str
    pid: int
    started_at: float
    heartbeat_at: float | None = None
    state: str = "starting"
    current_message_id: int | None = None
    qr: str | None = None
    browser_pids: list[int] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)
    stopped_at: float | None = None
    account: str | None = None
    host: str | None = None


@dataclass(eq=True)
class Account(Record):
    """A WhatsApp account as the store knows it: enabled, its login, its first send."""

    name: str
    enabled: int = 1
    login: str = "unknown"
    login_at: float | None = None
    first_sent_at: float | None = None
    updated_at: float = 0.0
    slot: int = 0  # its number in lanes (store.lanes)
    limit_state: str = ""  # '' none, limited_new, restricted, banned (states.LIMIT_MOVES)
    limit_until: float | None = None
    limit_reason: str | None = None
    limit_since: float | None = None
    unanswered: int | None = None  # WhatsApp's count of unanswered messages to new people
    unanswered_cap: int | None = None
    unanswered_at: float | None = None
    new_day: float | None = None  # the local midnight new_sent counts from
    new_sent: int = 0  # new contacts sent to that day


@dataclass(eq=True)
class AccountLimit(Record):
    """A limit WhatsApp put on an account, as `Store.account_limit` gives it."""

    account: str
    state: str  # limited_new, restricted, banned
    until: float | None = None  # None: until lifted (a ban: for good)
    reason: str = ""
    since: float | None = None


@dataclass(eq=True)
class OptOut(Record):
    """A number that must never be messaged, with when and why."""

    phone: str
    added_at: float
    reason: str | None = None


@dataclass(eq=True)
class Reply(Record):
    """An incoming message: what a contact answered."""

    id: int
    account: str
    phone: str
    wa_id: str
    message_id: int | None = None
    job_id: int | None = None
    text: str | None = None
    kind: str = "text"  # text, image, video, audio, document, sticker
    attachment_name: str | None = None
    at: float | None = None  # its time in the chat (minute precision), if read
    read_at: float = 0.0
    flag: str | None = None  # optout, unclear, None


@dataclass(eq=True)
class OutboxEvent(Record):
    """An event waiting in the outbox for its webhooks (and the alert command)."""

    id: int
    uid: str
    at: float
    event: str
    account: str | None = None
    job_id: int | None = None
    message_id: int | None = None
    payload: dict[str, Any] = field(default_factory=dict)


@dataclass(eq=True)
class Delivery(Record):
    """One event to one target: claimed by a deliverer, or a dead letter."""

    id: int
    target: str
    outbox_id: int
    lane: str
    status: str = "pending"  # pending, delivering, done, dead
    attempts: int = 0
    next_at: float = 0.0
    claimed_by: str | None = None
    claimed_at: float | None = None
    last_error: str | None = None
    done_at: float | None = None
    uid: str = ""
    at: float = 0.0
    event: str = ""
    account: str | None = None
    payload: dict[str, Any] = field(default_factory=dict)
