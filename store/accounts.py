"""The store's part about WhatsApp accounts: which exist and are enabled, their login as
their worker last saw it, the limits WhatsApp put on them, the contacts each knows, which
jobs they may send, and what they sent today.

A running job waits (`waiting_for_login`) exactly while none of the accounts that may
send it can send: enabled, logged in, and neither restricted nor banned;
`refresh_waiting` moves jobs both ways.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Iterable, Mapping
from typing import Any

from . import states as S
from .lanes import MAX_SLOT
from .records import Account, AccountLimit
from .schema import LANE_SLOT, SLOT_BITS

DEFAULT_ACCOUNT = "default"  # the one account of a config without [[accounts]]
ATTENTION = "attention:"  # kv documents: an account's worker stopped on a failing selector
LOGIN_STATES = ("unknown", "logged_in", "logged_out")
# How a contact became known (`note_known`): "sent" is written by the store itself when
# an account's message to a contact it had no chat with was sent (a new contact).
SENT = "sent"
_SOURCE = re.compile(r"^[a-z][a-z_]{0,19}$")
_CHUNK = 500

# An account's messages claimed today (since :day) as new contacts (the lane they were
# claimed from is not its own), still in flight: they count toward the day's budget.
FLYING_NEW = f"""(SELECT count(*) FROM messages AS m
     WHERE m.status IN ('sending', 'unknown') AND m.account = a.name AND m.claimed_at >= :day
       AND (m.lane & {SLOT_BITS}) <> a.slot * {LANE_SLOT})"""

# The jobs an account may send that are not finished (its known contacts' messages in
# them move to its lanes).
OPEN_JOBS_OF = """SELECT j.id FROM jobs AS j
     WHERE j.status IN ('pending', 'running', 'paused', 'waiting_for_login')
       AND (NOT EXISTS (SELECT 1 FROM job_accounts AS a WHERE a.job_id = j.id)
            OR EXISTS (SELECT 1 FROM job_accounts AS a WHERE a.job_id = j.id AND a.account = :acc))"""

# The next free slot of a new accounts row (inside the store's serial write).
NEXT_SLOT = "(SELECT coalesce(max(slot), 0) + 1 FROM accounts)"

# An account can send now: enabled, logged in, and neither restricted (until a time to
# come) nor banned. A limited_new account still sends to the contacts it knows.
USABLE = """a.enabled = 1 AND a.login = 'logged_in'
       AND a.limit_state <> 'banned'
       AND NOT (a.limit_state = 'restricted' AND (a.limit_until IS NULL OR a.limit_until > :now))"""

# A job can be sent now when an account that can send may send it.
_SERVABLE = f"""EXISTS (
    SELECT 1 FROM accounts AS a
     WHERE {USABLE}
       AND (NOT EXISTS (SELECT 1 FROM job_accounts AS ja WHERE ja.job_id = j.id)
            OR EXISTS (SELECT 1 FROM job_accounts AS ja WHERE ja.job_id = j.id AND ja.account = a.name)))"""


def local_midnight(now: float) -> float:
    """The start of `now`'s local calendar day (the day of the caps and of new contacts)."""
    day = dt.datetime.fromtimestamp(now).date()
    return dt.datetime(day.year, day.month, day.day).timestamp()


