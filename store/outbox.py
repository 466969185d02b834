"""The store's part about the outbox: what other systems hear (webhooks, the alert
command), written in the same transaction as the change it reports, so that no crash
loses an event; and its delivery, one row per (event, target), claimed by the deliverer
of one host at a time and delivered in order per lane (a webhook's lane is the account).

`HOOKS` is the one table of which store event kinds become which outbox events. A kind
whose hook says `at_change` is emitted by the store method that makes the change
(`account_seen`, `put_attention`, `add_optout`, `add_replies`), and its `log_event` row
(written by the worker afterwards) is not mapped again; every other kind is emitted by
`log_event`, inside the transaction of the change that logs it. A new kind (a worker
event, an account limit) is one new row here.

Ordering: on SQLite every write holds the database's write lock; on PostgreSQL every
outbox row is written under the store's advisory lock, and so is the fan-out that reads
them: outbox ids therefore become visible in order, and a target's cursor never passes
an id that a transaction still holds.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from common import events as E

from .dialect import MESSAGE_PAYLOAD, WRITE_LOCK_KEY
from .records import Delivery, OutboxEvent

PENDING, DELIVERING, DONE, DEAD = "pending", "delivering", "done", "dead"
FINISHED_JOB = ("completed", "stopped", "failed")
MAX_ERROR = 300


@dataclass(frozen=True)
class Hook:
    """How one store event kind becomes an outbox event (and when)."""

    event: str  # the outbox event (common.events)
    state: str | None = None  # for account.state
    at_change: bool = False  # emitted by the store method that makes the change
    when: Callable[[Mapping[str, Any]], bool] | None = None  # on the extra payload given


# Store event kind -> outbox event. The account limits are logged by the store's
# `set_account_limit` (limited_new, restricted, banned) and `clear_account_limit`
# (limit_lifted), in the transaction of the change; `selectors_repaired` by the worker.
HOOKS: dict[str, Hook] = {
    "sent": Hook(E.MESSAGE_SENT),
    "failed": Hook(E.MESSAGE_FAILED),
    "invalid": Hook(E.MESSAGE_FAILED),
    "unknown": Hook(E.MESSAGE_UNKNOWN),
    # A dead worker's message in `sending` that verification could not decide.
    "undetermined": Hook(E.MESSAGE_UNKNOWN, when=lambda p: p.get("was") == "sending"),
    "reply": Hook(E.MESSAGE_REPLY, at_change=True),
    "optout": Hook(E.CONTACT_OPTOUT, at_change=True),
    "job_status": Hook(E.JOB_FINISHED, when=lambda p: p.get("status") in FINISHED_JOB),
    "logged_in": Hook(E.ACCOUNT_STATE, "logged_in", at_change=True),
    "logged_out": Hook(E.ACCOUNT_STATE, "logged_out", at_change=True),
    "needs_attention": Hook(E.ACCOUNT_STATE, "needs_attention", at_change=True),
    "attention_cleared": Hook(E.ACCOUNT_STATE, "attention_cleared"),
    "offline": Hook(E.ACCOUNT_STATE, "offline"),
    "online": Hook(E.ACCOUNT_STATE, "online"),
    "worker_crash": Hook(E.ACCOUNT_STATE, "worker_crash"),
    "worker_stopped": Hook(E.ACCOUNT_STATE, "worker_stopped"),
    "selectors_repaired": Hook(E.ACCOUNT_STATE, "repaired"),
    "repair_failed": Hook(E.ACCOUNT_STATE, "repair_failed"),
    "limited_new": Hook(E.ACCOUNT_STATE, "limited_new"),
    "restricted": Hook(E.ACCOUNT_STATE, "restricted"),
    "banned": Hook(E.ACCOUNT_STATE, "banned"),
    "limit_lifted": Hook(E.ACCOUNT_STATE, "limit_lifted"),
    "worker_fatal": Hook(E.WORKER_FATAL),
}


def _loads(value: str | None) -> dict[str, Any]:
    out = json.loads(value) if value else {}
    return out if isinstance(out, dict) else {}


class OutboxMixin:
    """Mixed into Store (uses its `_q`, `_one`, `_exec`, `_local`, `write`, `dialect`, `_insert_rows`)."""

    _q: Any
    _one: Any
    _exec: Any
    _local: Any
    write: Any
    dialect: Any
    _insert_rows: Any
    # The account of the worker that registered on this handle: events it logs without
    # naming one (offline, online, crash, stop) are that account's.
    bound_account: str | None = None

    # ------------------------------------------------------------------ writing events
    def emit_hook(
        self,
        kind: str,
        text: str,
        *,
        account: str | None = None,
        job_id: int | None = None,
        message_id: int | None = None,
        payload: Mapping[str, Any] | None = None,
        at: float | None = None,
        message: Mapping[str, Any] | None = None,
    ) -> None:
        """The outbox row that event `kind` makes (HOOKS), if any, in the current
        transaction. `message`: the message's row as this transaction left it (else read)."""
        hook = HOOKS.get(kind)
        if hook is None:
            return None
        extra = dict(payload or {})
        if hook.when is not None and not hook.when(extra):
            return None
        body: dict[str, Any] = {"kind": kind, "summary": text}
        if message_id is not None and hook.event.startswith("message."):
            row = message or self._one(
                "SELECT id, job_id, phone, name, status, attempts, last_error, account, sent_at "
                "FROM messages WHERE id = :id",
                id=message_id,
            )
            if row is not None:
                account = account or row["account"]
                job_id = job_id if job_id is not None else row["job_id"]
                body.update((field, row[column]) for field, column in MESSAGE_PAYLOAD)
        if hook.event == E.JOB_FINISHED and job_id is not None:
            job = self._one("SELECT id, name, status, total, finished_at FROM jobs WHERE id = :id", id=job_id)
            if job is not None:
                counts = {
                    r["status"]: r["n"]
                    for r in self._q("SELECT status, n FROM job_counts WHERE job_id = :j", j=job_id)
                    if r["n"]
                }
                body.update(job_id=job["id"], name=job["name"], total=job["total"], counts=counts)
                body["finished_at"] = job["finished_at"]
        if hook.event == E.ACCOUNT_STATE:
            body["state"] = hook.state
            account = account or self.bound_account
        if hook.event == E.WORKER_FATAL:
            body["reason"] = text
        body.update(extra)
        body.pop("was", None)
        self.emit(hook.event, body, account=account, job_id=job_id, message_id=message_id, at=at)

    def emit(
        self,
        event: str,
        payload: Mapping[str, Any],
        *,
        account: str | None = None,
        job_id: int | None = None,
        message_id: int | None = None,
        at: float | None = None,
    ) -> None:
        """One outbox row. Inside the caller's transaction (or one of its own); on
        PostgreSQL under the store's advisory lock, so that ids become visible in order."""
        with self.write():
            if self.dialect.name == "postgresql" and not getattr(self._local, "serial", True):
                self._exec("SELECT pg_advisory_xact_lock(:k)", k=WRITE_LOCK_KEY)
            self._exec(
                "INSERT INTO outbox(uid, at, event, account, job_id, message_id, payload) "
                "VALUES (:uid, :at, :event, :acc, :job, :msg, :payload)",
                uid=str(uuid.uuid4()),
                at=at or time.time(),
                event=event,
                acc=account,
                job=job_id,
                msg=message_id,
                payload=json.dumps(payload, ensure_ascii=False, default=str),
            )

    def outbox_events(self, *, after_id: int = 0, limit: int = 1000) -> list[OutboxEvent]:
        """Outbox rows in id order (for tests, tools and the bench)."""
        rows = self._q("SELECT * FROM outbox WHERE id > :a ORDER BY id LIMIT :lim", a=after_id, lim=limit)
        for r in rows:
            r["payload"] = _loads(r["payload"])
        return [OutboxEvent.of(r) for r in rows]

    def outbox_last_id(self) -> int:
        row = self._one("SELECT max(id) AS m FROM outbox")
        return int(row["m"] or 0) if row else 0

    # ------------------------------------------------------------------ targets
    def ensure_target(self, name: str, label: str, *, now: float | None = None) -> None:
        """A webhook or the alert command: known from now on; a new one starts after the
        newest event (it hears what happens from now on)."""
        now = now or time.time()
        with self.write():
            self._q(
                "INSERT INTO outbox_targets(name, label, cursor, seen_at) "
                "VALUES (:n, :l, (SELECT coalesce(max(id), 0) FROM outbox), :t) "
                "ON CONFLICT(name) DO UPDATE SET label = :l, seen_at = :t",
                n=name,
                l=label,
                t=now,
            )

    def fan_out(
        self,
        target: str,
        wanted: Callable[[str, str | None], bool],
        *,
        lane: Callable[[str, str | None], str] | None = None,
        limit: int = 2000,
        now: float | None = None,
    ) -> int:
        """The outbox rows after `target`'s cursor that it wants (`wanted(event, state)`)
        become its deliveries, in one transaction with the cursor's move. `lane(event,
        account)`: the order they are delivered in (default: per account)."""
        with self.write():
            cur = self._one("SELECT cursor FROM outbox_targets WHERE name = :t", t=target)
            if cur is None:
                raise KeyError(f"no outbox target {target!r}")
            rows = self._q(
                "SELECT id, at, event, account, payload FROM outbox WHERE id > :c ORDER BY id LIMIT :lim",
                c=cur["cursor"],
                lim=limit,
            )
            if not rows:
                return 0
            out = []
            for r in rows:
                state = _loads(r["payload"]).get("state") if r["event"] == E.ACCOUNT_STATE else None
                if wanted(r["event"], state):
                    key = lane(r["event"], r["account"]) if lane else (r["account"] or "")
                    out.append((target, r["id"], key, PENDING, r["at"]))
            if out:
                self._insert_rows("deliveries", ("target", "outbox_id", "lane", "status", "next_at"), out)
            self._q("UPDATE outbox_targets SET cursor = :c WHERE name = :t", c=rows[-1]["id"], t=target)
            return len(out)

    # ------------------------------------------------------------------ claiming
    def claim_deliveries(
        self, target: str, worker: str, *, lease: float, lanes: int = 16, batch: int = 50, now: float | None = None
    ) -> list[list[Delivery]]:
        """Take the due head of up to `lanes` lanes of `target` (and up to `batch` rows
        that follow it in its lane), for `worker`: lists of deliveries, each a lane in
        order. A head is due when the rows before it in its lane are done or dead, and it
        is pending and due, or claimed more than `lease` seconds ago (a dead deliverer).
        One statement: UPDATE … RETURNING on SQLite (inside its write lock), FOR UPDATE
        SKIP LOCKED on PostgreSQL: two hosts never hold the same lane."""
        now = now or time.time()
        stale = now - lease
        with self.write(serial=self.dialect.name != "postgresql"):
            heads = self._q(
                self.dialect.delivery_claim_sql, me=worker, now=now, stale=stale, target=target, lanes=lanes
            )
            ids: list[int] = []
            for h in heads:
                ids.append(h["id"])
                if batch > 1:
                    more = self._q(
                        "UPDATE deliveries SET status = 'delivering', claimed_by = :me, claimed_at = :now "
                        "WHERE id IN (SELECT id FROM deliveries WHERE target = :target AND lane = :lane "
                        "AND (status = 'pending' OR status = 'delivering') AND outbox_id > :head "
                        "AND (status = 'pending' OR claimed_at < :stale) ORDER BY outbox_id LIMIT :n) RETURNING id",
                        me=worker,
                        now=now,
                        target=target,
                        lane=h["lane"],
                        head=h["outbox_id"],
                        stale=stale,
                        n=batch - 1,
                    )
                    ids.extend(r["id"] for r in more)
            if not ids:
                return []
            params = {f"i{n}": i for n, i in enumerate(ids)}
            rows = self._q(
                "SELECT d.id, d.target, d.outbox_id, d.lane, d.status, d.attempts, d.next_at, d.claimed_by, "
                "d.claimed_at, d.last_error, o.uid, o.at, o.event, o.account, o.payload "
                f"FROM deliveries AS d JOIN outbox AS o ON o.id = d.outbox_id WHERE d.id IN "
                f"({', '.join(':' + k for k in params)}) ORDER BY d.lane, d.outbox_id",
                **params,
            )
        by_lane: dict[str, list[Delivery]] = {}
        for r in rows:
            r["payload"] = _loads(r["payload"])
            by_lane.setdefault(r["lane"], []).append(Delivery.of(r))
        return list(by_lane.values())

    def delivery_done(self, d: Delivery, worker: str, *, note: str | None = None, now: float | None = None) -> bool:
        """Delivered (or, with `note`, settled without delivery). False when the claim was
        lost meanwhile (taken over as stale): the other deliverer delivers it again."""
        now = now or time.time()
        with self.write():
            done = self._q(
                "UPDATE deliveries SET status = 'done', attempts = attempts + :n, done_at = :now, last_error = :e, "
                "claimed_by = NULL WHERE id = :id AND claimed_by = :me AND status = 'delivering' RETURNING id",
                n=0 if note else 1,
                now=now,
                e=note,
                id=d.id,
                me=worker,
            )
            self._renew(d, worker, now)
            return bool(done)

    def delivery_failed(
        self, d: Delivery, worker: str, error: str, *, retry_at: float | None, now: float | None = None
    ) -> None:
        """An attempt failed: the delivery waits until `retry_at` (its lane with it: the
        rest of the lane claimed by `worker` is given back), or is a dead letter (None)."""
        now = now or time.time()
        with self.write():
            self._q(
                "UPDATE deliveries SET status = :st, attempts = attempts + 1, next_at = :next, last_error = :e, "
                "claimed_by = NULL, done_at = :done WHERE id = :id AND claimed_by = :me AND status = 'delivering'",
                st=DEAD if retry_at is None else PENDING,
                next=retry_at if retry_at is not None else d.next_at,
                e=error[:MAX_ERROR],
                done=now if retry_at is None else None,
                id=d.id,
                me=worker,
            )
            if retry_at is None:
                self._renew(d, worker, now)
            else:
                self._release_lane(d, worker)

    def delivery_deferred(self, d: Delivery, worker: str, until: float, why: str) -> None:
        """Not yet (an alert that waits to see whether a logout lasts): no attempt counted."""
        with self.write():
            self._q(
                "UPDATE deliveries SET status = 'pending', next_at = :t, last_error = :e, claimed_by = NULL "
                "WHERE id = :id AND claimed_by = :me AND status = 'delivering'",
                t=until,
                e=why[:MAX_ERROR],
                id=d.id,
                me=worker,
            )
            self._release_lane(d, worker)

    def release_deliveries(self, target: str, worker: str) -> int:
        """Give back everything `worker` holds of `target` (it stops): no attempt counted."""
        with self.write():
            return len(
                self._q(
                    "UPDATE deliveries SET status = 'pending', claimed_by = NULL WHERE target = :t "
                    "AND (status = 'pending' OR status = 'delivering') AND claimed_by = :me RETURNING id",
                    t=target,
                    me=worker,
                )
            )

    def _renew(self, d: Delivery, worker: str, now: float) -> None:
        """The rest of the lane that `worker` holds: its lease starts again."""
        self._q(
            "UPDATE deliveries SET claimed_at = :now WHERE target = :t AND lane = :l "
            "AND (status = 'pending' OR status = 'delivering') AND claimed_by = :me",
            now=now,
            t=d.target,
            l=d.lane,
            me=worker,
        )

    def _release_lane(self, d: Delivery, worker: str) -> None:
        self._q(
            "UPDATE deliveries SET status = 'pending', claimed_by = NULL WHERE target = :t AND lane = :l "
            "AND (status = 'pending' OR status = 'delivering') AND claimed_by = :me",
            t=d.target,
            l=d.lane,
            me=worker,
        )

    # ------------------------------------------------------------------ looking at it
    def outbox_summary(self) -> dict[str, dict[str, Any]]:
        """Per target: its label, deliveries waiting (`pending`, including those being
        delivered), `dead` letters, the oldest waiting event's time and the last error."""
        out: dict[str, dict[str, Any]] = {}
        for r in self._q("SELECT name, label, cursor, seen_at FROM outbox_targets ORDER BY name"):
            out[r["name"]] = {"label": r["label"], "pending": 0, "dead": 0, "oldest": None, "last_error": None}
        for r in self._q(
            "SELECT target, count(*) AS n, min(next_at) AS oldest, max(last_error) AS err FROM deliveries "
            "WHERE status = 'pending' OR status = 'delivering' GROUP BY target"
        ):
            if r["target"] in out:
                out[r["target"]].update(pending=int(r["n"]), oldest=r["oldest"], last_error=r["err"])
        for r in self._q("SELECT target, count(*) AS n FROM deliveries WHERE status = 'dead' GROUP BY target"):
            if r["target"] in out:
                out[r["target"]]["dead"] = int(r["n"])
        return out

    def dead_count(self) -> int:
        row = self._one("SELECT count(*) AS n FROM deliveries WHERE status = 'dead'")
        return int(row["n"]) if row else 0

    def dead_letters(self, target: str | None = None, *, limit: int = 100) -> list[Delivery]:
        sql = (
            "SELECT d.id, d.target, d.outbox_id, d.lane, d.status, d.attempts, d.next_at, d.last_error, d.done_at, "
            "o.uid, o.at, o.event, o.account, o.payload FROM deliveries AS d JOIN outbox AS o ON o.id = d.outbox_id "
            "WHERE d.status = 'dead'"
        )
        if target is not None:
            rows = self._q(sql + " AND d.target = :t ORDER BY d.id LIMIT :lim", t=target, lim=limit)
        else:
            rows = self._q(sql + " ORDER BY d.id LIMIT :lim", lim=limit)
        for r in rows:
            r["payload"] = _loads(r["payload"])
        return [Delivery.of(r) for r in rows]

    def retry_dead(self, target: str | None = None, *, now: float | None = None) -> int:
        """Dead letters are tried again (a person fixed the receiver): attempts start over."""
        now = now or time.time()
        with self.write():
            sql = (
                "UPDATE deliveries SET status = 'pending', attempts = 0, next_at = :now, done_at = NULL "
                "WHERE status = 'dead'"
            )
            if target is not None:
                return len(self._q(sql + " AND target = :t RETURNING id", now=now, t=target))
            return len(self._q(sql + " RETURNING id", now=now))

    def deliveries(self, target: str, *, statuses: Iterable[str] = (DONE,)) -> list[Delivery]:
        """A target's deliveries in outbox order (tests and tools)."""
        wanted = tuple(statuses)
        params = {f"s{i}": s for i, s in enumerate(wanted)}
        rows = self._q(
            "SELECT d.*, o.uid, o.at, o.event, o.account, o.payload FROM deliveries AS d "
            "JOIN outbox AS o ON o.id = d.outbox_id WHERE d.target = :t "
            f"AND d.status IN ({', '.join(':' + k for k in params)}) ORDER BY d.outbox_id",
            t=target,
            **params,
        )
        for r in rows:
            r["payload"] = _loads(r["payload"])
        return [Delivery.of(r) for r in rows]

    # ------------------------------------------------------------------ keeping it small
    def prune_outbox(self, *, keep: float, now: float | None = None, limit: int = 5000) -> int:
        """Events older than `keep` seconds that every target has delivered (or that no
        target wants) are deleted with their deliveries; dead letters and waiting ones
        stay. Targets not seen for `keep` seconds (removed from the config) go too."""
        now = now or time.time()
        cut = now - keep
        with self.write():
            self._q(
                "DELETE FROM deliveries WHERE target IN (SELECT name FROM outbox_targets WHERE seen_at < :cut)",
                cut=cut,
            )
            self._q("DELETE FROM outbox_targets WHERE seen_at < :cut", cut=cut)
            row = self._one("SELECT min(cursor) AS c FROM outbox_targets")
            upto = int(row["c"]) if row and row["c"] is not None else None
            sql = (
                "DELETE FROM outbox WHERE id IN (SELECT o.id FROM outbox AS o WHERE o.at < :cut "
                + ("AND o.id <= :upto " if upto is not None else "")
                + "AND NOT EXISTS (SELECT 1 FROM deliveries AS d WHERE d.outbox_id = o.id AND d.status <> 'done') "
                "ORDER BY o.id LIMIT :lim) RETURNING id"
            )
            params: dict[str, Any] = {"cut": cut, "lim": limit}
            if upto is not None:
                params["upto"] = upto
            return len(self._q(sql, **params))
