"""One row per WhatsApp account, as `python tui.py accounts` and the dashboard show it:
from the config (enabled, limits), the store (login, health and limits, sent today, new
contacts today, worker row) and the supervisor's published state (its worker's state).
Reads only; imports nothing of the product but the settings, `common` and the store's
record types and states (the store and the status are handed in)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from typing import Any, Protocol

import settings
from common import runfiles
from store.records import Account, WorkerRow
from store.states import AccountHealth, limit_in_force, shown_health


class AccountsSource(Protocol):
    """What the overview reads of the store (a `Store`, or the dashboard's `ReadMostlyStore`)."""

    def accounts(self) -> list[Account]: ...

    def sent_by_account(self, since: float) -> dict[str, int]: ...

    def new_by_account(self, since: float) -> dict[str, int]: ...

    def workers(self) -> list[WorkerRow]: ...

    def attentions(self) -> dict[str, dict[str, Any]]: ...


@dataclass
class AccountRow:
    """One account as people see it: the config's settings, the store's login and
    counts, and its worker's state as the supervisor (or another host's row) tells it."""

    name: str
    enabled: bool
    login: str  # unknown | logged_in | logged_out
    worker: str  # the supervisor's state of its worker, else the worker row's, else "-"
    activity: str  # what the worker does (its row's state: sending, waiting, daily_cap...)
    sent_today: int
    cap_today: int  # 0: no cap
    next_send_at: float | None
    paused: bool
    detail: str = ""
    host: str = ""  # where its worker runs
    remote: bool = False  # another host's account: paused and stopped there
    lost: bool = False  # its worker's heartbeat went stale without a stop
    # Account health (store.states.shown_health): its limit if WhatsApp put one on it
    # (limited_new, restricted, banned; until when, what the page said), else its login.
    health: str = "unknown"
    limit_until: float | None = None
    limit_reason: str = ""
    new_today: int = 0  # new contacts written to today
    new_cap: int = 0  # today's budget of them (after the warm-up)
    unanswered: int | None = None  # WhatsApp's count of unanswered messages to new people
    unanswered_cap: int | None = None

    @property
    def limited(self) -> bool:
        return self.health in (AccountHealth.LIMITED_NEW, AccountHealth.RESTRICTED, AccountHealth.BANNED)

    @property
    def here(self) -> bool:
        return not self.remote

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def local_midnight(now: float) -> float:
    lt = time.localtime(now)
    return time.mktime((lt.tm_year, lt.tm_mon, lt.tm_mday, 0, 0, 0, 0, 0, -1))


def latest_rows(workers: Iterable[WorkerRow]) -> dict[str, WorkerRow]:
    """The newest worker row of each account (rows come newest first)."""
    out: dict[str, WorkerRow] = {}
    for row in workers:
        out.setdefault(row.get("account") or settings.DEFAULT_ACCOUNT, row)
    return out


def account_rows(
    cfg: settings.Config,
    store: AccountsSource,
    sup: dict[str, Any] | None,
    *,
    now: float | None = None,
    paused: Callable[[str], bool] | None = None,
) -> list[AccountRow]:
    """Every account of the config, in its order, then other hosts' accounts that this
    store knows. `sup`: the supervisor's status (None: never ran; Any: its published JSON
    document); `paused(name)`: is that account's pause file there (None: not known here)."""
    now = now or time.time()
    known: dict[str, Account]
    sent: dict[str, int]
    new: dict[str, int]
    rows: dict[str, WorkerRow]
    stopped: dict[str, dict[str, Any]]
    try:
        known = {r["name"]: r for r in store.accounts()}
        sent = store.sent_by_account(local_midnight(now))
        rows = latest_rows(store.workers())
        new = store.new_by_account(local_midnight(now))
        stopped = store.attentions()
    except Exception:  # an old or busy database: show the config's accounts anyway
        known, sent, rows, new, stopped = {}, {}, {}, {}, {}
    programs = (sup or {}).get("workers") or {}
    alive = bool(sup and sup.get("alive", True) and sup.get("state") != "stopped")
    out = []
    here = runfiles.host_name()
    for acc in cfg.all_accounts():
        rec = known.get(acc.name)
        row = rows.get(acc.name)
        info = (row.info if row is not None else None) or {}
        running = row if row is not None and row.state != "stopped" else None  # its worker row, if not stopped
        prog = programs.get(acc.name) if alive else None
        worker = prog["state"] if prog else ("-" if not acc.enabled else "stopped")
        sending = cfg.for_account(acc.name).sending
        first = rec.first_sent_at if rec else None
        cap = sending.cap_today(first, now)
        out.append(
            AccountRow(
                name=acc.name,
                enabled=acc.enabled,
                login=(rec.login if rec else None) or "unknown",
                worker=worker,
                activity=running.state if running is not None else "-",
                sent_today=sent.get(acc.name, 0),
                cap_today=cap,
                next_send_at=info.get("next_send_at") if running is not None else None,
                paused=bool(paused(acc.name)) if paused else bool(prog and prog.get("paused")),
                detail=(prog or {}).get("fatal_reason") or (info.get("detail") if running is not None else "") or "",
                host=here,
                new_today=new.get(acc.name, 0),
                new_cap=sending.new_contacts_today(first, now),
                **_health(rec, running, acc.name in stopped, now),
            )
        )
    local = {a.name for a in out}
    for name in sorted((set(known) | set(rows)) - local):
        remote = rows.get(name)
        if remote is None or (remote.host or here) == here:
            continue  # an account this host no longer configures: nothing runs it
        theirs = remote_row(name, known.get(name), remote, sent.get(name, 0), now)
        for k, v in _health(known.get(name), remote if not theirs.lost else None, name in stopped, now).items():
            setattr(theirs, k, v)
        theirs.new_today = new.get(name, 0)
        out.append(theirs)
    return out


def _health(rec: Account | None, worker: WorkerRow | None, stopped: bool, now: float) -> dict[str, Any]:
    """The health fields of an account's row (Any: each field its own type)."""
    state = rec.limit_state if rec else ""
    in_force = limit_in_force(state, rec.limit_until if rec else None, now)
    return {
        "health": str(
            shown_health(
                rec.login if rec else None,
                state,
                rec.limit_until if rec else None,
                now=now,
                attention=stopped,
                offline=worker is not None and worker.state == "offline",
            )
        ),
        "limit_until": rec.limit_until if rec and in_force else None,
        "limit_reason": (rec.limit_reason or "") if rec and in_force else "",
        "unanswered": rec.unanswered if rec else None,
        "unanswered_cap": rec.unanswered_cap if rec else None,
    }


def remote_row(name: str, rec: Account | None, row: WorkerRow, sent_today: int, now: float) -> AccountRow:
    """Another host's account, as its worker row tells it (`rec`: its accounts row, if any)."""
    host = row.host or "?"
    info = row.info or {}
    stopped = row.state == "stopped"
    age = now - (row.heartbeat_at or 0)
    lost = not stopped and age > runfiles.LOST_AFTER
    if lost:
        detail = (
            f"host {host} lost: no heartbeat for {age:.0f} s; messages in doubt wait for account {name} "
            "to come back (on any host with its profile)"
        )
    else:
        detail = f"runs on host {host}: pause or stop this account there (its signal files)"
    live = not stopped and not lost
    return AccountRow(
        name=name,
        enabled=bool(rec.enabled if rec else 1),
        login=(rec.login if rec else None) or "unknown",
        worker="lost" if lost else ("stopped" if stopped else "running"),
        activity=row.state if live else "-",
        sent_today=sent_today,
        cap_today=int(info.get("cap_today") or 0),
        next_send_at=info.get("next_send_at") if live else None,
        paused=False,
        detail=detail,
        host=host,
        remote=True,
        lost=lost,
    )