class AccountsMixin:
    """Mixed into Store (uses its `_q`, `_one`, `_exec`, `write`, `set_job_status`, `log_event`)."""

    _q: Any
    _one: Any
    _exec: Any
    write: Any
    set_job_status: Any
    log_event: Any
    put_doc: Any
    get_doc: Any
    delete_doc: Any
    emit_hook: Any
    dialect: Any
    _insert_rows: Any
    release: Any
    give_back: Any

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
                    f"INSERT INTO accounts(name, enabled, updated_at, slot) VALUES (:n, :e, :t, {NEXT_SLOT}) "
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
                f"INSERT INTO accounts(name, login, login_at, updated_at, slot) VALUES (:n, :l, :t, :t, {NEXT_SLOT}) "
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
                r["id"]
                for r in self._q(f"SELECT j.id FROM jobs AS j WHERE j.status = 'running' AND NOT {_SERVABLE}", now=now)
            ]
            running = [
                r["id"]
                for r in self._q(
                    f"SELECT j.id FROM jobs AS j WHERE j.status = 'waiting_for_login' AND {_SERVABLE}", now=now
                )
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
        row: dict[str, Any] | None = self._one(
            "SELECT id, host, heartbeat_at FROM workers WHERE account = :n AND host <> :h "
            "AND state <> 'stopped' AND heartbeat_at >= :t ORDER BY heartbeat_at DESC LIMIT 1",
            n=name,
            h=host,
            t=since,
        )
        return row

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

    # ------------------------------------------------------------------ slots
    def account_slot(self, name: str, *, now: float | None = None) -> int:
        """The account's slot in lanes; its row is created (enabled, login unknown) if missing."""
        row = self._one("SELECT slot FROM accounts WHERE name = :n", n=name)
        if row is not None and row["slot"]:
            return int(row["slot"])
        with self.write():
            self._q(
                f"INSERT INTO accounts(name, updated_at, slot) VALUES (:n, :t, {NEXT_SLOT}) "
                "ON CONFLICT(name) DO NOTHING",
                n=name,
                t=now or time.time(),
            )
            row = self._one("SELECT slot FROM accounts WHERE name = :n", n=name)
        slot = int(row["slot"]) if row is not None else 0
        if not 0 < slot <= MAX_SLOT:
            raise ValueError(f"account {name!r}: no lane slot left (at most {MAX_SLOT} accounts)")
        return slot

    # ------------------------------------------------------------------ limits
    def set_account_limit(
        self,
        name: str,
        state: str,
        *,
        until: float | None = None,
        reason: str = "",
        now: float | None = None,
        release: Iterable[int] = (),
    ) -> str:
        """WhatsApp limited the account (the worker read it on the page): `limited_new`
        (new people refused), `restricted` (nothing can be sent until `until`: the time the
        page stated, else the configured cool-down; required) or `banned` (for good).
        Returns the limit before ('' none). An illegal move (from banned) raises
        IllegalTransition. The event (`limited_new`, `restricted`, `banned`: outbox
        `account.state`) is written in the same transaction; set again with the same state,
        the end and reason are renewed without a new event. `release`: message ids the
        worker holds for this account, given back with no attempt spent (a claimed one goes
        back to the queue; one already counted as a failed attempt gets that attempt back).
        Jobs that no account can send now wait (`refresh_waiting`)."""
        if state not in S.LIMITS:
            raise ValueError(f"unknown account limit {state!r} (known: {', '.join(S.LIMITS)})")
        if state == S.RESTRICTED and until is None:
            raise ValueError("a restriction needs its end (until): the page's, else the configured cool-down")
        now = now or time.time()
        reason = " ".join(str(reason).split())[:300]
        self.account_slot(name, now=now)
        with self.write():
            row = self._one("SELECT limit_state, limit_until, limit_since FROM accounts WHERE name = :n", n=name)
            assert row is not None  # account_slot made it
            old = S.limit_in_force(row["limit_state"], row["limit_until"], now)
            S.check_limit(old, state)
            since = row["limit_since"] if old == state else now
            self._q(
                "UPDATE accounts SET limit_state = :s, limit_until = :u, limit_reason = :r, limit_since = :since, "
                "updated_at = :t WHERE name = :n",
                s=str(state),
                u=None if state == S.BANNED else until,
                r=reason,
                since=since,
                t=now,
                n=name,
            )
            if old != state:
                end = "for good" if state == S.BANNED else (f"until {_clock(until)}" if until else "until lifted")
                self.log_event(
                    str(state),
                    f"account {name}: {str(state).replace('_', ' ')} {end}" + (f": {reason}" if reason else ""),
                    level="error" if state == S.BANNED else "warning",
                    at=now,
                    account=name,
                    payload={"until": None if state == S.BANNED else until, "reason": reason, "previous": old or None},
                )
            self._release_for_limit(name, release, str(state), now)
            self.refresh_waiting(now=now)
        return old

    def _release_for_limit(self, name: str, ids: Iterable[int], state: str, now: float) -> None:
        attempts: dict[int, int] = {}
        for mid in dict.fromkeys(ids):
            row = self._one("SELECT status, account, claimed_by FROM messages WHERE id = :id", id=mid)
            if row is None or (row["account"] or DEFAULT_ACCOUNT) != name:
                continue
            if row["status"] == S.SENDING:
                self.release(mid, worker_id=row["claimed_by"], reason=f"account {state}", now=now)
            elif row["status"] in (S.RETRYING, S.FAILED):
                attempts[mid] = 1
        if attempts:
            self.give_back(attempts, f"account {name} {state}: not the message's fault", now=now)

    def clear_account_limit(self, name: str, why: str = "", *, now: float | None = None, person: bool = False) -> str:
        """The limit ended (the page shows the compose bar again, its time passed, or a
        person says so): returns the limit there was ('' none: nothing changes). A ban is
        lifted only by a person (`person=True`); otherwise IllegalTransition. Event
        `limit_lifted` (outbox `account.state`) in the same transaction; waiting jobs run
        again when the account can send them."""
        now = now or time.time()
        with self.write():
            row = self._one("SELECT limit_state FROM accounts WHERE name = :n", n=name)
            old = (row["limit_state"] if row is not None else "") or S.NO_LIMIT
            if not old:
                return old
            S.check_limit(old, S.NO_LIMIT, person=person)
            self._q(
                "UPDATE accounts SET limit_state = '', limit_until = NULL, limit_reason = NULL, limit_since = NULL, "
                "updated_at = :t WHERE name = :n",
                t=now,
                n=name,
            )
            why = " ".join(str(why).split())[:300]
            self.log_event(
                "limit_lifted",
                f"account {name}: {old.replace('_', ' ')} lifted" + (f": {why}" if why else ""),
                at=now,
                account=name,
                payload={"previous": old, "why": why or None, "by_person": person},
            )
            self.refresh_waiting(now=now)
        return old

    def account_limit(self, name: str, *, now: float | None = None) -> AccountLimit | None:
        """The limit in force on the account (None: none, or its end has passed)."""
        now = now or time.time()
        row = self._one(
            "SELECT limit_state, limit_until, limit_reason, limit_since FROM accounts WHERE name = :n", n=name
        )
        if row is None or not S.limit_in_force(row["limit_state"], row["limit_until"], now):
            return None
        return AccountLimit(
            account=name,
            state=row["limit_state"],
            until=row["limit_until"],
            reason=row["limit_reason"] or "",
            since=row["limit_since"],
        )

    def lift_expired_limits(self, *, now: float | None = None) -> list[str]:
        """Limits whose end has passed are lifted (event `limit_lifted` each); returns the
        accounts. The claim does it when it sees one; a worker that does not claim may call it."""
        now = now or time.time()
        rows = self._q(
            "SELECT name, limit_state, limit_until FROM accounts WHERE limit_state IN ('limited_new', 'restricted') "
            "AND limit_until IS NOT NULL AND limit_until <= :now",
            now=now,
        )
        done = []
        for r in rows:
            with self.write():
                cur = self._one("SELECT limit_state, limit_until FROM accounts WHERE name = :n", n=r["name"])
                if (
                    cur is None
                    or not cur["limit_state"]
                    or S.limit_in_force(cur["limit_state"], cur["limit_until"], now)
                ):
                    continue
                self.clear_account_limit(r["name"], f"its end ({_clock(cur['limit_until'])}) has passed", now=now)
                done.append(r["name"])
        return done

    def account_health(self, name: str, *, now: float | None = None) -> S.AccountHealth:
        """What the account shows (`states.shown_health`): its limit, a stopped line, its
        login, offline (its newest worker says so)."""
        now = now or time.time()
        row = self._one("SELECT login, limit_state, limit_until FROM accounts WHERE name = :n", n=name)
        worker = self._one(
            "SELECT state FROM workers WHERE account = :n ORDER BY heartbeat_at DESC LIMIT 1",
            n=name,
        )
        return S.shown_health(
            row["login"] if row else None,
            row["limit_state"] if row else None,
            row["limit_until"] if row else None,
            now=now,
            attention=self.get_attention(name) is not None,
            offline=worker is not None and worker["state"] == "offline",
        )

    # ------------------------------------------------------------------ known contacts
    def note_known(self, account: str, phones: Iterable[str], *, source: str, now: float | None = None) -> int:
        """Contacts the account has a chat with (seen in its chat list, in a chat's history
        when it opens, ...): `source` names where (a word: "chats", "history"...; "sent" is
        the store's own). Their queued messages in jobs the account may send move to its
        lanes, so that its claims take them first (known contacts) and they never count as
        new contacts. Returns how many were not known before."""
        if not _SOURCE.match(source or ""):
            raise ValueError(f"source must be a short lower-case word such as 'chats', not {source!r}")
        now = now or time.time()
        wanted = list(dict.fromkeys(p for p in phones if p))
        if not wanted:
            return 0
        slot = self.account_slot(account, now=now)
        new: list[str] = []
        with self.write():
            for i in range(0, len(wanted), _CHUNK):
                chunk = wanted[i : i + _CHUNK]
                have = {
                    r["phone"]
                    for r in self._q(
                        "SELECT phone FROM known_contacts WHERE account = :a AND "
                        + self.dialect.in_array("phone", "phones", "TEXT"),
                        a=account,
                        phones=self.dialect.array(chunk),
                    )
                }
                new.extend(p for p in chunk if p not in have)
            if new:
                self._insert_rows(
                    "known_contacts", ("account", "phone", "source", "since"), [(account, p, source, now) for p in new]
                )
                self._relabel_known(account, slot, new)
        return len(new)

    def _relabel_known(self, account: str, slot: int, phones: list[str]) -> None:
        """Queued messages to `phones` that nobody knew move to the account's lanes, in the
        jobs it may send that are not finished: one statement a chunk of phones, each
        (job, phone) a probe of the messages' unique index."""
        for i in range(0, len(phones), _CHUNK):
            self._q(
                "UPDATE messages SET lane = lane + :delta WHERE "
                + self.dialect.in_select("job_id", OPEN_JOBS_OF)
                + " AND "
                + self.dialect.in_array("phone", "phones", "TEXT")
                + f" AND status IN ('pending', 'retrying') AND (lane & {SLOT_BITS}) = 0",
                delta=slot * LANE_SLOT,
                acc=account,
                phones=self.dialect.array(phones[i : i + _CHUNK]),
            )

    def _note_sent(self, message_id: int, now: float) -> None:
        """The message was sent (in the caller's transaction): its account has sent (the
        warm-up counts from its first day), and knows the contact from now on (a chat
        exists); a contact it did not know is one more new contact today (source "sent"),
        and the contact's other queued messages move to its lanes."""
        day = local_midnight(now)
        if self.dialect.note_sent_sql:  # all of it in one statement
            self._exec(self.dialect.note_sent_sql, now=now, id=message_id, day=day)
            return
        new = self._one(
            "INSERT INTO known_contacts(account, phone, source, since) "
            "SELECT account, phone, 'sent', :now FROM messages WHERE id = :id AND account IS NOT NULL "
            "ON CONFLICT (account, phone) DO NOTHING RETURNING account, phone",
            now=now,
            id=message_id,
        )
        row = self._one(
            "UPDATE accounts SET first_sent_at = coalesce(first_sent_at, :now), "
            "new_sent = CASE WHEN :new = 0 THEN new_sent WHEN new_day = :day THEN new_sent + 1 ELSE 1 END, "
            "new_day = CASE WHEN :new = 0 THEN new_day ELSE :day END "
            "WHERE name = (SELECT account FROM messages WHERE id = :id) AND (first_sent_at IS NULL OR :new = 1) "
            "RETURNING slot",
            now=now,
            new=int(new is not None),
            day=day,
            id=message_id,
        )
        if new is not None and row is not None and row["slot"]:
            self._relabel_known(new["account"], int(row["slot"]), [new["phone"]])

    def is_known(self, account: str, phone: str) -> bool:
        return (
            self._one("SELECT 1 AS x FROM known_contacts WHERE account = :a AND phone = :p", a=account, p=phone)
            is not None
        )

    def known_count(self, account: str) -> int:
        row = self._one("SELECT count(*) AS n FROM known_contacts WHERE account = :a", a=account)
        return int(row["n"]) if row else 0

    def new_contacts_today(self, account: str, *, now: float | None = None) -> int:
        """New contacts the account wrote to since local midnight: sent (counted when sent)
        or in flight (claimed today as a new contact, not proven sent yet)."""
        now = now or time.time()
        row = self._one(
            f"SELECT CASE WHEN a.new_day = :day THEN a.new_sent ELSE 0 END + {FLYING_NEW} AS n "
            "FROM accounts AS a WHERE a.name = :a",
            a=account,
            day=local_midnight(now),
        )
        return int(row["n"]) if row else 0

    def new_by_account(self, since: float) -> dict[str, int]:
        """New contacts written to (and sent) at or after `since`, by account."""
        return {
            r["account"]: int(r["n"])
            for r in self._q(
                "SELECT account, count(*) AS n FROM known_contacts WHERE source = 'sent' AND since >= :t "
                "GROUP BY account",
                t=since,
            )
        }

    # ------------------------------------------------------------------ unanswered messages
    def note_unanswered(self, account: str, value: int, cap: int | None = None, *, now: float | None = None) -> None:
        """WhatsApp's counter of the account's unanswered messages to new people, as the
        worker read it (and its cap, when shown). Within `[sending] unanswered_margin` of
        the cap, the claim takes only known contacts for this account."""
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"unanswered must be a count (0 or more), not {value!r}")
        if cap is not None and (isinstance(cap, bool) or not isinstance(cap, int) or cap <= 0):
            raise ValueError(f"the unanswered cap must be a positive count, not {cap!r}")
        now = now or time.time()
        self.account_slot(account, now=now)
        with self.write():
            self._q(
                "UPDATE accounts SET unanswered = :v, unanswered_cap = :c, unanswered_at = :t, updated_at = :t "
                "WHERE name = :n",
                v=value,
                c=cap,
                t=now,
                n=account,
            )


def _clock(ts: float | None) -> str:
    if ts is None:
        return "-"
    return dt.datetime.fromtimestamp(ts).astimezone().isoformat(timespec="minutes")
