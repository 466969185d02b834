"""Reading what contacts answer, in the gaps the worker has anyway.

A look: the chat list's unread chats (and the chat that is open now, where a reply may
have been shown, and so read, at once) whose number got a message of ours from this
account in a live job, or one finished within `finished_days`. Each such chat is opened
(which marks it read, as when a person opens it) and its incoming messages since our
message are stored once each; with `open_chats = false` only the list's preview of the
newest message is read and nothing is marked read. The classifier decides opt-outs.
A look never starts less than `budget` seconds before a send is due, stops opening chats
a second before it, and never types or clicks anything but the chat links.
"""

from __future__ import annotations

import hashlib
import logging
import time
from typing import Any

from worker.optout_words import Classifier

from . import page_js as JS
from .bubble_time import parse_pre_plain
from .context import WorkerContext
from .errors import Interrupted, LoggedOut, Offline, PhoneDisconnected, SelectorNotFound, SendFailure
from .health import AccountWatch
from .keyhealth import KeyHealth
from .page import ChatResult, title_digits
from .textmatch import is_prefix

# The keys a look checks (each look also reports those that missed what the page shows).
LIST_KEYS = {"chat_list_item", "unread_badge"}
CHAT_KEYS = {"message_row", "incoming_message"}

log = logging.getLogger("worker")

SLACK = 60.0  # bubble times have minute precision: a reply may show the minute before ours


def _first_line(text: str | None) -> str:
    return (text or "").split("\n", 1)[0].strip()


def _news(preview: str | None, ours: str | None, last_reply: str | None) -> bool:
    """The chat list shows a newest message that is neither ours nor a reply we stored."""
    p = (preview or "").strip().rstrip("…").strip()
    if not p:
        return False
    # Our text as WhatsApp shows it: its emoticons may be emoji there (worker/textmatch.py).
    return not any(t and is_prefix(p, t) for t in (_first_line(ours), _first_line(last_reply)))


