"""The WhatsApp Web session: booting, logged out (QR), "Use here", phone not connected.

Running jobs wait (`waiting_for_login`) while the account is logged out and run again
by themselves after the next login."""
from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .runner import Worker

log = logging.getLogger("worker")


class Session:
    def __init__(self, worker: "Worker") -> None:
        self.w = worker
        self.jobs_waiting = True       # until the first login is seen, waiting jobs are resumed on login
        self.booting_since: float | None = None
        self._waiting_checked = 0.0

    def ensure(self) -> bool:
        """True when logged in with the phone connected; otherwise shows why and returns False."""
        w = self.w
        page = w.page
        assert page is not None
        s = page.session()
        login = s["login"]
        if login == "use_here":
            log.info("WhatsApp is open in another window: clicking 'Use here'")
            page.click("use_here_button")
            w.store.log_event("use_here", "WhatsApp was open in another window: took it back ('Use here')")
            return False
        if login in ("booting", "unknown"):
            if self.booting_since is None:
                self.booting_since = time.monotonic()
            elif time.monotonic() - self.booting_since > w.cfg.browser.boot_timeout:
                err = page.not_found("logged_in", f"WhatsApp Web did not boot within "
                                                  f"{w.cfg.browser.boot_timeout:.0f} s; reloading")
                w.store.log_event("boot_timeout", str(err), level="error")
                page.load()
                self.booting_since = time.monotonic()
            w.hb.set("booting", current_message_id=None, qr=None, login="booting")
            return False
        self.booting_since = None
        if login == "logged_out":
            if not self.jobs_waiting:
                w.store.set_jobs_waiting(True)
                self.jobs_waiting = True
                w.store.log_event("logged_out", "WhatsApp Web is logged out: scan the QR code", level="warning")
            if s["qr_expired"]:
                log.info("QR code expired: reloading it")
                page.click("qr_reload")
            elif time.monotonic() - self._waiting_checked > 2.0:
                w.store.set_jobs_waiting(True)  # jobs started while logged out wait too
                self._waiting_checked = time.monotonic()
            w.hb.set("waiting_for_login", current_message_id=None, qr=s["qr"], login="logged_out")
            return False
        if self.jobs_waiting:
            w.store.set_jobs_waiting(False)
            self.jobs_waiting = False
            w.store.log_event("logged_in", "WhatsApp Web is logged in")
        if login == "phone_disconnected":
            w.hb.set("phone_disconnected", current_message_id=None, qr=None, login="phone_disconnected")
            return False
        if w.hb.qr() is not None or w.hb.info("login") != "logged_in":
            w.hb.set(w.hb.state, qr=None, login="logged_in")
        return True
