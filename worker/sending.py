"""Sending one claimed message, keeping the promise (docs/design.md, "The promise"):

- before the send click, anything that fails is retried with backoff (or given back when
  the session, not the message, was the problem);
- `sending` is committed by the claim and `clicked_at` right before the click;
- after it, the message is `sent` only when a new bubble of ours with its text shows a
  tick, and `unknown` otherwise (verified later, never re-sent blindly).

`Sender.process` returns a `SendOutcome`; the worker's loop acts on it (schedules the next
send after a click, counts failing selector keys, queues a verification, stops).
"""

from __future__ import annotations

import enum
import logging
import random
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from selenium.common.exceptions import StaleElementReferenceException, WebDriverException

from store import states as S
from store.records import Claim

from . import typist
from .context import WorkerContext
from .errors import (
    AccountLimited,
    Interrupted,
    LoggedOut,
    NotClicked,
    Offline,
    PermanentFailure,
    PhoneDisconnected,
    SelectorNotFound,
    SendFailure,
)
from .health import AccountWatch
from .links import link_host
from .matching import is_media, resolve_attachment, row_matches, short_error
from .page import ChatView, WhatsAppPage, check_box, click_element
from .textmatch import comparable

log = logging.getLogger("worker")

CONTROL_WAIT = 3.0  # seconds for the send control to show once the text is in
SEND_CONFIRM = 5.0  # seconds for the box to empty or a new bubble to show after the click
PREVIEWS_MISSED_WARN = 5  # link messages in a row without a preview before a warning
RELOADS_FORGIVEN = 3  # messages in a row given back, no attempt used, because the page reloaded
# While the tick is awaited the chat is looked at when the page changed: not sooner than
# LEAST after the last look, and not later than a cap that starts at FIRST and doubles up
# to MOST (a change just before a wait began is only seen at the cap: the tick usually
# comes at once, so the first caps are short).
ACK_LOOK_LEAST = 0.03
ACK_LOOK_FIRST = 0.1
ACK_LOOK_MOST = 0.8


class Result(enum.StrEnum):
    """What became of one claimed message."""

    SENT = "sent"  # its bubble shows a tick
    UNKNOWN = "unknown"  # clicked, nothing proved it arrived: verified later
    RETRY = "retry"  # failed before the click (attempt counted: retrying or failed)
    RELEASED = "released"  # given back before the click, no attempt used (session, pause, job)
    LIMITED = "limited"  # WhatsApp limits the account: given back, no attempt used (worker/health.py)
    REFUSED = "refused"  # clicked, and WhatsApp put its failure mark on it: not sent, queued again
    NOT_CLICKED = "not_clicked"  # given back: the page was redrawn before the click
    INVALID = "invalid"  # the number is not on WhatsApp
    FAILED = "failed"  # no attempt can help (attachment missing)
    STOP = "stop"  # a stop ended the step: the worker ends


@dataclass
class SendOutcome:
    """One message's outcome, for the loop to act on."""

    result: Result
    message_id: int
    clicked_at: float | None = None  # the clock time of the send click, if it happened
    failed_keys: dict[str, str] = field(default_factory=dict)  # selector keys that failed on it
    reason: str = ""
    browser_gone: bool = False  # the browser died: the worker must end (and be restarted)

    @property
    def page_judged(self) -> bool:
        """The page was exercised for this message: its failing keys count toward a line stop."""
        return self.result in (Result.SENT, Result.UNKNOWN, Result.RETRY, Result.INVALID, Result.NOT_CLICKED)

    @property
    def limited(self) -> bool:
        """WhatsApp limited the account on this message (a notice, a failure mark)."""
        return self.result in (Result.LIMITED, Result.REFUSED)


class Refused(Exception):
    """Our new bubble carries WhatsApp's failure mark ("Not sent")."""


class SessionNotes(Protocol):
    """What the sender tells the session: the network went, our bubbles carry this name."""

    def went_offline(self, reason: str, *, reload: bool) -> None: ...

    def note_own_name(self, name: str) -> None: ...


@dataclass
class Prepared:
    """A message ready to be clicked: which control sends it and the chat just before."""

    send_key: str  # the send control's selector key
    box_key: str  # the box holding the text (compose box or caption box)
    attachment: Path | None
    media: bool  # the attachment goes as a photo/video (else as a document)
    before: ChatView  # the chat right before the click
    known: bool = False  # the account has a chat with the contact


