"""Job and message states, the account limits, and the only legal moves between them.

Every status change in the project goes through `check_message` / `check_job` /
`check_limit` (the store calls them), so an illegal move raises instead of silently
corrupting a job or an account.
"""

from __future__ import annotations

from enum import StrEnum


class IllegalTransition(Exception):
    """A status change that the state machine forbids."""


class _Status(StrEnum):
    """Equal to its text (stored as it, compared with it), shown as it."""

    def __repr__(self) -> str:
        return repr(self.value)


class MessageStatus(_Status):
    """Message states (docs/design.md, "States")."""

    PENDING = "pending"
    SENDING = "sending"  # claimed and committed; the send click may happen any moment
    SENT = "sent"
    RETRYING = "retrying"  # failed before the click; will be tried again
    FAILED = "failed"  # out of attempts
    INVALID = "invalid"  # number not on WhatsApp
    SKIPPED = "skipped"  # opted out
    UNKNOWN = "unknown"  # the click happened but no tick confirmed it


class JobStatus(_Status):
    """Job states (docs/design.md, "States")."""

    PENDING = "pending"
    RUNNING = "running"
    PAUSED = "paused"
    WAITING = "waiting_for_login"
    COMPLETED = "completed"
    STOPPED = "stopped"
    FAILED = "failed"


PENDING, SENDING, SENT, RETRYING = (
    MessageStatus.PENDING,
    MessageStatus.SENDING,
    MessageStatus.SENT,
    MessageStatus.RETRYING,
)
FAILED, INVALID, SKIPPED, UNKNOWN = (
    MessageStatus.FAILED,
    MessageStatus.INVALID,
    MessageStatus.SKIPPED,
    MessageStatus.UNKNOWN,
)

MESSAGE_STATES = tuple(MessageStatus)
QUEUED = (PENDING, RETRYING)
IN_FLIGHT = (SENDING, UNKNOWN)
OPEN = (PENDING, RETRYING, SENDING, UNKNOWN)  # a job with any of these is not finished

MESSAGE_MOVES: dict[str, frozenset[str]] = {
    PENDING: frozenset({SENDING, SKIPPED}),
    # RETRYING -> PENDING: attempts given back (a page change, not the message, failed them).
    RETRYING: frozenset({SENDING, SKIPPED, PENDING}),
    # PENDING/RETRYING from SENDING: released before the click (pause, logout, shutdown)
    # or verified as not sent after a crash.
    SENDING: frozenset({SENT, RETRYING, FAILED, INVALID, UNKNOWN, PENDING}),
    # UNKNOWN is settled only by verification (found in the chat, or proven absent and
    # queued again) or by a person's decision (`review --mark-sent / --resend`).
    UNKNOWN: frozenset({SENT, PENDING}),
    FAILED: frozenset({PENDING}),  # retried by hand
    SENT: frozenset(),
    INVALID: frozenset(),
    SKIPPED: frozenset(),
}

JOB_PENDING, JOB_RUNNING, JOB_PAUSED, JOB_WAITING = (
    JobStatus.PENDING,
    JobStatus.RUNNING,
    JobStatus.PAUSED,
    JobStatus.WAITING,
)
JOB_COMPLETED, JOB_STOPPED, JOB_FAILED = JobStatus.COMPLETED, JobStatus.STOPPED, JobStatus.FAILED

JOB_MOVES: dict[str, frozenset[str]] = {
    JOB_PENDING: frozenset({JOB_RUNNING, JOB_PAUSED, JOB_STOPPED}),
    JOB_RUNNING: frozenset({JOB_PAUSED, JOB_WAITING, JOB_COMPLETED, JOB_STOPPED, JOB_FAILED}),
    JOB_PAUSED: frozenset({JOB_RUNNING, JOB_STOPPED}),
    JOB_WAITING: frozenset({JOB_RUNNING, JOB_PAUSED, JOB_STOPPED}),
    # A finished job runs again when messages are put back in its queue (retry failed).
    JOB_COMPLETED: frozenset({JOB_RUNNING}),
    JOB_FAILED: frozenset({JOB_RUNNING, JOB_STOPPED}),
    JOB_STOPPED: frozenset(),
}


# For each status, the statuses a message may come to it from (MESSAGE_MOVES read backwards):
# a move is then one conditional UPDATE (`Store._move`).
MESSAGE_SOURCES: dict[str, frozenset[str]] = {
    new: frozenset(old for old, targets in MESSAGE_MOVES.items() if new in targets)
    for new in {t for targets in MESSAGE_MOVES.values() for t in targets}
}


def check_message(current: str, new: str) -> None:
    if new not in MESSAGE_MOVES.get(current, ()):
        raise IllegalTransition(f"message cannot go from {current!r} to {new!r}")


def check_job(current: str, new: str) -> None:
    if new not in JOB_MOVES.get(current, ()):
        raise IllegalTransition(f"job cannot go from {current!r} to {new!r}")


