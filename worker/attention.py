"""Stop the line, don't burn the list.

When the same selector key fails on `sending.attention_after` messages in a row (also when
reading the page by meaning saved the message: the page changed under us), the worker
stops sending and waits in `needs_attention`, naming the key and what it saw ("our bubble
with this text is there; its status element (label ' Sent ') matches none of msg_pending /
msg_ack") and the saved page. The attempts those messages used are given back. The state
is kept in the store (document `attention:ACCOUNT`: each account's page may change on its
own day), so a restart does not start burning again. It ends when the selectors are
repaired (by the worker itself, worker/heal.py, or by a person), or when a person clears it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from .context import WorkerContext

log = logging.getLogger("worker")

# Which failing key a stop names first when several fail on the same messages: the most
# specific one (a status icon that changed breaks the row selector built on it too).
PRIORITY = (
    "msg_ack",
    "msg_pending",
    "message_text",
    "message_meta",
    "send_button",
    "media_send",
    "compose_box",
    "caption_box",
    "attach_button",
    "media_input",
    "document_input",
    "outgoing_message",
    "message_row",
    "chat_open",
)


def what_to_do(key: str, heal: bool) -> str:
    if heal:
        return (
            f"the worker repairs [selectors] {key} by itself (a probe on the account's own chat); if that "
            "fails it says why. By hand: python tui.py doctor --probe --write, or python tui.py attention --clear"
        )
    return (
        f"fix [selectors] {key} in config.toml (python tui.py doctor finds working ones); the worker "
        "restarts by itself when the file changes. To try again unchanged: python tui.py attention --clear"
    )


class Attention:
    """Counts, per selector key, the messages in a row it failed on; stops the line at the limit."""

    def __init__(self, ctx: WorkerContext, limit_check: Callable[[], str | None] | None = None) -> None:
        self.ctx = ctx
        self.streaks: dict[str, list[int]] = {}
        self.details: dict[str, str] = {}
        # Asked before the line stops: a limit WhatsApp put on the account explains the
        # failures (worker/health.py); it is never a broken selector.
        self.limit_check = limit_check

    def record(self, mid: int, failed: dict[str, str]) -> dict[str, Any] | None:
        """One message is done: `failed` are the keys that failed on it (key -> what).
        Returns the stop's document when this message stopped the line."""
        for key in list(self.streaks):
            if key not in failed:
                del self.streaks[key]
        for key, detail in failed.items():
            self.streaks.setdefault(key, []).append(mid)  # a message tried twice counts twice here
            self.details[key] = detail
        limit = self.ctx.cfg.sending.attention_after
        due = [k for k, ids in self.streaks.items() if len(set(ids)) >= limit]
        if not due:
            return None
        key = min(due, key=lambda k: (PRIORITY.index(k) if k in PRIORITY else len(PRIORITY), k))
        why = self.limit_check() if self.limit_check is not None else None
        if why:
            ids = self.streaks[key]
            self.ctx.store.give_back(
                {mid: ids.count(mid) for mid in ids}, f"attempts given back: not a selector problem, {why}"
            )
            log.warning("selector %r failed on %d messages, but %s: no line stop", key, len(set(ids)), why)
            self.streaks.clear()
            return None
        doc = self.stop_the_line(key, self.streaks[key])
        self.streaks.clear()
        return doc

    def stop_the_line(self, key: str, ids: list[int]) -> dict[str, Any]:
        """Stop sending: give back the attempts the failing key used, record the stop (its
        keys, what they saw, the saved page) and its event."""
        ctx = self.ctx
        counts = {mid: ids.count(mid) for mid in ids}
        messages = list(counts)
        failing = {k: self.details.get(k, "") for k, v in self.streaks.items() if set(v) & set(messages)}
        given = ctx.store.give_back(
            counts, f"attempts given back: selector {key!r} failed on {len(messages)} messages in a row"
        )
        page = ctx.page
        doc: dict[str, Any] = {
            "key": key,
            "keys": failing,
            "detail": self.details.get(key, ""),
            "dump": page.last_dump if page is not None else None,
            "messages": messages,
            "given_back": given,
            "since": time.time(),
            "worker": ctx.worker_id,
            "selectors": {k: list(ctx.cfg.selectors.get(k, ())) for k in failing},
        }
        heal = ctx.cfg.heal.enabled
        ctx.store.put_attention(ctx.account, doc)
        ctx.store.log_event(
            "needs_attention",
            f"account {ctx.account}: selector {key!r} failed on {len(messages)} messages in a row "
            f"({doc['detail']}): sending stopped; {what_to_do(key, heal)}",
            level="error",
        )
        log.error(
            "needs attention: selector %r failed on %d messages in a row (%s); %s",
            key,
            len(messages),
            doc["detail"],
            what_to_do(key, heal),
        )
        return doc

    def current(self) -> dict[str, Any] | None:
        try:
            doc = self.ctx.store.get_attention(self.ctx.account)
        except Exception:  # a busy database: look again next time
            return None
        return doc if isinstance(doc, dict) else None

    def clear_if_fixed(self) -> None:
        """At start: a stop whose keys' selectors have changed since is over."""
        doc = self.current()
        if doc is None:
            return
        before = doc.get("selectors")
        if isinstance(before, list):  # a stop written by an older worker: one key's list
            before = {doc["key"]: before}
        now = {k: list(self.ctx.cfg.selectors.get(k, ())) for k in (before or {})}
        if before and now != before:
            self.ctx.store.clear_attention(self.ctx.account, why=f"selectors of {doc['key']!r} changed: sending again")
            log.info("selectors of %r changed since the stop: sending again", doc["key"])

    @staticmethod
    def describe(doc: dict[str, Any]) -> str:
        """The one line `status`, the dashboard and the log show for a stop."""
        dump = f"; page saved as {doc['dump']}.html" if doc.get("dump") else ""
        heal = doc.get("heal") or {}
        head = (
            f"selector {doc['key']!r} failed on {len(doc.get('messages', []))} messages in a row "
            f"({doc.get('detail') or 'no detail'}){dump}"
        )
        if heal.get("state") == "failed":
            return f"{head}; self-repair failed: {heal.get('reason')}"
        if heal.get("state") == "running":
            return f"{head}; repairing itself (probe on the account's own chat)"
        return f"{head}; {what_to_do(doc['key'], bool(heal.get('enabled', True)))}"
