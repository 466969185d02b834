"""One row per WhatsApp account, as `python tui.py accounts` and the dashboard show it:
from the config (enabled, limits), the store (login, sent today, worker row) and the
supervisor's published state (its worker's state). Reads only; imports nothing of the
product but config (the store and the status are handed in)."""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Any

import config as configmod


@dataclass
class AccountRow:
    name: str
    enabled: bool
    login: str               # unknown | logged_in | logged_out
    worker: str              # the supervisor's state of its worker, else the worker row's, else "-"
    activity: str            # what the worker does (its row's state: sending, waiting, daily_cap...)
    sent_today: int
    cap_today: int           # 0: no cap
    next_send_at: float | None
    paused: bool
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def local_midnight(now: float) -> float:
    lt = time.localtime(now)
    return time.mktime((lt.tm_year, lt.tm_mon, lt.tm_mday, 0, 0, 0, 0, 0, -1))


def latest_rows(workers: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The newest worker row of each account (rows come newest first)."""
    out: dict[str, dict[str, Any]] = {}
    for row in workers:
        out.setdefault(row.get("account") or configmod.DEFAULT_ACCOUNT, row)
    return out


def account_rows(cfg: Any, store: Any, sup: dict[str, Any] | None, *, now: float | None = None,
                 paused: Any = None) -> list[AccountRow]:
    """`sup`: the supervisor's status (None: never ran); `paused(name)`: is that account's
    pause file there (None: not known here)."""
    now = now or time.time()
    try:
        known = {r["name"]: r for r in store.accounts()}
        sent = store.sent_by_account(local_midnight(now))
        rows = latest_rows(store.workers())
    except Exception:  # an old or busy database: show the config's accounts anyway
        known, sent, rows = {}, {}, {}
    programs = (sup or {}).get("workers") or {}
    alive = bool(sup and sup.get("alive", True) and sup.get("state") != "stopped")
    out = []
    for acc in cfg.all_accounts():
        rec = known.get(acc.name) or {}
        row = rows.get(acc.name) or {}
        info = row.get("info") or {}
        running_row = row and row.get("state") != "stopped"
        prog = programs.get(acc.name) if alive else None
        worker = prog["state"] if prog else ("-" if not acc.enabled else "stopped")
        cap = cfg.for_account(acc.name).sending.cap_today(rec.get("first_sent_at"), now)
        out.append(AccountRow(
            name=acc.name, enabled=acc.enabled, login=rec.get("login") or "unknown", worker=worker,
            activity=row.get("state", "-") if running_row else "-", sent_today=sent.get(acc.name, 0),
            cap_today=cap, next_send_at=info.get("next_send_at") if running_row else None,
            paused=bool(paused(acc.name)) if paused else bool(prog and prog.get("paused")),
            detail=(prog or {}).get("fatal_reason") or (info.get("detail") if running_row else "") or ""))
    return out
