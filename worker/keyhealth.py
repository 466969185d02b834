"""No silent zero outside the sending line: a selector key that matches nothing where the
page plainly has the thing while the worker reads replies (`message_row` while bubbles are
shown, `chat_list_item` while the chat list shows chats, `incoming_message` in a chat whose
rows name another sender) is logged once, counted (the heartbeat's `key_failures`), and
after `sending.attention_after` looks in a row handed to the healer. Reading goes on by
meaning meanwhile, so no reply and no "STOP" is missed."""

from __future__ import annotations

import logging

from .context import WorkerContext

log = logging.getLogger("worker")


class KeyHealth:
    """Streaks of failing keys over the reply reader's looks."""

    def __init__(self, ctx: WorkerContext) -> None:
        self.ctx = ctx
        self.streaks: dict[str, int] = {}
        self.counts: dict[str, int] = {}
        self.logged: set[str] = set()
        self.details: dict[str, str] = {}

    def look(self, failed: dict[str, str], checked: set[str]) -> list[str]:
        """One look: `failed` keys missed what the page showed, the other `checked` keys held.
        Returns the keys that failed `attention_after` looks in a row (to repair)."""
        for key in checked - set(failed):
            self.streaks.pop(key, None)
            self.logged.discard(key)
        for key, detail in failed.items():
            self.streaks[key] = self.streaks.get(key, 0) + 1
            self.counts[key] = self.counts.get(key, 0) + 1
            self.details[key] = detail
            if key not in self.logged:
                self.logged.add(key)
                log.warning("selector %r: %s (reading by meaning meanwhile)", key, detail)
                self.ctx.store.log_event(
                    "key_failure",
                    f"account {self.ctx.account}: selector {key!r}: {detail}; read by meaning meanwhile",
                    level="warning",
                )
        self.ctx.hb.note(key_failures=dict(self.counts))
        limit = self.ctx.cfg.sending.attention_after
        return sorted(k for k, n in self.streaks.items() if n >= limit)

    def repaired(self, keys: list[str]) -> None:
        for key in keys:
            self.streaks.pop(key, None)
            self.logged.discard(key)