class ReplyReader:
    """Reads contacts' replies in the gaps between sends (see the module's docstring)."""

    def __init__(self, ctx: WorkerContext, watch: AccountWatch | None = None) -> None:
        self.ctx = ctx
        self.watch = watch  # chats the list shows are contacts the account knows
        self.settings = ctx.cfg.replies
        self.classifier = Classifier(self.settings.optout_words)
        self.last_look = 0.0
        self.stored = 0
        self.read_preview: dict[str, str | None] = {}
        self.health = KeyHealth(ctx)
        self.to_repair: list[str] = []  # keys that kept failing: the loop hands them to the healer
        self._failed: dict[str, str] = {}
        self._checked: set[str] = set()
        self.failed_in: str | None = None  # the chat where a contact's bubbles were last missed

    def due(self, until: float | None) -> bool:
        """A look may start now: enabled, not too soon after the last, far enough from a send."""
        if not self.settings.enabled:
            return False
        now = time.time()
        if now - self.last_look < self.settings.look_every:
            return False
        return until is None or until - self.ctx.clock.now() >= self.settings.budget

    def look(self, until: float | None) -> int:
        """One look; returns the number of new replies stored. `until`: the clock time of
        the next due send (None: nothing due)."""
        self.last_look = time.time()
        page = self.ctx.page
        if page is None:
            return 0
        self._failed, self._checked = {}, set()
        try:
            return self._look(until)
        finally:
            self.to_repair = self.health.look(self._failed, self._checked)

    def _look(self, until: float | None) -> int:
        ctx, page = self.ctx, self.ctx.need_page()
        t0 = time.monotonic()
        seen = page.js(JS.CHAT_LIST)
        self._failed.update(seen.get("failed") or {})
        self._checked |= LIST_KEYS
        listed = {}
        for c in seen["chats"]:
            digits = title_digits(c.get("title"))
            if digits:
                listed["+" + digits] = c
        if self.watch is not None and listed:
            self.watch.note_known(listed, "chats")
        open_digits = title_digits(seen.get("open_title"))
        open_phone = "+" + open_digits if open_digits else None
        phones = set(listed) | ({open_phone} if open_phone else set())
        if not phones:
            return 0
        since = ctx.clock.now() - self.settings.finished_days * 86400
        targets = ctx.store.reply_targets(phones, account=ctx.account, finished_since=since)
        # A reply shown while its chat was open is read at once (no badge): its chat's
        # preview then is neither our message nor a reply already stored.
        known = ctx.store.last_reply_texts(ctx.account, [p for p in listed if p in targets])
        unread = {
            p: c
            for p, c in listed.items()
            if p in targets
            and (
                c["unread"]
                or (
                    c.get("preview") != self.read_preview.get(p)
                    and _news(c.get("preview"), targets[p][-1].get("text"), known.get(p))
                )
            )
        }
        new = 0
        if open_phone in targets:
            new += self._read_open_chat(open_phone, targets[open_phone])
        for phone, chat in unread.items():
            if phone == open_phone:
                continue
            if until is not None and until - ctx.clock.now() < 1.0:
                break  # the next send is due: the rest waits for the next look
            if not self.settings.open_chats:
                new += self._store_preview(phone, chat, targets[phone])
                continue
            try:
                result: ChatResult = page.open_chat(phone)
            except (SendFailure, SelectorNotFound) as exc:  # this chat, this time: the next look tries again
                log.info("replies: a chat did not open (%s)", exc.__class__.__name__)
                continue
            except (LoggedOut, Offline, PhoneDisconnected, Interrupted):
                break  # the session's own checks in the loop deal with it
            if result.ok:
                new += self._read_open_chat(phone, targets[phone])
                # This preview is read: an attachment's preview, which is never our text,
                # does not open the chat again at every look.
                self.read_preview[phone] = chat.get("preview")
        if new:
            log.info("replies: %d new from %d chat(s) in %.1f s", new, len(phones), time.monotonic() - t0)
        self.stored += new
        return new

    def _read_open_chat(self, phone: str, ours: list[dict[str, Any]]) -> int:
        ctx = self.ctx
        seen = ctx.need_page().js(JS.INCOMING)
        if seen.get("failed"):
            self.failed_in = phone
        self._failed.update(seen.get("failed") or {})
        self._checked |= CHAT_KEYS
        rows = seen["rows"]
        order = ctx.cfg.date_order()
        first = ours[0]["sent_at"] or 0.0
        items = []
        for i, r in enumerate(rows):
            at = parse_pre_plain(r.get("pre"), order)
            if at is not None:
                if at < first - SLACK:
                    continue  # from before our first message: another conversation
                target = next((m for m in reversed(ours) if (m["sent_at"] or 0) <= at + SLACK), ours[0])
            elif r.get("after_ours"):
                target = ours[-1]
            else:
                continue
            text = r.get("text") if r.get("text") is not None else (r.get("full") or "").strip() or None
            kind = "document" if r.get("document") else ("media" if r.get("media") else "text")
            wa_id = r.get("id") or "t:" + hashlib.sha1(f"{r.get('pre')}|{text}|{i}".encode()).hexdigest()[:20]
            items.append(
                (
                    target,
                    {
                        "wa_id": wa_id,
                        "text": text,
                        "kind": kind,
                        "attachment_name": r.get("document"),
                        "at": at,
                        "flag": self.classifier.classify(text),
                    },
                )
            )
        new = 0
        for target in ours:
            mine = [it for t, it in items if t is target]
            if mine:
                new += len(ctx.store.add_replies(ctx.account, phone, target, mine, now=ctx.clock.now()))
        return new

    def _store_preview(self, phone: str, chat: dict[str, Any], ours: list[dict[str, Any]]) -> int:
        """The newest message as the chat list previews it (one line, no time): enough for "STOP"."""
        text = chat.get("preview")
        if not text:
            return 0
        wa_id = "preview:" + hashlib.sha1(f"{text}|{chat.get('unread')}".encode()).hexdigest()[:20]
        item = {"wa_id": wa_id, "text": text, "kind": "text", "at": None, "flag": self.classifier.classify(text)}
        return len(self.ctx.store.add_replies(self.ctx.account, phone, ours[-1], [item], now=self.ctx.clock.now()))
