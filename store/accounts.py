"""The store's part about WhatsApp accounts: which exist and are enabled, their login as
their worker last saw it, which jobs they may send, and what they sent today.

A running job waits (`waiting_for_login`) exactly while none of the accounts that may
send it is enabled and logged in; `refresh_waiting` moves jobs both ways.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from . import states as S
from .records import Account

DEFAULT_ACCOUNT = "default"  # the one account of a config without [[accounts]]
ATTENTION = "attention:"  # kv documents: an account's worker stopped on a failing selector
LOGIN_STATES = ("unknown", "logged_in", "logged_out")

# A job can be sent now when an enabled, logged-in account may send it.
_SERVABLE = """EXISTS (
    SELECT 1 FROM accounts AS a
     WHERE a.enabled = 1 AND a.login = 'logged_in'
       AND (NOT EXISTS (SELECT 1 FROM job_accounts AS ja WHERE ja.job_id = j.id)
            OR EXISTS (SELECT 1 FROM job_accounts AS ja WHERE ja.job_id = j.id AND ja.account = a.name)))"""


class AccountsMixin:
    """Mixed into Store (uses its `_q`, `_one`, `write`, `set_job_status`, `log_event`)."""

    _q: Any
    _one: Any
    write: Any
    set_job_status: Any
    log_event: Any
    put_doc: Any
    get_doc: Any
    delete_doc: Any
    emit_hook: Any

    # ------------------------------------------------------------------ attention
    def put_attention(self, account: str, doc: dict[str, Any]) -> None:
        """Sending of `account` stopped on a failing selector (its outbox event in the same transaction)."""
        with self.write():
            self.put_doc(ATTENTION + account, {**doc, "account": account})
            self.emit_hook(
                "needs_attention",
                f"account {account}: selector {doc.get('key')!r} failed: sending stopped",
                account=account,
                payload={
                    "key": doc.get("key"),
                    "detail": doc.get("detail"),
                    "messages": len(doc.get("messages") or []),
                },
            )

    def update_attention(self, account: str, doc: dict[str, Any]) -> None:
        """The same stop, its document changed (the self-repair's progress): no new event."""
        self.put_doc(ATTENTION + account, {**doc, "account": account})

    def get_attention(self, account: str) -> dict[str, Any] | None:
        doc = self.get_doc(ATTENTION + account)
        return doc if isinstance(doc, dict) and doc.get("key") else None

    def attentions(self) -> dict[str, dict[str, Any]]:
        """Every account whose worker stopped on a failing selector, with its document."""
        out = {}
        for r in self._q("SELECT name FROM kv WHERE name LIKE 'attention:%' ORDER BY name"):
            doc = self.get_attention(r["name"][len(ATTENTION) :])
            if doc:
                out[r["name"][len(ATTENTION) :]] = doc
        return out

    def clear_attention(self, account: str | None = None, *, keys: Any = None, why: str = "") -> list[str]:
        """End the stop of one account (None: of every account); with `keys`, only where
        the stop's key is among them. Returns the accounts whose stop ended."""
        cleared = []
        for name, doc in self.attentions().items():
            mine = (account is None or name == account) and (keys is None or doc["key"] in keys)
            if not mine:
                continue
            with self.write():
                if self.delete_doc(ATTENTION + name):
                    cleared.append(name)
                    self.log_event("attention_cleared", f"account {name}: {why or 'cleared'}", account=name)
        return cleared

    def sync_accounts(self, enabled: Mapping[str, bool], *, now: float | None = None) -> None:
        """The config's accounts: add the new ones, record which are enabled."""
        now = now or time.time()
        with self.write():
            for name, on in enabled.items():
                self._q(
                    "INSERT INTO accounts(name, enabled, updated_at) VALUES (:n, :e, :t) "
                    "ON CONFLICT(name) DO UPDATE SET enabled = :e, updated_at = :t "
                    "WHERE accounts.enabled <> :e",
                    n=name,
                    e=int(bool(on)),
                    t=now,
                )
            self.refresh_waiting(now=now)

    def account_seen(self, name: str, login: str, *, now: float | None = None) -> bool:
        """The account's worker saw this login state. True when it changed; jobs that
        depend on it wait or run again accordingly."""
        if login not in LOGIN_STATES:
            raise ValueError(f"unknown login state {login!r}")
        now = now or time.time()
        with self.write():
            row = self._one("SELECT login FROM accounts WHERE name = :n", n=name)
            if row is not None and row["login"] == login:
                return False
            self._q(
                "INSERT INTO accounts(name, login, login_at, updated_at) VALUES (:n, :l, :t, :t) "
                "ON CONFLICT(name) DO UPDATE SET login = :l, login_at = :t, updated_at = :t",
                n=name,
                l=login,
                t=now,
            )
            if login in ("logged_in", "logged_out"):
                self.emit_hook(login, f"account {name}: {login.replace('_', ' ')}", account=name, at=now)
            self.refresh_waiting(now=now)
            return True

    def refresh_waiting(self, *, now: float | None = None) -> tuple[list[int], list[int]]:
        """Running jobs no account can send now wait for a login; waiting jobs that one
        can send run again. Returns (now waiting, running again)."""
        now = now or time.time()
        with self.write():
            waiting = [
                r["id"] for r in self._q(f"SELECT j.id FROM jobs AS j WHERE j.status = 'running' AND NOT {_SERVABLE}")
            ]
            running = [
                r["id"]
                for r in self._q(f"SELECT j.id FROM jobs AS j WHERE j.status = 'waiting_for_login' AND {_SERVABLE}")
            ]
            for job_id in waiting:
                self.set_job_status(job_id, S.JOB_WAITING, now=now)
            for job_id in running:
                self.set_job_status(job_id, S.JOB_RUNNING, now=now)
            return waiting, running

    def set_account_enabled(self, name: str, enabled: bool, *, now: float | None = None) -> None:
        self.sync_accounts({name: enabled}, now=now)

    def accounts(self) -> list[Account]:
        return [Account.of(r) for r in self._q("SELECT * FROM accounts ORDER BY name")]

    def account(self, name: str) -> Account | None:
        row = self._one("SELECT * FROM accounts WHERE name = :n", n=name)
        return Account.of(row) if row is not None else None

    def account_elsewhere(self, name: str, host: str, *, since: float) -> dict[str, Any] | None:
        """A live worker of account `name` on another host (heartbeat at or after `since`):
        an account's chats are on one host, so a second host must not send for it."""
        return self._one(
            "SELECT id, host, heartbeat_at FROM workers WHERE account = :n AND host <> :h "
            "AND state <> 'stopped' AND heartbeat_at >= :t ORDER BY heartbeat_at DESC LIMIT 1",
            n=name,
            h=host,
            t=since,
        )

    def job_accounts(self, job_id: int) -> list[str]:
        return [
            r["account"]
            for r in self._q("SELECT account FROM job_accounts WHERE job_id = :j ORDER BY account", j=job_id)
        ]

    def sent_by_account(self, since: float) -> dict[str, int]:
        """Messages sent at or after `since`, by account."""
        return {
            r["account"] or DEFAULT_ACCOUNT: int(r["n"])
            for r in self._q(
                "SELECT account, count(*) AS n FROM messages WHERE sent_at >= :t GROUP BY account", t=since
            )
        }

    def counts_by_account(self) -> dict[str, dict[str, int]]:
        """Messages sent, failed, invalid and in doubt (unknown), per account that claimed
        them: partial indexes only (an import never writes to them)."""
        out: dict[str, dict[str, int]] = {}
        for r in self._q(
            "SELECT account, count(*) AS n FROM messages INDEXED BY ix_messages_account_sent "
            "WHERE sent_at IS NOT NULL GROUP BY account"
        ):
            out.setdefault(r["account"] or DEFAULT_ACCOUNT, {})["sent"] = int(r["n"])
        for r in self._q(
            "SELECT account, status, count(*) AS n FROM messages "
            "WHERE status = 'failed' OR status = 'unknown' OR status = 'invalid' GROUP BY account, status"
        ):
            out.setdefault(r["account"] or DEFAULT_ACCOUNT, {})[r["status"]] = int(r["n"])
        return out
