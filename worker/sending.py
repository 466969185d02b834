"""Sending one claimed message: open its chat, type, attach, click send (or press Enter),
confirm that it left, wait for the tick. The promise (DESIGN.md) in this file:

- `sending` was committed by the claim; `clicked_at` is committed right before the click
  or key, so a message without it certainly never left;
- anything that goes wrong before that is retried with backoff (or given back when the
  session, not the message, was the problem);
- after it, the message is `sent` only when a new outgoing bubble with its text shows a
  tick, and `unknown` otherwise (verified later, never re-sent blindly).
"""

from __future__ import annotations

import logging
import mimetypes
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from selenium.common.exceptions import StaleElementReferenceException, WebDriverException

from store import states as S

from .page import (
    ChatView,
    Interrupted,
    LoggedOut,
    Offline,
    PhoneDisconnected,
    Row,
    SelectorNotFound,
    SendFailure,
    click_element,
)
from .textmatch import comparable, is_prefix

if TYPE_CHECKING:
    from .runner import Worker

log = logging.getLogger("worker")

CONTROL_WAIT = 3.0  # seconds for the send control to show once the text is in
SEND_CONFIRM = 5.0  # seconds for the box to empty or a new bubble to show after the click


class PermanentFailure(Exception):
    """A failure no retry can fix (e.g. the attachment file is missing): failed at once."""


class BrowserDied(Exception):
    pass


class StopNow(Exception):
    pass


class NotClicked(Exception):
    """The send control went stale before the click: WebDriver refuses a click on a stale
    element, so nothing was clicked (the page was redrawn, e.g. by "Use here")."""


@dataclass
class Prepared:
    send_key: str  # the send control's selector key
    box_key: str  # the box holding the text (compose box or caption box)
    attachment: Path | None
    media: bool  # the attachment goes as a photo/video (else as a document)
    before: ChatView  # the chat right before the click


def resolve_attachment(cfg: Any, path: str) -> Path:
    p = Path(path).expanduser()
    if not p.is_absolute():
        base = Path(cfg.path).resolve().parent if cfg.path else Path.cwd()
        if (base / p).exists():
            p = base / p
    return p.resolve()


def is_media(path: Path) -> bool:
    mime = mimetypes.guess_type(path.name)[0] or ""
    return mime.startswith(("image/", "video/"))


def row_matches(row: Row, text: str, attachment: Path | None, media: bool) -> bool | None:
    """Whether an outgoing row is this message, read as a person would: its text (or
    caption), the media or the document's name. None: cannot tell (text not readable,
    or cut behind a "Read more" that is still there)."""
    want = comparable(text)
    if row.text is None:
        if want:
            # Media with no text element cannot carry our caption; anything else unreadable is a doubt.
            return False if row.media else None
        got = ""
    else:
        got = comparable(row.text)
    if got != want:
        if row.more and is_prefix(row.text, text):
            return None
        return False
    if attachment is None:
        return not row.media or bool(want)
    if media:
        return row.media or attachment.name in row.full
    return attachment.name in row.full


def short_error(exc: BaseException) -> str:
    """A one-line reason for last_error."""
    if isinstance(exc, (SelectorNotFound, SendFailure)):
        return str(exc)[:500]
    lines = str(exc).strip().splitlines()
    return f"{exc.__class__.__name__}: {lines[0] if lines else ''}"[:300]


