"""The account's health as WhatsApp shows it: limits and bans (worker/limits.py reads the
page's words), written to the store, which decides what the claim may take (known contacts
only under `limited_new`, nothing while `restricted` or `banned`), lifts a limit when its
end passes, and records every move as an event.

A limit is never a broken selector: the line stop and the self-repair ask `blocking()`
first, and a message a limit stopped goes back to the queue with no attempt spent.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable

from selenium.common.exceptions import WebDriverException

from store import states as S
from store.records import AccountLimit

from .context import WorkerContext
from .limits import Limit, UnreadableCounter

log = logging.getLogger("worker")

LOOK_EVERY = 5.0  # seconds between two looks at the banners outside the chats
KNOWN_REFUSALS = 2  # failure marks in a row on contacts the account knows: it is restricted


class AccountWatch:
    """Looks for WhatsApp's limits on the page and keeps the store's account state true to
    them (see the module's docstring)."""

    def __init__(self, ctx: WorkerContext) -> None:
        self.ctx = ctx
        self.last_look = 0.0
        self.counter_seen = False
        self.counter_warned = False
        self.known_refusals = 0
        self.known_noted: set[str] = set()
        # Numbers whose chat holds only our refused message: in the chat list, yet not known.
        self.refused_new: set[str] = set()
        self.looked_at_login = False

    # ------------------------------------------------------------------ the page
    def look(self, *, force: bool = False) -> Limit | None:
        """Read the banners and the ban screen (at most every LOOK_EVERY s unless `force`):
        the limit they show is applied and returned; the unanswered counter is stored."""
        ctx = self.ctx
        if ctx.page is None or (not force and time.monotonic() - self.last_look < LOOK_EVERY):
            return None
        self.last_look = time.monotonic()
        now = ctx.clock.now()
        ctx.store.lift_expired_limits(now=now)
        try:
            seen = ctx.page.limit_texts()
        except WebDriverException:
            return None
        reader = ctx.page.limits
        try:
            limit, counter = reader.outside_chats(list(seen.get("texts") or []), now)
        except UnreadableCounter as exc:
            limit, counter = None, None
            if not self.counter_warned:
                self.counter_warned = True
                log.warning("the unanswered-messages banner is in a format the worker does not know (%s): ignored", exc)
        if counter is not None:
            self.counter_seen = True
            ctx.store.note_unanswered(ctx.account, counter[0], counter[1], now=now)
        elif self.counter_seen and seen.get("side"):
            self.counter_seen = False  # the banner went (a new month): the count no longer holds
            ctx.store.note_unanswered(ctx.account, 0, None, now=now)
        if limit is not None:
            self.apply(limit)
        return limit

    def logged_in(self) -> None:
        """The session is usable: once per login, before anything is claimed, look at the
        banners and note the contacts the chat list shows (known contacts come first)."""
        if self.looked_at_login:
            return
        self.looked_at_login = True
        self.look(force=True)
        try:
            listed = self.ctx.need_page().listed_contacts()
        except WebDriverException:
            return
        self.note_known(listed, "chats")

    def logged_out(self) -> None:
        self.looked_at_login = False

    # ------------------------------------------------------------------ the store
    def apply(self, limit: Limit, *, release: Iterable[int] = ()) -> None:
        """Put the limit on the account (its end: the page's, else the cool-down), giving
        `release` back with no attempt spent. A limit already in force is renewed only when
        the page states a new end: an unstated one does not push the cool-down on."""
        ctx = self.ctx
        now = ctx.clock.now()
        current = ctx.store.account_limit(ctx.account, now=now)
        ids = list(release)
        if current is not None and current.state == limit.state and limit.until in (None, current.until) and not ids:
            return
        if current is not None and current.state == S.BANNED:
            return  # only a person lifts a ban; the page says nothing new
        if (
            current is not None
            and S.LIMITS.index(S.AccountHealth(current.state)) > S.LIMITS.index(S.AccountHealth(limit.state))
            and current.until is not None
            and current.until > now
        ):
            # A restriction in force is not softened by a new-chat notice seen under it.
            limit = Limit(current.state, current.until, limit.text, limit.by_words)
        until = None if limit.state == S.BANNED else ctx.cfg.sending.limit_until(now, limit.until)
        old = ctx.store.set_account_limit(
            ctx.account, limit.state, until=until, reason=limit.describe(), now=now, release=ids
        )
        if old != limit.state:
            end = "for good" if until is None else f"until {time.strftime('%Y-%m-%d %H:%M', time.localtime(until))}"
            log.warning(
                "account %s: WhatsApp says %s (%s); %s",
                ctx.account,
                limit.describe(),
                end,
                "sending stopped for good: a person must look at the account"
                if limit.state == S.BANNED
                else "no attempt is spent; other accounts go on",
            )

    def blocking(self) -> AccountLimit | None:
        """The limit that stops every send of this account now (restricted, banned), if any."""
        ctx = self.ctx
        limit = ctx.store.account_limit(ctx.account, now=ctx.clock.now())
        return limit if limit is not None and limit.state in S.BLOCKING else None

    def in_force(self) -> AccountLimit | None:
        ctx = self.ctx
        return ctx.store.account_limit(ctx.account, now=ctx.clock.now())

    def why_not_selectors(self) -> str | None:
        """Before a line stop or a repair: a limit on the page or in force explains the
        failures (never a broken selector). None when there is none."""
        self.look(force=True)
        limit = self.in_force()
        if limit is None or limit.state == S.LIMITED_NEW:
            return None
        return f"the account is {str(limit.state).replace('_', ' ')} ({limit.reason})"

    # ------------------------------------------------------------------ what sends teach
    def refused(self, phone: str, *, known: bool) -> Limit | None:
        """WhatsApp put its failure mark on a message: to someone new, new people are refused;
        to known contacts twice in a row, everything is. Returns the limit applied."""
        if not known:
            self.known_refusals = 0
            self.refused_new.add(phone)
            limit = Limit(S.LIMITED_NEW, None, "a message to someone new got WhatsApp's failure mark (not sent)")
        else:
            self.known_refusals += 1
            if self.known_refusals < KNOWN_REFUSALS:
                return None
            limit = Limit(
                S.RESTRICTED,
                None,
                f"{self.known_refusals} messages in a row to contacts with a chat got WhatsApp's failure mark",
            )
        self.apply(limit)
        return limit

    def delivered(self) -> None:
        self.known_refusals = 0

    def note_known(self, phones: Iterable[str], source: str) -> None:
        """Contacts the account has a chat with (its chat list, a chat's history)."""
        new = [p for p in phones if p and p not in self.known_noted and p not in self.refused_new]
        if not new:
            return
        self.ctx.store.note_known(self.ctx.account, new, source=source, now=self.ctx.clock.now())
        self.known_noted.update(new)
