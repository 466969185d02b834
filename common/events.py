"""The names other systems hear (webhooks, the alert command): one list, shared by the
settings (which check `[[webhooks]] events` and `[alerts] events`) and the store (whose
table `store.outbox.HOOKS` says which of its event kinds becomes which of these).

Imports nothing of the product."""

from __future__ import annotations

MESSAGE_SENT = "message.sent"
MESSAGE_FAILED = "message.failed"
MESSAGE_UNKNOWN = "message.unknown"
MESSAGE_REPLY = "message.reply"
CONTACT_OPTOUT = "contact.optout"
JOB_FINISHED = "job.finished"
ACCOUNT_STATE = "account.state"
WORKER_FATAL = "worker.fatal"

EVENTS = (
    MESSAGE_SENT,
    MESSAGE_FAILED,
    MESSAGE_UNKNOWN,
    MESSAGE_REPLY,
    CONTACT_OPTOUT,
    JOB_FINISHED,
    ACCOUNT_STATE,
    WORKER_FATAL,
)

# The `state` of an `account.state` event: the login, the worker, a stopped line and its
# repair, and the account limits WhatsApp puts on an account (limited_new, restricted,
# banned) and their end (limit_lifted).
ACCOUNT_STATES = (
    "logged_in",
    "logged_out",
    "offline",
    "online",
    "needs_attention",
    "attention_cleared",
    "repaired",
    "repair_failed",
    "limited_new",
    "restricted",
    "banned",
    "limit_lifted",
    "worker_crash",
    "worker_stopped",
)

# What the alert command hears by default: every event a person must act on. An alert
# event is an event name, or `account.STATE` for one account state.
DEFAULT_ALERTS = (
    "account.needs_attention",
    "account.repair_failed",
    "account.logged_out",
    "account.limited_new",
    "account.restricted",
    "account.banned",
    WORKER_FATAL,
    JOB_FINISHED,
)


def topics(event: str, state: str | None = None) -> tuple[str, ...]:
    """The names an event answers to in an events list: its own, and `account.STATE`."""
    if event == ACCOUNT_STATE and state:
        return (event, f"account.{state}")
    return (event,)


def known_topic(name: str) -> bool:
    return name in EVENTS or (name.startswith("account.") and name[len("account.") :] in ACCOUNT_STATES)