class Sender:
    def __init__(self, worker: Worker) -> None:
        self.w = worker

    # ------------------------------------------------------------------ one message
    def process(self, msg: dict[str, Any]) -> None:
        w, store, cfg = self.w, self.w.store, self.w.cfg
        page = w.page
        assert page is not None
        mid = msg["id"]
        w.clicked = False
        page.failed_keys.clear()
        w.hb.set("sending", current_message_id=mid, next_send_at=None, detail=f"sending to {msg['phone']}")
        t0 = time.monotonic()
        # ---- before the click: anything that goes wrong is retried (or given back) -----
        try:
            prepared = self.before_click(msg)
        except Interrupted as exc:
            store.release(mid, worker_id=w.id, reason=exc.what)
            if exc.what == "stop":
                raise StopNow() from None
            if exc.what == "use_here":
                store.log_event("use_here", "WhatsApp was open in another window: took it back")
            return
        except LoggedOut:
            store.release(mid, worker_id=w.id, reason="logged out")
            return
        except PhoneDisconnected:
            store.release(mid, worker_id=w.id, reason="phone not connected")
            return
        except Offline as exc:
            store.release(mid, worker_id=w.id, reason=f"offline: {exc.reason}")
            w.session.went_offline(exc.reason, reload=exc.page_failed)
            return
        except PermanentFailure as exc:
            store.mark_failed_attempt(mid, str(exc), max_attempts=0, backoff=0, worker_id=w.id, now=w.clock.now())
            return
        except (SelectorNotFound, SendFailure, WebDriverException) as exc:
            if w.control() == "stop" or not w.browser_alive():
                store.release(mid, worker_id=w.id, reason=f"browser gone: {exc.__class__.__name__}")
                if w.control() == "stop":
                    raise StopNow() from None
                raise BrowserDied(f"the browser died while sending message {mid}: {exc}") from exc
            try:
                login = page.session()["login"]
            except WebDriverException:
                login = "logged_in"
            if login != "logged_in":
                # The session changed under us (logout, "Use here", phone): not the message's fault.
                store.release(mid, worker_id=w.id, reason=f"{login} while preparing the message")
                page.failed_keys.clear()
                return
            error = short_error(exc)
            outcome = store.mark_failed_attempt(
                mid,
                error,
                max_attempts=cfg.sending.max_attempts,
                backoff=cfg.sending.retry_backoff,
                worker_id=w.id,
                now=w.clock.now(),
            )
            log.warning("message %s: %s (%s)", mid, error, outcome)
            w.attention.record(mid, page.failed_keys)
            return
        if prepared is None:
            store.mark_invalid(mid, "phone number is not on WhatsApp", worker_id=w.id, now=w.clock.now())
            log.info("message %s: the number is not on WhatsApp", mid)
            w.attention.record(mid, page.failed_keys)
            return
        # ---- the click: from here on the message is never sent again blindly -----
        store.mark_clicking(mid, worker_id=w.id, now=w.clock.now())
        w.clicked = True
        try:
            how = self.click_send(prepared)
        except NotClicked as exc:
            store.release(mid, worker_id=w.id, reason=f"nothing was clicked: {exc}")
            w.attention.record(mid, page.failed_keys)
            return
        except WebDriverException as exc:
            w.attention.record(mid, page.failed_keys)
            self.after_click_failure(msg, f"the send click raised {exc.__class__.__name__}")
            return
        try:
            w.schedule_next()
            ok, reason = self.confirm_and_wait_ack(msg, prepared)
        except Interrupted:
            store.mark_unknown(mid, "stopped before the tick", worker_id=w.id, now=w.clock.now())
            raise StopNow() from None
        except LoggedOut:
            self.after_click_failure(msg, "logged out before the tick")
            return
        except WebDriverException as exc:
            self.after_click_failure(msg, f"browser error after the send click: {exc.__class__.__name__}")
            return
        finally:
            w.attention.record(mid, page.failed_keys)
        if ok:
            store.mark_sent(mid, worker_id=w.id, now=w.clock.now())
            log.info("message %s sent in %.2f s (%s)", mid, time.monotonic() - t0, how)
        else:
            self.after_click_failure(msg, reason)

    def after_click_failure(self, msg: dict[str, Any], reason: str) -> None:
        w = self.w
        mid = msg["id"]
        w.store.mark_unknown(mid, reason, worker_id=w.id, now=w.clock.now())
        w.verifier.add(mid, own=True)
        log.warning("message %s: %s -> unknown (verified later)", mid, reason)
        if w.control() != "stop" and not w.browser_alive():
            raise BrowserDied(f"the browser died after the send click of message {mid}")

    # ------------------------------------------------------------------ before the click
    def check_job(self, msg: dict[str, Any]) -> None:
        job = self.w.store.get_job(msg["job_id"])
        if job is None or job["status"] != S.JOB_RUNNING:
            raise Interrupted(f"job {msg['job_id']} is {job['status'] if job else 'gone'}")

    def before_click(self, msg: dict[str, Any]) -> Prepared | None:
        """Open the chat, put the text (and attachment) in. None for a number not on WhatsApp."""
        w = self.w
        page = w.page
        assert page is not None
        self.check_job(msg)
        att: Path | None = None
        if msg.get("attachment"):
            att = resolve_attachment(w.cfg, msg["attachment"])
            if not att.is_file():
                raise PermanentFailure(f"attachment not found: {att}")
        chat = page.open_chat(msg["phone"])
        if chat.invalid:
            return None
        timeout = min(w.cfg.browser.chat_timeout, 15.0)
        media = False
        if att is None:
            page.type_text("compose_box", msg["text"])
            send_key, box_key = "send_button", "compose_box"
        else:
            media = is_media(att)
            input_key = "media_input" if media else "document_input"
            if page.find(input_key, visible=False) is None:
                page.wait_for("attach_button", timeout)
                page.click("attach_button")
            file_input = page.wait_for(input_key, timeout, visible=False)
            file_input.send_keys(str(att))
            page.wait_for("caption_box", timeout)
            if msg["text"]:
                page.type_text("caption_box", msg["text"])
            send_key, box_key = "media_send", "caption_box"
        # The last look before the click: signals, job status, session.
        w.step_check()
        self.check_job(msg)
        before = page.chat_view()
        if before.qr and not before.logged_in:
            raise LoggedOut()
        if before.phone_disconnected:
            raise PhoneDisconnected()
        if before.offline:
            raise Offline("WhatsApp Web says this computer is not connected")
        return Prepared(send_key, box_key, att, media, before)

    # ------------------------------------------------------------------ the click
    def click_send(self, p: Prepared) -> str:
        """One click on the send control, or Enter in the box when no configured control
        matches (a key that failed all the same: it counts toward stopping the line)."""
        page = self.w.page
        assert page is not None
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

    def confirm_and_wait_ack(self, msg: dict[str, Any], p: Prepared) -> tuple[bool, str]:
        """After the click: (True, "") when a new bubble with this message shows a tick in
        time; else (False, why). Nothing here clicks send again."""
        w = self.w
        page = w.page
        assert page is not None
        before_ids = {r.id for r in p.before.rows if r.id}
        ids_readable = len(before_ids) == len(p.before.rows)
        left = False
        mine_seen = False
        start = last = time.monotonic()
        deadline = start + w.cfg.browser.ack_timeout
        while True:
            view = page.chat_view(limit=15, expand=True)
            now = time.monotonic()
            if view.qr and not view.logged_in:
                raise LoggedOut()
            new = (
                [r for r in view.rows if r.id not in before_ids]
                if ids_readable and view.rows
                else (
                    view.rows[len(view.rows) - (view.total - p.before.total) :] if view.total > p.before.total else []
                )
            )
            mine = [r for r in new if row_matches(r, msg["text"], p.attachment, p.media) is True]
            if mine:
                mine_seen = True
                left = True
                if mine[-1].ack:
                    return True, ""
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
                    w.session.went_offline(
                        "WhatsApp Web says this computer is not connected (a message waits on the clock to go)",
                        reload=False,
                    )
                else:
                    w.hb.set("phone_disconnected", login="phone_disconnected")
            last = now
            if now >= deadline:
                if not mine_seen:
                    page.key_failed("message_text", "no new outgoing bubble with the message text was recognised")
                    return False, "no new bubble with this text was recognised"
                return False, f"no tick within {w.cfg.browser.ack_timeout:g} s (the clock stayed)"
            if w.control() == "stop":
                raise Interrupted("stop")
            time.sleep(0.03)
