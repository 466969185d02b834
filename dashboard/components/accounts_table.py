"""The accounts table: one row per WhatsApp account (its worker, login or the limit
WhatsApp put on it, sent today / cap, next send). Shown when there is more than one
account; the cursor chooses whose worker the worker panel shows, and `a` pauses or
resumes the selected account."""

from __future__ import annotations

from typing import Any

from textual import on
from textual.widgets import DataTable

from jobs.overview import AccountRow

from ..fmt import STATUS_STYLE, duration
from ..messages import AccountSelected
from ..snapshot import Snapshot
from .difftable import Cells, DiffTable, styled

COLUMNS = [
    ("Account", "name", 12),
    ("Worker", "worker", 9),
    ("Login", "login", 11),
    ("Today", "today", 9),
    ("Next", "next", 6),
]
LOGIN_STYLE = {
    "logged_in": "green",
    "logged_out": "bold yellow",
    "unknown": "dim",
    "limited_new": "bold yellow",
    "restricted": "bold red",
    "banned": "bold red reverse",
}


def account_cells(a: AccountRow, now: float) -> Cells:
    worker = "paused" if a.paused and a.enabled else (a.worker if a.enabled else "disabled")
    shown = a.health if a.limited else a.login
    today = f"{a.sent_today}/{a.cap_today}" if a.cap_today else f"{a.sent_today}/-"
    full = bool(a.cap_today) and a.sent_today >= a.cap_today
    nxt = duration(a.next_send_at - now) if a.next_send_at and a.next_send_at > now else "-"
    if a.limited and a.health != "limited_new":  # it sends nothing: next is the limit's end
        nxt = _left(a, now) or "never"
    style = STATUS_STYLE.get(worker, "yellow" if worker == "paused" else None)
    if a.remote:  # another host's account: where it runs, or that it is gone
        worker, style = ("lost", "bold red") if a.lost else (f"@{a.host}", "dim")
    return (
        a.name,
        styled(worker, style),
        # A limit WhatsApp put on the account (limited_new, restricted, banned) before its login.
        styled(shown.replace("_", " "), LOGIN_STYLE.get(shown)),
        styled(today, "yellow" if full else None),
        nxt,
    )


def _left(a: AccountRow, now: float) -> str:
    """The time a limit has left ('' for a ban: it has no end)."""
    if a.limited and a.limit_until and a.limit_until > now:
        return duration(a.limit_until - now)
    return ""


class AccountsTable(DiffTable):
    """One row per account (shown with several); posts AccountSelected when the cursor moves."""

    BORDER_TITLE = "Accounts"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(COLUMNS, id="accounts", **kwargs)
        self._last: str | None = None

    def apply(self, snap: Snapshot) -> None:
        self.display = snap.many_accounts
        self.sync([(a.name, account_cells(a, snap.at)) for a in snap.accounts])
        self.styles.height = min(len(snap.accounts), 5) + 2  # top border, header, rows
        waiting = sum(1 for a in snap.accounts if a.enabled and a.login != "logged_in" and not a.remote)
        limited = sum(1 for a in snap.accounts if a.enabled and a.limited)
        title = f"Accounts · {waiting} to log in (L)" if waiting else "Accounts"
        self.border_title = title + (f" · {limited} limited by WhatsApp" if limited else "")
        self._announce()

    def _announce(self) -> None:
        name = self.selected_key()
        if name != self._last:
            self._last = name
            self.post_message(AccountSelected(name))

    @on(DataTable.RowHighlighted)
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self._announce()
