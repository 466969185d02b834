"""Stop the line, don't burn the list.

When the same selector key fails on `sending.attention_after` messages in a row (also
when a fallback in code saved the message: the page changed under us), the worker stops
sending and waits in `needs_attention`, naming the key and the saved page. The attempts
those messages used are given back. The state is kept in the store (document
`attention:ACCOUNT`: each account's page may change on its own day), so a restart
does not start burning again; it ends when a person clears
it (`python tui.py attention --clear`, or the dashboard) or when that key's selectors in
the config change.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .runner import Worker

log = logging.getLogger("worker")


def what_to_do(key: str) -> str:
    return (
        f"fix [selectors] {key} in config.toml (python tui.py doctor finds working ones); the worker "
        "restarts by itself when the file changes. To try again unchanged: python tui.py attention --clear"
    )


class Attention:
    def __init__(self, worker: Worker) -> None:
        self.w = worker
        self.streaks: dict[str, list[int]] = {}
        self.details: dict[str, str] = {}

    def record(self, mid: int, failed: dict[str, str]) -> None:
        """One message is done: `failed` are the keys that failed on it (key -> what)."""
        for key in list(self.streaks):
            if key not in failed:
                del self.streaks[key]
        for key, detail in failed.items():
            self.streaks.setdefault(key, []).append(mid)  # a message tried twice counts twice here
            self.details[key] = detail
        limit = self.w.cfg.sending.attention_after
        for key, ids in self.streaks.items():
            if len(set(ids)) >= limit:
                self.stop_the_line(key, ids)
                self.streaks.clear()
                return

    def stop_the_line(self, key: str, ids: list[int]) -> None:
        w = self.w
        counts = {mid: ids.count(mid) for mid in ids}
        messages = list(counts)
        given = w.store.give_back(
            counts, f"attempts given back: selector {key!r} failed on {len(messages)} messages in a row"
        )
        doc = {
            "key": key,
            "detail": self.details.get(key, ""),
            "dump": w.page.last_dump if w.page is not None else None,
            "messages": messages,
            "given_back": given,
            "since": time.time(),
            "worker": w.id,
            "selectors": list(w.cfg.selectors.get(key, ())),
        }
        w.store.put_attention(w.account, doc)
        w.store.log_event(
            "needs_attention",
            f"selector {key!r} failed on {len(messages)} messages in a row: sending stopped; {what_to_do(key)}",
            level="error",
        )
        log.error(
            "needs attention: selector %r failed on %d messages in a row (%s); %s",
            key,
            len(messages),
            doc["detail"],
            what_to_do(key),
        )

    def current(self) -> dict[str, Any] | None:
        try:
            return self.w.store.get_attention(self.w.account)
        except Exception:  # a busy database: look again next time
            return None

    def clear_if_fixed(self) -> None:
        """At start: a stop whose key's selectors have changed since is over."""
        doc = self.current()
        if doc is None:
            return
        now = list(self.w.cfg.selectors.get(doc["key"], ()))
        if now != doc.get("selectors"):
            self.w.store.clear_attention(self.w.account, why=f"selectors of {doc['key']!r} changed: sending again")
            log.info("selectors of %r changed since the stop: sending again", doc["key"])

    def describe(self, doc: dict[str, Any]) -> str:
        dump = f"; page saved as {doc['dump']}.html" if doc.get("dump") else ""
        return (
            f"selector {doc['key']!r} failed on {len(doc.get('messages', []))} messages in a row{dump}; "
            f"{what_to_do(doc['key'])}"
        )
