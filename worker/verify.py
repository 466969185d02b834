"""Verification: did a message whose send click may have happened reach its chat?

Three outcomes (docs/design.md, "The promise"):

- found: an outgoing bubble holds its text, sent at or after the claim, with a tick -> `sent`;
- absent: the chat opened, its history reaches back before the claim, and no outgoing
  bubble holds the text (or every one that does is provably older) -> queued again, at
  most `sending.auto_requeue_limit` times, then held;
- undetermined: anything else (a time that cannot be read, a bubble just before the
  claim, history that did not load, a selector that matched nothing, a clock) -> the
  message stays `unknown`; it is looked at again a few times, then held for a person
  (`python tui.py review`). It is never sent again by this module.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from selenium.common.exceptions import WebDriverException

from store import states as S
from store.records import Message

from .bubble_time import floor_minute, parse_pre_plain
from .context import WorkerContext
from .errors import BrowserDied, Interrupted, LoggedOut, Offline, PhoneDisconnected, SelectorNotFound, SendFailure
from .matching import is_media, resolve_attachment, row_matches, short_error
from .page import ChatView

log = logging.getLogger("worker")

REVERIFY_GRACE = 5.0  # own `unknown` messages are verified when the queue is empty and they are this old
REVERIFY_PERIOD = 60.0  # ... and in any case once they are this old
VERIFY_RETRY = 30.0  # an undetermined verification is tried again after this long
VERIFY_TRIES = 3  # ... this many times in all; then the message is held for a person
# Bubble times come from WhatsApp's clock, claim times from ours: a bubble with the text
# less than this before the claim might be ours on a skewed clock, so it is a doubt, not
# "older".
CLOCK_SKEW = 120.0
CLOCK = "its bubble still shows the clock"
SETTLE = 3.0  # seconds to let the history render (and "Read more" expand)
MAX_LOADS = 20  # scrolls to the top to load older history


@dataclass
class Verdict:
    """A verification's outcome (found, absent or undetermined) and why."""

    outcome: str  # "found" | "absent" | "undetermined"
    reason: str


def judge(
    view: ChatView, row: Any, *, date_order: str, covered: bool, attachment: Path | None, you: set[str] | str = "You"
) -> Verdict:
    """The verdict on one message from what its chat shows (no browser: unit-testable).
    `you`: the words our own bubbles carry as their sender ("You", the profile name)."""
    you = {you} if isinstance(you, str) else you
    media = attachment is not None and is_media(attachment)
    since = row.get("clicked_at") or row.get("claimed_at") or 0.0
    floor = floor_minute(since) if since else 0.0
    doubts: list[str] = []
    for r in view.rows:
        match = row_matches(r, row["text"], attachment, media)
        if match is False:
            continue
        if match is None:
            doubts.append("a bubble's text could not be read (message_text matched nothing, or it stayed cut)")
            continue
        if r.refused:
            continue  # WhatsApp's failure mark: that bubble never left
        t = parse_pre_plain(r.pre, date_order)
        if t is None:
            doubts.append(f"a bubble with this text has no readable time ({(r.pre or 'none')[:40]!r})")
        elif t >= floor:
            if r.ack and r.own is not False:
                if r.own is None:
                    doubts.append("a bubble with this text cannot be told ours or the contact's")
                    continue
                return Verdict("found", "found in the chat")
            doubts.append(CLOCK if r.ack is False else "a bubble with this text is there; its status cannot be read")
        elif t >= floor - CLOCK_SKEW:
            doubts.append("a bubble with this text is from just before the claim")
        # else: provably older than the claim, another sending of the same text
    if not covered:
        return Verdict("undetermined", "the chat's history did not load back to the claim")
    recognised = sum(1 for r in view.rows if r.pre)
    if view.ours_by_meta(you) > recognised:
        # Rows say "You:" but were not taken for ours: the selectors no longer hold and
        # reading by meaning missed them too. Absence would be a guess.
        return Verdict(
            "undetermined",
            "some of our own bubbles were not recognised as ours (selectors outgoing_message / msg_ack / msg_pending)",
        )
    if view.unclassified:
        return Verdict(
            "undetermined",
            f"{view.unclassified} bubble(s) of the chat cannot be told ours or the contact's: absence would be a guess",
        )
    if doubts:
        return Verdict("undetermined", doubts[0])
    return Verdict("absent", "not in the chat")


def history_covers(view: ChatView, since: float, date_order: str) -> bool:
    """The loaded history reaches back before `since`: the chat's start is loaded, or a
    row of any kind is provably older (so every later bubble is loaded too)."""
    if view.start:
        return True
    floor = floor_minute(since) if since else 0.0
    for pre in view.heads:
        t = parse_pre_plain(pre, date_order)
        if t is not None:
            return t < floor - CLOCK_SKEW
    return False