class Sender:
    """Sends one claimed message through the open page and says what became of it."""

    def __init__(self, ctx: WorkerContext, session: SessionNotes, watch: AccountWatch) -> None:
        self.ctx = ctx
        self.session = session
        self.watch = watch
        self.rng = random.Random()
        self.reloads_in_a_row = 0  # messages given back in a row because the page reloaded
        self.previews_missed = 0  # messages with links in a row sent without their preview

    # ------------------------------------------------------------------ one message
    def process(self, msg: Claim, *, click_at: float | None = None) -> SendOutcome:
        """Send one claimed message; `click_at` (clock time): the send is due then, so its
        text is typed over the time left and the click waits for it (typist.py)."""
        ctx = self.ctx
        store, cfg, page = ctx.store, ctx.cfg, ctx.need_page()
        mid = msg.id
        ctx.controls.clicked = False
        page.failed_keys.clear()
        ctx.hb.set(S.WorkerState.SENDING, current_message_id=mid, next_send_at=None, detail=f"sending to {msg.phone}")
        t0 = time.monotonic()
        outcome = self._done
        # ---- before the click: anything that goes wrong is retried (or given back) -----
        try:
            prepared = self.before_click(msg, page, click_at)
        except Interrupted as exc:
            store.release(mid, worker_id=ctx.worker_id, reason=exc.what)
            if exc.what == "use_here":
                store.log_event("use_here", "WhatsApp was open in another window: took it back")
            return outcome(Result.STOP if exc.what == "stop" else Result.RELEASED, mid, reason=exc.what)
        except LoggedOut:
            store.release(mid, worker_id=ctx.worker_id, reason="logged out")
            return outcome(Result.RELEASED, mid, reason="logged out")
        except AccountLimited as exc:
            self.watch.apply(exc.limit, release=[mid])
            page.failed_keys.clear()  # the page is not broken: WhatsApp said no
            return outcome(Result.LIMITED, mid, reason=exc.limit.describe())
        except PhoneDisconnected:
            store.release(mid, worker_id=ctx.worker_id, reason="phone not connected")
            return outcome(Result.RELEASED, mid, reason="phone not connected")
        except Offline as exc:
            store.release(mid, worker_id=ctx.worker_id, reason=f"offline: {exc.reason}")
            self.session.went_offline(exc.reason, reload=exc.page_failed)
            return outcome(Result.RELEASED, mid, reason="offline")
        except PermanentFailure as exc:
            store.mark_failed_attempt(
                mid, str(exc), max_attempts=0, backoff=0, worker_id=ctx.worker_id, now=ctx.clock.now()
            )
            return outcome(Result.FAILED, mid, reason=str(exc))
        except (SelectorNotFound, SendFailure, WebDriverException) as exc:
            if ctx.controls.control() == "stop" or not ctx.alive():
                store.release(mid, worker_id=ctx.worker_id, reason=f"browser gone: {exc.__class__.__name__}")
                stop = ctx.controls.control() == "stop"
                return outcome(
                    Result.STOP if stop else Result.RELEASED,
                    mid,
                    browser_gone=not stop,
                    reason=f"the browser died while sending message {mid}: {exc}",
                )
            if page.reloaded() and self.reloads_in_a_row < RELOADS_FORGIVEN:
                # The page reloaded under the message (a new build): neither the message's
                # fault nor the selectors'. A page that reloads on every message is counted.
                self.reloads_in_a_row += 1
                store.release(mid, worker_id=ctx.worker_id, reason="the page reloaded while preparing the message")
                page.failed_keys.clear()
                log.info("message %s: the page reloaded while it was prepared: given back", mid)
                return outcome(Result.RELEASED, mid, reason="the page reloaded")
            try:
                login = page.session()["login"]
            except WebDriverException:
                login = "logged_in"
            if login != "logged_in":
                # The session changed under us (logout, "Use here", phone): not the message's fault.
                store.release(mid, worker_id=ctx.worker_id, reason=f"{login} while preparing the message")
                page.failed_keys.clear()
                return outcome(Result.RELEASED, mid, reason=login)
            error = short_error(exc)
            result = store.mark_failed_attempt(
                mid,
                error,
                max_attempts=cfg.sending.max_attempts,
                backoff=cfg.sending.retry_backoff,
                worker_id=ctx.worker_id,
                now=ctx.clock.now(),
            )
            log.warning("message %s: %s (%s)", mid, error, result)
            return outcome(Result.RETRY, mid, reason=error)
        self.reloads_in_a_row = 0
        if prepared is None:
            store.mark_invalid(mid, "phone number is not on WhatsApp", worker_id=ctx.worker_id, now=ctx.clock.now())
            log.info("message %s: the number is not on WhatsApp", mid)
            return outcome(Result.INVALID, mid)
        # ---- the click: from here on the message is never sent again blindly -----
        store.mark_clicking(mid, worker_id=ctx.worker_id, now=ctx.clock.now())
        clicked_at = ctx.clock.now()
        ctx.controls.clicked = True
        try:
            how = self.click_send(prepared, page)
        except NotClicked as exc:
            store.release(mid, worker_id=ctx.worker_id, reason=f"nothing was clicked: {exc}")
            return outcome(Result.NOT_CLICKED, mid, reason=str(exc))
        except WebDriverException as exc:
            return self.unknown(msg, f"the send click raised {exc.__class__.__name__}", clicked_at)
        try:
            ok, reason = self.confirm_and_wait_ack(msg, prepared, page)
        except Refused:
            return self.refused(msg, prepared, clicked_at)
        except Interrupted:
            store.mark_unknown(mid, "stopped before the tick", worker_id=ctx.worker_id, now=ctx.clock.now())
            return outcome(Result.STOP, mid, clicked_at=clicked_at, reason="stopped before the tick")
        except LoggedOut:
            return self.unknown(msg, "logged out before the tick", clicked_at)
        except WebDriverException as exc:
            return self.unknown(msg, f"browser error after the send click: {exc.__class__.__name__}", clicked_at)
        if not ok:
            return self.unknown(msg, reason, clicked_at)
        store.mark_sent(mid, worker_id=ctx.worker_id, now=ctx.clock.now())
        self.watch.delivered()
        log.info("message %s sent in %.2f s (%s)", mid, time.monotonic() - t0, how)
        return outcome(Result.SENT, mid, clicked_at=clicked_at)

    def _done(
        self, result: Result, mid: int, *, clicked_at: float | None = None, reason: str = "", browser_gone: bool = False
    ) -> SendOutcome:
        failed = dict(self.ctx.page.failed_keys) if self.ctx.page is not None else {}
        return SendOutcome(result, mid, clicked_at, failed, reason, browser_gone)

    def unknown(self, msg: Claim, reason: str, clicked_at: float) -> SendOutcome:
        """Clicked, nothing proved it arrived: `unknown`, verified later (never sent again blindly)."""
        ctx = self.ctx
        ctx.store.mark_unknown(msg.id, reason, worker_id=ctx.worker_id, now=ctx.clock.now())
        log.warning("message %s: %s -> unknown (verified later)", msg.id, reason)
        gone = ctx.controls.control() != "stop" and not ctx.alive()
        return self._done(Result.UNKNOWN, msg.id, clicked_at=clicked_at, reason=reason, browser_gone=gone)

    def refused(self, msg: Claim, p: Prepared, clicked_at: float) -> SendOutcome:
        """WhatsApp's failure mark: the message did not leave. It goes back to the queue (at
        most `auto_requeue_limit` times, like a message verification proved absent; then it
        fails, for a person to retry), and the account's limit is noted."""
        ctx = self.ctx
        row = ctx.store.message(msg.id)
        if row is not None and row["requeues"] < ctx.cfg.sending.auto_requeue_limit:
            ctx.store.requeue_unsent(
                msg.id, "WhatsApp refused it (its failure mark): not sent", now=ctx.clock.now(), give_attempt=True
            )
            log.warning("message %s: WhatsApp refused it (failure mark): not sent, queued again", msg.id)
        else:
            ctx.store.mark_failed_attempt(
                msg.id,
                "WhatsApp refused it again (failure mark): not sent",
                max_attempts=0,
                backoff=0,
                worker_id=ctx.worker_id,
                now=ctx.clock.now(),
            )
            log.warning("message %s: WhatsApp refused it again: failed (python tui.py retry sends it again)", msg.id)
        # The message is back before the limit shows: whoever sees the limit sees it queued.
        limit = self.watch.refused(msg.phone, known=p.known)
        if self.ctx.page is not None:
            self.ctx.page.failed_keys.clear()
        reason = limit.describe() if limit else "WhatsApp refused it (failure mark)"
        return self._done(Result.REFUSED, msg.id, clicked_at=clicked_at, reason=reason)

    # ------------------------------------------------------------------ before the click
    def wait_link_preview(self, page: WhatsAppPage, mid: int, host: str) -> None:
        """Let WhatsApp show the link's preview before the click, so the message goes with it.
        Several link messages in a row without one are worth a warning: the sites may give
        none, or the page may no longer draw it where the worker looks."""
        wait = self.ctx.cfg.sending.link_preview_wait
        if page.wait_link_preview("compose_box", host, wait):
            self.previews_missed = 0
            return
        self.previews_missed += 1
        log.info("message %s: no link preview within %g s: sent without one", mid, wait)
        if self.previews_missed == PREVIEWS_MISSED_WARN:
            log.warning(
                "no link preview on the last %d messages with links: their sites give none, or the "
                'page draws it where the worker does not look (docs/worker.md, "Links")',
                PREVIEWS_MISSED_WARN,
            )

    def check_job(self, msg: Claim) -> None:
        job = self.ctx.store.get_job(msg.job_id)
        if job is None or job.status != S.JOB_RUNNING:
            raise Interrupted(f"job {msg.job_id} is {job.status if job else 'gone'}")

    def before_click(self, msg: Claim, page: WhatsAppPage, click_at: float | None = None) -> Prepared | None:
        """Open the chat, type the text (and put the attachment) in, wait for the due time.
        None for a number not on WhatsApp."""
        cfg = self.ctx.cfg
        self.check_job(msg)
        att: Path | None = None
        if msg.attachment:
            att = resolve_attachment(cfg, msg.attachment)
            if not att.is_file():
                raise PermanentFailure(f"attachment not found: {att}")
        chat = page.open_chat(msg.phone)
        if chat.invalid:
            return None
        known = bool(msg.known)
        if chat.notice is not None:
            # A notice where the compose box was: a limit, never a selector to repair.
            known = known or page.chat_view().has_history
            raise AccountLimited(page.limits.notice(chat.notice, known=known, now=self.ctx.clock.now()))
        timeout = min(cfg.browser.chat_timeout, 15.0)
        budget = (click_at - self.ctx.clock.now() - typist.CLICK_MARGIN) if click_at else None
        seconds = typist.plan(cfg.sending, msg.text, budget, self.rng)
        media = False
        if att is None:
            # Read back in the last look before the click, which holds the compose box's text.
            page.type_text("compose_box", msg.text, seconds=seconds, rng=self.rng, check=False)
            send_key, box_key = "send_button", "compose_box"
            host = link_host(msg.text)
            if host and cfg.sending.link_preview_wait > 0:
                self.wait_link_preview(page, msg.id, host)
        else:
            media = is_media(att)
            input_key = "media_input" if media else "document_input"
            if page.find(input_key, visible=False) is None:
                page.wait_for("attach_button", timeout)
                page.click("attach_button")
            file_input = page.wait_for(input_key, timeout, visible=False)
            file_input.send_keys(str(att))
            page.wait_for("caption_box", timeout)
            if msg.text:
                page.type_text("caption_box", msg.text, seconds=seconds, rng=self.rng)
            send_key, box_key = "media_send", "caption_box"
        if click_at:  # typed early: the click keeps the pacing's time
            page.pause(min(max(0.0, click_at - self.ctx.clock.now()), typist.lead(cfg.sending)))
        # The last look before the click: signals, job status, session.
        self.ctx.controls.step_check()
        self.check_job(msg)
        before = page.chat_view(control=send_key)  # with the send control: one round trip
        if att is None:
            check_box(box_key, before.box, msg.text)
        if before.has_history and not known and msg.phone not in self.watch.refused_new:  # a contact it knows
            self.watch.note_known([msg.phone], "history")
            known = True
        if before.qr and not before.logged_in:
            raise LoggedOut()
        if before.phone_disconnected:
            raise PhoneDisconnected()
        if before.offline:
            raise Offline("WhatsApp Web says this computer is not connected")
        return Prepared(send_key, box_key, att, media, before, known)

    # ------------------------------------------------------------------ the click
    def click_send(self, p: Prepared, page: WhatsAppPage) -> str:
        """One click on the send control, or Enter in the box when no configured control
        matches (a key that failed all the same: it counts toward stopping the line)."""
        if p.before.control is not None:  # found in the last look
            try:
                click_element(page.driver, p.before.control)
                return "clicked"
            except StaleElementReferenceException:
                pass  # redrawn since: nothing was clicked; looked for again below
        deadline = time.monotonic() + CONTROL_WAIT
        button = None
        while button is None and time.monotonic() < deadline:
            button = page.find(p.send_key)
            if button is None:
                time.sleep(0.05)
        if button is not None:
            try:
                click_element(page.driver, button)
            except StaleElementReferenceException:
                raise NotClicked("the page was redrawn before the click") from None
            return "clicked"
        page.key_failed(
            p.send_key, f"selector {p.send_key!r}: none of its configured selectors matched; sent with Enter instead"
        )
        page.dump(p.send_key)
        log.warning("no %s matched: pressing Enter in the %s", p.send_key, p.box_key)
        try:
            pressed = page.press_enter(p.box_key)
        except StaleElementReferenceException:
            raise NotClicked("the page was redrawn before Enter") from None
        if not pressed:
            raise NotClicked(f"neither {p.send_key} nor {p.box_key} is on the page")
        return "Enter"

    def confirm_and_wait_ack(self, msg: Claim, p: Prepared, page: WhatsAppPage) -> tuple[bool, str]:
        """After the click: (True, "") when a new bubble of ours with this message shows a
        tick in time; else (False, why). Nothing here clicks send again."""
        ctx = self.ctx
        before_ids = {r.id for r in p.before.rows if r.id}
        ids_readable = len(before_ids) == len(p.before.rows)
        left = False
        mine_seen = False
        status_unread = False
        start = last = time.monotonic()
        deadline = start + ctx.cfg.browser.ack_timeout
        look_cap = ACK_LOOK_FIRST
        while True:
            view = page.chat_view(limit=15, expand=True)
            now = time.monotonic()
            if view.qr and not view.logged_in:
                raise LoggedOut()
            if ids_readable and view.rows:
                new = [r for r in view.rows if r.id not in before_ids]
            elif view.total > p.before.total:
                new = view.rows[len(view.rows) - (view.total - p.before.total) :]
            else:
                new = []
            for sender in view.own_senders:
                self.session.note_own_name(sender)
            mine = [r for r in new if row_matches(r, msg.text, p.attachment, p.media) is True]
            if mine:
                mine_seen = True
                left = True
                if mine[-1].refused:
                    raise Refused()
                if mine[-1].ack:
                    return True, ""
                status_unread = mine[-1].ack is None
            if not left:
                box = page.box_text(p.box_key)
                left = bool(new) or box is None or comparable(box) == ""
                if not left and now - start > SEND_CONFIRM:
                    page.key_failed(
                        p.send_key, "the send click did not take: the box kept the text and no bubble appeared"
                    )
                    return False, "the send did not take (the box kept the text, no new bubble)"
            if view.phone_disconnected or view.offline:
                # Waiting for the phone or the network does not use up the ack timeout.
                deadline += now - last
                if view.offline:
                    self.session.went_offline(
                        "WhatsApp Web says this computer is not connected (a message waits on the clock to go)",
                        reload=False,
                    )
                else:
                    ctx.hb.set(S.WorkerState.PHONE_DISCONNECTED, login="phone_disconnected")
            last = now
            if now >= deadline:
                if not mine_seen:
                    page.key_failed(
                        "message_text",
                        "no new bubble of ours with the message text was recognised "
                        f"({len(new)} new bubble(s) of ours, {view.any_rows} rows in the chat)",
                    )
                    return False, "no new bubble with this text was recognised"
                if status_unread:
                    return False, "our bubble is there but its status could not be read"
                return False, f"no tick within {ctx.cfg.browser.ack_timeout:g} s (the clock stayed)"
            if ctx.controls.control() == "stop":
                raise Interrupted("stop")
            page.wait_for_change(look_cap, least=ACK_LOOK_LEAST)
            look_cap = min(look_cap * 2, ACK_LOOK_MOST)
