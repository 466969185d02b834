"""Job and message states and the only legal moves between them.

Every status change in the project goes through `check_message` / `check_job` (the
store calls them), so an illegal move raises instead of silently corrupting a job.
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
    PAUSED = "paused"  # a pause file
    NEEDS_ATTENTION = "needs_attention"  # the line stopped on a failing selector
    REPAIRING = "repairing"  # self-repair of the selectors is under way
    HELD = "held"  # the browser is lent to the selector doctor
    STOPPING = "stopping"
    STOPPED = "stopped"  # written by the store when the worker ends