class Verifier:
    """Verifies, in their chats, the messages whose send click may have happened."""

    def __init__(self, ctx: WorkerContext) -> None:
        self.ctx = ctx
        # message id -> (monotonic time it is due, urgent: verified before anything is sent)
        self.due: dict[int, tuple[float, bool]] = {}

    def add(self, mid: int, *, own: bool = False, delay: float = 0.0) -> None:
        if own:
            self.due[mid] = (time.monotonic() + REVERIFY_GRACE, False)
        else:
            self.due[mid] = (time.monotonic() + delay, True)

    def load_at_start(self) -> None:
        """Every in-flight message of a dead worker: an unclicked claim goes straight back to
        the queue; a clicked one is verified before anything is sent; a held one waits."""
        ctx = self.ctx
        for row in ctx.store.in_flight(exclude_workers=[ctx.worker_id], account=ctx.account):
            if row["status"] == S.SENDING and row["clicked_at"] is None:
                outcome = ctx.store.release_unclicked(
                    row["id"],
                    "the worker stopped before the send click",
                    max_attempts=ctx.cfg.sending.max_attempts,
                    backoff=ctx.cfg.sending.retry_backoff,
                    now=ctx.clock.now(),
                )
                log.info("message %s: claimed but never clicked by a stopped worker -> %s", row["id"], outcome)
            elif row["review"] and row["verify_tries"] >= VERIFY_TRIES:
                continue  # held for a person
            else:
                self.add(row["id"])
        if self.due:
            log.info("%d message(s) of a previous worker to verify", len(self.due))

    def run_due(self, *, queue_empty: bool) -> bool:
        """Verify one due message; True when one was looked at (the loop then starts over)."""
        now = time.monotonic()
        for mid, (at, urgent) in sorted(self.due.items(), key=lambda kv: kv[1][0]):
            if at > now:
                continue
            if urgent or queue_empty or now - at >= REVERIFY_PERIOD - REVERIFY_GRACE:
                self.verify_one(mid)
                return True
        return False

    @property
    def urgent_pending(self) -> bool:
        now = time.monotonic()
        return any(urgent and at <= now for at, urgent in self.due.values())

    def verify_one(self, mid: int) -> None:
        """Verify one message in doubt and act on the verdict: sent, queued again (bounded), or
        held for a person after `VERIFY_TRIES` undecided looks."""
        ctx = self.ctx
        store = ctx.store
        current = store.message(mid)
        if current is None or current["status"] not in S.IN_FLIGHT:
            self.due.pop(mid, None)
            return
        ctx.hb.set(
            S.WorkerState.SENDING, current_message_id=mid, detail=f"verifying message {mid} to {current['phone']}"
        )
        try:
            verdict = self.verdict(current)
        except (Interrupted, LoggedOut, PhoneDisconnected, Offline):
            return  # the loop shows why; verified later
        except (SelectorNotFound, SendFailure, WebDriverException) as exc:
            if not ctx.alive():
                raise BrowserDied(f"the browser died while verifying message {mid}") from exc
            verdict = Verdict("undetermined", f"the chat could not be read: {short_error(exc)}")
        self.due.pop(mid, None)
        now = ctx.clock.now()
        if verdict.outcome == "found":
            store.mark_sent(mid, now=now, note=f"verified in the chat of account {ctx.account}")
            log.info("message %s verified: found in the chat, sent", mid)
        elif verdict.outcome == "absent" and current["requeues"] < ctx.cfg.sending.auto_requeue_limit:
            store.requeue_unsent(mid, "verification: not in the chat", now=now)
            log.info("message %s verified: not in the chat, queued again", mid)
        elif verdict.outcome == "absent":
            store.note_undetermined(
                mid,
                f"not in the chat, but it already went back to the queue {current['requeues']} time(s) "
                "after a send click: held so that a doubt never sends it twice",
                now=now,
            )
            self._hold(mid)
        else:
            tries = store.note_undetermined(mid, verdict.reason, now=now)
            if tries < VERIFY_TRIES:
                self.due[mid] = (time.monotonic() + VERIFY_RETRY, False)
                log.warning(
                    "message %s: verification could not decide (%s); again in %.0f s", mid, verdict.reason, VERIFY_RETRY
                )
            else:
                log.warning("message %s: held for a person (%s)", mid, verdict.reason)

    def _hold(self, mid: int) -> None:
        """No more automatic verification: the message waits for `review`."""
        store = self.ctx.store
        while True:
            row = store.message(mid)
            if row is None or row["verify_tries"] >= VERIFY_TRIES or row["status"] != S.UNKNOWN:
                break
            store.note_undetermined(mid, row["review"] or "held", now=self.ctx.clock.now())
        log.warning("message %s: held for a person (python tui.py review)", mid)

    def verdict(self, row: Message) -> Verdict:
        """Open the message's chat and judge it (see the module's docstring)."""
        ctx = self.ctx
        page = ctx.need_page()
        chat = page.open_chat(row["phone"])
        if chat.invalid:
            return Verdict("absent", "the number is not on WhatsApp")
        order = ctx.cfg.date_order()
        since = row.get("clicked_at") or row.get("claimed_at") or 0.0
        view = self.settled()
        covered = history_covers(view, since, order)
        loads = 0
        while not covered and loads < MAX_LOADS and page.load_earlier():
            loads += 1
            time.sleep(0.3)
            more = self.settled()
            if more.any_rows == view.any_rows and more.start == view.start:
                break  # nothing older came
            view = more
            covered = history_covers(view, since, order)
        attachment = resolve_attachment(ctx.cfg, row["attachment"]) if row.get("attachment") else None
        you = page.you
        found = judge(view, row, date_order=order, covered=covered, attachment=attachment, you=you)
        # Our bubble is there but still on the clock: watch it a while, as after a send.
        deadline = time.monotonic() + ctx.cfg.browser.ack_timeout
        while found.reason == CLOCK and time.monotonic() < deadline:
            ctx.controls.step_check()
            time.sleep(0.3)
            view = page.chat_view(expand=True)
            found = judge(view, row, date_order=order, covered=covered, attachment=attachment, you=you)
        return found

    def settled(self) -> ChatView:
        """The open chat once it stopped changing, every "Read more" expanded."""
        page = self.ctx.need_page()
        deadline = time.monotonic() + SETTLE
        previous = None
        while True:
            view = page.chat_view(expand=True)
            shape = (view.total, view.any_rows, view.start, tuple(len(r.full) for r in view.rows))
            if view.expanded == 0 and shape == previous:
                return view
            if time.monotonic() >= deadline:
                return view
            previous = shape
            self.ctx.controls.step_check()
            time.sleep(0.15)
