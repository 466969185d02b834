"""The WhatsApp Web session: booting, logged out (QR), "Use here", phone not connected,
this computer offline.

Running jobs wait (`waiting_for_login`) while no account that may send them is logged in
(the store decides from every account's login) and run again by themselves after the
next login. Offline is a state too: the worker says so once,
uses no attempt and no restart, tries again with a capped backoff for as long as it
takes, and goes on by itself when the network is back."""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from .page import Offline

if TYPE_CHECKING:
    from .runner import Worker

log = logging.getLogger("worker")

OFFLINE_RETRY_FIRST = 2.0  # seconds before the first new try of a page that did not load
OFFLINE_RETRY_MAX = 60.0  # ... doubling up to this


class Session:
    def __init__(self, worker: Worker) -> None:
        self.w = worker
        self.booting_since: float | None = None
        self._waiting_checked = 0.0
        self.offline_since: float | None = None
        self.offline_delay = OFFLINE_RETRY_FIRST
        self.reload_at: float | None = None  # the page did not load: load it again at this time

    # ------------------------------------------------------------------ offline
    def load(self) -> None:
        """Load WhatsApp Web; when the network does not let it, go offline (no exception)."""
        page = self.w.page
        assert page is not None
        try:
            page.load()
        except Offline as exc:
            self.went_offline(f"the page could not be loaded ({exc.reason})", reload=True)
            return
        self.reload_at = None
        self.booting_since = time.monotonic()

    def went_offline(self, reason: str, *, reload: bool) -> None:
        w = self.w
        now = time.monotonic()
        first = self.offline_since is None
        if first:
            self.offline_since = now
            self.offline_delay = OFFLINE_RETRY_FIRST
            log.warning("offline: %s; trying again by itself (no attempt is used)", reason)
            w.store.log_event("offline", f"offline: {reason}", level="warning")
        if reload and (self.reload_at is None or now >= self.reload_at):
            self.reload_at = now + self.offline_delay
            self.offline_delay = min(self.offline_delay * 2, OFFLINE_RETRY_MAX)
        w.hb.set(
            "offline",
            current_message_id=None,
            login="offline",
            detail=f"{reason}; offline for {now - self.offline_since:.0f} s",
            next_send_at=time.time() + (self.reload_at - now) if self.reload_at else None,
        )

    def back_online(self) -> None:
        if self.offline_since is None:
            return
        gone = time.monotonic() - self.offline_since
        self.offline_since = None
        self.offline_delay = OFFLINE_RETRY_FIRST
        log.info("online again after %.0f s", gone)
        self.w.store.log_event("online", f"the network is back after {gone:.0f} s")

    def ensure(self) -> bool:
        """True when logged in with the phone connected; otherwise shows why and returns False."""
        w = self.w
        page = w.page
        assert page is not None
        if self.reload_at is not None:
            if time.monotonic() >= self.reload_at:
                self.load()
            else:
                self.went_offline("the page could not be loaded", reload=False)
            return False
        s = page.session()
        login = s["login"]
        if login == "offline":
            if s["net_error"]:
                self.went_offline("the page could not be loaded", reload=True)
            else:
                self.went_offline("WhatsApp Web says this computer is not connected", reload=False)
            return False
        if self.offline_since is not None:
            self.back_online()
        if login == "use_here":
            log.info("WhatsApp is open in another window: clicking 'Use here'")
            page.click("use_here_button")
            w.store.log_event("use_here", "WhatsApp was open in another window: took it back ('Use here')")
            return False
        if login in ("booting", "unknown"):
            if self.booting_since is None:
                self.booting_since = time.monotonic()
            elif time.monotonic() - self.booting_since > w.cfg.browser.boot_timeout:
                err = page.not_found(
                    "logged_in", f"WhatsApp Web did not boot within {w.cfg.browser.boot_timeout:.0f} s; reloading"
                )
                w.store.log_event("boot_timeout", str(err), level="error")
                self.load()
            w.hb.set("booting", current_message_id=None, qr=None, login="booting")
            return False
        self.booting_since = None
        if login == "logged_out":
            if w.store.account_seen(w.account, "logged_out"):
                w.store.log_event(
                    "logged_out", f"account {w.account}: WhatsApp Web is logged out: scan the QR code", level="warning"
                )
            if s["qr_expired"]:
                log.info("QR code expired: reloading it")
                page.click("qr_reload")
            elif time.monotonic() - self._waiting_checked > 2.0:
                w.store.refresh_waiting()  # jobs started while logged out wait too
                self._waiting_checked = time.monotonic()
            w.hb.set("waiting_for_login", current_message_id=None, qr=s["qr"], login="logged_out")
            return False
        if w.store.account_seen(w.account, "logged_in"):
            w.store.log_event("logged_in", f"account {w.account}: WhatsApp Web is logged in")
        elif time.monotonic() - self._waiting_checked > 2.0:
            w.store.refresh_waiting()  # jobs created or resumed meanwhile run, or wait
            self._waiting_checked = time.monotonic()
        if login == "phone_disconnected":
            w.hb.set("phone_disconnected", current_message_id=None, qr=None, login="phone_disconnected")
            return False
        if w.hb.qr() is not None or w.hb.info("login") != "logged_in":
            w.hb.set(w.hb.state, qr=None, login="logged_in")
        return True