class WorkerState(_Status):
    """What a worker is doing, as its row in the store says (the dashboard, `status` and the
    supervisor's overview read it). The worker sets no state outside this list."""

    STARTING = "starting"
    BOOTING = "booting"  # the browser or WhatsApp Web is starting
    WAITING_FOR_LOGIN = "waiting_for_login"  # the QR code is shown
    PHONE_DISCONNECTED = "phone_disconnected"
    OFFLINE = "offline"  # this computer cannot reach WhatsApp Web
    SENDING = "sending"  # a message (or a verification) is under way
    WAITING = "waiting"  # for the next send's time (pacing)
    READING_REPLIES = "reading_replies"
    IDLE = "idle"  # nothing to send now
    OUTSIDE_WINDOW = "outside_window"  # the sending window is closed
    DAILY_CAP = "daily_cap"  # the account's cap for today is reached
    RESTRICTED = "restricted"  # WhatsApp lets the account send nothing until a time
    BANNED = "banned"  # WhatsApp banned the number: the worker sends nothing, for good
    PAUSED = "paused"  # a pause file
    NEEDS_ATTENTION = "needs_attention"  # the line stopped on a failing selector
    REPAIRING = "repairing"  # self-repair of the selectors is under way
    HELD = "held"  # the browser is lent to the selector doctor
    STOPPING = "stopping"
    STOPPED = "stopped"  # written by the store when the worker ends


class AccountHealth(_Status):
    """An account as people see it (DESIGN.md, "Data"): its limit if WhatsApp put one on
    it, else what its worker saw (`shown_health` decides)."""

    LOGGED_IN = "logged_in"
    LOGGED_OUT = "logged_out"
    UNKNOWN = "unknown"  # no worker has looked yet (the login column's first value)
    OFFLINE = "offline"  # this computer cannot reach WhatsApp Web
    NEEDS_ATTENTION = "needs_attention"  # sending stopped on a failing selector
    LIMITED_NEW = "limited_new"  # new people refused: known contacts only, the rest held
    RESTRICTED = "restricted"  # nothing can be sent until a time
    BANNED = "banned"  # for good


NO_LIMIT = ""  # the limit column of an account WhatsApp has not limited
LIMITED_NEW, RESTRICTED, BANNED = AccountHealth.LIMITED_NEW, AccountHealth.RESTRICTED, AccountHealth.BANNED
LIMITS = (LIMITED_NEW, RESTRICTED, BANNED)
BLOCKING = (RESTRICTED, BANNED)  # its queued messages are not claimed by it

# The account's limit (its own column beside the login): the only legal moves. A limit set
# again (same state) renews its end and reason. A ban is for good: only a person lifts it
# (`PERSON_MOVES`, `python tui.py accounts lift NAME`), never the worker or a timer.
LIMIT_MOVES: dict[str, frozenset[str]] = {
    NO_LIMIT: frozenset({LIMITED_NEW, RESTRICTED, BANNED}),
    LIMITED_NEW: frozenset({LIMITED_NEW, RESTRICTED, BANNED, NO_LIMIT}),
    RESTRICTED: frozenset({RESTRICTED, LIMITED_NEW, BANNED, NO_LIMIT}),
    BANNED: frozenset(),
}
PERSON_MOVES: dict[str, frozenset[str]] = {BANNED: frozenset({NO_LIMIT})}


def check_limit(current: str, new: str, *, person: bool = False) -> None:
    if new in LIMIT_MOVES.get(current, ()) or (person and new in PERSON_MOVES.get(current, ())):
        return
    raise IllegalTransition(f"account limit cannot go from {_limit_name(current)} to {_limit_name(new)}")


def _limit_name(state: str) -> str:
    return repr(str(state)) if state else "no limit"


def limit_in_force(state: str | None, until: float | None, now: float) -> str:
    """The limit that holds at `now` (NO_LIMIT when none, or when its end has passed; a
    ban has no end)."""
    if not state:
        return NO_LIMIT
    if state == BANNED or until is None or until > now:
        return state
    return NO_LIMIT


def shown_health(
    login: str | None,
    limit_state: str | None,
    limit_until: float | None,
    *,
    now: float,
    attention: bool = False,
    offline: bool = False,
) -> AccountHealth:
    """The one health an account shows: banned > restricted > limited_new > needs
    attention (a stopped line) > logged out > offline > logged in > unknown."""
    limit = limit_in_force(limit_state, limit_until, now)
    if limit:
        return AccountHealth(limit)
    if attention:
        return AccountHealth.NEEDS_ATTENTION
    if login == "logged_out":
        return AccountHealth.LOGGED_OUT
    if offline:
        return AccountHealth.OFFLINE
    if login == "logged_in":
        return AccountHealth.LOGGED_IN
    return AccountHealth.UNKNOWN
