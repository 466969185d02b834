"""The WhatsApp Web session: booting, logged out (QR), "Use here", phone not connected,
this computer offline; and who "we" are on the page (the account's own number and profile
name, learned once at login).

Running jobs wait (`waiting_for_login`) while no account that may send them is logged in
(the store decides from every account's login) and run again by themselves after the
next login. Offline is a state too: the worker says so once, uses no attempt and no
restart, tries again with a capped backoff for as long as it takes, and goes on by itself
when the network is back."""

from __future__ import annotations

import logging
import re
import time

from store.states import WorkerState as W

from . import doctor_js as DJ
from .context import WorkerContext
from .errors import Offline

log = logging.getLogger("worker")

OFFLINE_RETRY_FIRST = 2.0  # seconds before the first new try of a page that did not load
OFFLINE_RETRY_MAX = 60.0  # ... doubling up to this
OWN_NAME_DOC = "own_name:"  # + account: the profile name our own bubbles carry


class Session:
    """Keeps the worker's WhatsApp Web session usable and says why when it is not."""

    def __init__(self, ctx: WorkerContext) -> None:
        self.ctx = ctx
        self.booting_since: float | None = None
        self._waiting_checked = 0.0
        self.offline_since: float | None = None
        self.offline_delay = OFFLINE_RETRY_FIRST
        self.reload_at: float | None = None  # the page did not load: load it again at this time
        self.identity_checked = False

    # ------------------------------------------------------------------ offline
    def load(self) -> None:
        """Load WhatsApp Web; when the network does not let it, go offline (no exception)."""
        page = self.ctx.need_page()
        try:
            page.load()
        except Offline as exc:
            self.went_offline(f"the page could not be loaded ({exc.reason})", reload=True)
            return
        self.reload_at = None
        self.booting_since = time.monotonic()

    def went_offline(self, reason: str, *, reload: bool) -> None:
        ctx = self.ctx
        now = time.monotonic()
        if self.offline_since is None:
            self.offline_since = now
            self.offline_delay = OFFLINE_RETRY_FIRST
            log.warning("offline: %s; trying again by itself (no attempt is used)", reason)
            ctx.store.log_event("offline", f"account {ctx.account}: offline: {reason}", level="warning")
        if reload and (self.reload_at is None or now >= self.reload_at):
            self.reload_at = now + self.offline_delay
            self.offline_delay = min(self.offline_delay * 2, OFFLINE_RETRY_MAX)
        ctx.hb.set(
            W.OFFLINE,
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
        self.ctx.store.log_event("online", f"account {self.ctx.account}: the network is back after {gone:.0f} s")

    def ensure(self) -> bool:
        """True when logged in with the phone connected; otherwise shows why and returns False."""
        ctx = self.ctx
        page = ctx.need_page()
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
            ctx.store.log_event("use_here", "WhatsApp was open in another window: took it back ('Use here')")
            return False
        if login in ("booting", "unknown"):
            if self.booting_since is None:
                self.booting_since = time.monotonic()
            elif time.monotonic() - self.booting_since > ctx.cfg.browser.boot_timeout:
                err = page.not_found(
                    "logged_in", f"WhatsApp Web did not boot within {ctx.cfg.browser.boot_timeout:.0f} s; reloading"
                )
                ctx.store.log_event("boot_timeout", str(err), level="error")
                self.load()
            ctx.hb.set(W.BOOTING, current_message_id=None, qr=None, login="booting")
            return False
        self.booting_since = None
        if login == "logged_out":
            self.identity_checked = False
            if ctx.store.account_seen(ctx.account, "logged_out"):
                ctx.store.log_event(
                    "logged_out",
                    f"account {ctx.account}: WhatsApp Web is logged out: scan the QR code",
                    level="warning",
                )
            if s["qr_expired"]:
                log.info("QR code expired: reloading it")
                page.click("qr_reload")
            elif time.monotonic() - self._waiting_checked > 2.0:
                ctx.store.refresh_waiting()  # jobs started while logged out wait too
                self._waiting_checked = time.monotonic()
            ctx.hb.set(W.WAITING_FOR_LOGIN, current_message_id=None, qr=s["qr"], login="logged_out")
            return False
        if ctx.store.account_seen(ctx.account, "logged_in"):
            ctx.store.log_event("logged_in", f"account {ctx.account}: WhatsApp Web is logged in")
        elif time.monotonic() - self._waiting_checked > 2.0:
            ctx.store.refresh_waiting()  # jobs created or resumed meanwhile run, or wait
            self._waiting_checked = time.monotonic()
        if login == "phone_disconnected":
            ctx.hb.set(W.PHONE_DISCONNECTED, current_message_id=None, qr=None, login="phone_disconnected")
            return False
        if ctx.hb.qr() is not None or ctx.hb.info("login") != "logged_in":
            ctx.hb.set(ctx.hb.state, qr=None, login="logged_in")
        if not self.identity_checked:
            self.identity_checked = True
            self.learn_identity()
        return True

    # ------------------------------------------------------------------ who we are
    def own_number(self) -> str | None:
        """The account's own number: from the config, else as WhatsApp Web keeps it."""
        if self.ctx.cfg.heal.own_number:
            return self.ctx.cfg.heal.own_number
        try:
            number = self.ctx.need_page().driver.execute_script(DJ.OWN_NUMBER)
        except Exception:
            return None
        return str(number) if number else None

    def stored_own_name(self) -> str | None:
        name = self.ctx.store.get_doc(OWN_NAME_DOC + self.ctx.account)
        return name if isinstance(name, str) and name else None

    def note_own_name(self, name: str) -> None:
        """Our own bubbles carry this sender (a page that writes the profile name, not "You")."""
        page = self.ctx.need_page()
        you = {w.lower() for w in page.you}
        if not name or name.lower() in you or len(name) > 100:
            return
        if page.own_name != name:
            log.info("our own bubbles carry the profile name %r: reading it as ours from now on", name)
            page.learn_own_name(name)
            self.ctx.store.put_doc(OWN_NAME_DOC + self.ctx.account, name)

    def learn_identity(self) -> None:
        """Once per login: the profile name this page may write on our own bubbles instead
        of "You", as WhatsApp Web keeps it for the logged-in account (its contact record in
        IndexedDB). Without one, our bubbles teach it (`note_own_name`)."""
        page = self.ctx.need_page()
        stored = self.stored_own_name()
        if stored:
            page.learn_own_name(stored)
            return
        number = self.own_number()
        if not number:
            return
        try:
            page.driver.set_script_timeout(5)
            name = page.driver.execute_async_script(DJ.OWN_NAME, re.sub(r"\D", "", number))
        except Exception as exc:  # an old browser, a page without it: the bubbles will tell
            log.info("the account's profile name could not be read (%s)", exc.__class__.__name__)
            return
        if isinstance(name, str) and name.strip() and re.search(r"[^\W\d_]", name):
            self.note_own_name(name.strip())
