"""The store's part about replies: what contacts answered to our messages, each incoming
message once, tied to the message of ours it answers; an opt-out reply puts the number
on the opt-out list at once (every pending message to it, in every job, is skipped).
Whether a reply is an opt-out is decided by the caller (the worker's word list)."""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from typing import Any

from .records import Reply

OPTOUT, UNCLEAR = "optout", "unclear"
# A job's replies are read while it runs or waits, and for this long after it finished.
LIVE_JOBS = "('running', 'paused', 'waiting_for_login')"


class RepliesMixin:
    """Mixed into Store (uses its `_q`, `_one`, `write`, `add_optout`, `log_event`)."""

    _q: Any
    _one: Any
    write: Any
    add_optout: Any
    log_event: Any
    emit_hook: Any

    def reply_targets(
        self, phones: Iterable[str], *, account: str, finished_since: float
    ) -> dict[str, list[dict[str, Any]]]:
        """For each of `phones`: our messages sent to it by `account` in jobs that are live
        or finished at or after `finished_since` (id, job_id, sent_at), oldest first."""
        phones = list(dict.fromkeys(phones))
        if not phones:
            return {}
        params = {f"p{i}": p for i, p in enumerate(phones)}
        rows = self._q(
            "SELECT m.id, m.job_id, m.phone, m.sent_at, m.text FROM messages m JOIN jobs j ON j.id = m.job_id "
            f"WHERE m.phone IN ({', '.join(':' + k for k in params)}) AND m.status = 'sent' AND m.account = :acc "
            f"AND (j.status IN {LIVE_JOBS} OR j.finished_at >= :since) ORDER BY m.sent_at",
            acc=account,
            since=finished_since,
            **params,
        )
        out: dict[str, list[dict[str, Any]]] = {}
        for r in rows:
            out.setdefault(r["phone"], []).append(r)
        return out

    def add_replies(
        self,
        account: str,
        phone: str,
        target: Mapping[str, Any] | None,
        items: Iterable[Mapping[str, Any]],
        *,
        now: float | None = None,
    ) -> list[Reply]:
        """Store the incoming messages not stored before (by their WhatsApp id); returns the
        new ones. Each item: wa_id, text, kind, attachment_name, at, flag (optout, unclear, None)."""
        now = now or time.time()
        new: list[Reply] = []
        job_id = target["job_id"] if target else None
        with self.write():
            for it in items:
                row = self._one(
                    "INSERT INTO replies(account, phone, wa_id, message_id, job_id, text, kind, attachment_name, "
                    "at, read_at, flag) VALUES (:acc, :phone, :wa, :mid, :job, :text, :kind, :att, :at, :now, :flag) "
                    "ON CONFLICT(account, phone, wa_id) DO NOTHING RETURNING *",
                    acc=account,
                    phone=phone,
                    wa=it["wa_id"],
                    mid=target["id"] if target else None,
                    job=job_id,
                    text=it.get("text"),
                    kind=it.get("kind") or "text",
                    att=it.get("attachment_name"),
                    at=it.get("at"),
                    now=now,
                    flag=it.get("flag"),
                )
                if row is None:
                    continue
                reply = Reply.of(row)
                new.append(reply)
                self.emit_hook(
                    "reply",
                    f"{phone} replied",
                    account=account,
                    job_id=job_id,
                    message_id=reply.message_id,
                    payload={
                        "reply_id": reply.id,
                        "phone": phone,
                        "text": reply.text,
                        "reply_kind": reply.kind,
                        "attachment_name": reply.attachment_name,
                        "flag": reply.flag,
                        "at": reply.at,
                        "message_id": reply.message_id,
                        "job_id": job_id,
                    },
                    at=now,
                )
                if reply.flag == OPTOUT:
                    if self.add_optout(phone, f"replied with an opt-out word (job {job_id})", account=account, now=now):
                        self.log_event(
                            "optout_reply",
                            f"{phone} opted out by reply: its pending messages are skipped in every job",
                            job_id=job_id,
                            level="warning",
                            at=now,
                        )
                elif reply.flag == UNCLEAR:
                    self.log_event(
                        "reply_unclear",
                        f"{phone} replied with words that may mean stop: look at it (python tui.py replies)",
                        job_id=job_id,
                        level="warning",
                        at=now,
                    )
                else:
                    self.log_event("reply", f"{phone} replied", job_id=job_id, at=now)
        return new

    def last_reply_texts(self, account: str, phones: Iterable[str]) -> dict[str, str | None]:
        """The newest stored reply's text per number (in this account's chats)."""
        phones = list(dict.fromkeys(phones))
        if not phones:
            return {}
        params = {f"p{i}": p for i, p in enumerate(phones)}
        out: dict[str, str | None] = {}
        for r in self._q(
            f"SELECT phone, text FROM replies WHERE account = :acc AND phone IN "
            f"({', '.join(':' + k for k in params)}) ORDER BY id",
            acc=account,
            **params,
        ):
            out[r["phone"]] = r["text"]
        return out

    def replies(self, job_id: int | None = None, *, phone: str | None = None) -> list[Reply]:
        """Replies, oldest first: of one job, and/or from one number."""
        where: list[str] = []
        params: dict[str, Any] = {}
        if job_id is not None:
            where.append("job_id = :j")
            params["j"] = job_id
        if phone is not None:
            where.append("phone = :p")
            params["p"] = phone
        sql = "SELECT * FROM replies" + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY at, id"
        return [Reply.of(r) for r in self._q(sql, **params)]

    def reply_stats(self) -> dict[int, dict[str, int]]:
        """Per job: `replied` (numbers that answered), `optouts` (numbers that opted out by
        reply), `unclear` (replies flagged for a look)."""
        out: dict[int, dict[str, int]] = {}
        for r in self._q(
            "SELECT job_id, count(DISTINCT phone) AS replied, "
            "count(DISTINCT CASE WHEN flag = 'optout' THEN phone END) AS optouts, "
            "sum(CASE WHEN flag = 'unclear' THEN 1 ELSE 0 END) AS unclear "
            "FROM replies WHERE job_id IS NOT NULL GROUP BY job_id"
        ):
            out[int(r["job_id"])] = {
                "replied": int(r["replied"]),
                "optouts": int(r["optouts"]),
                "unclear": int(r["unclear"] or 0),
            }
        return out

    def reply_page(self, *, after_id: int = 0, limit: int = 100, job_id: int | None = None) -> list[Reply]:
        """Replies in id order after `after_id` (keyset pages), of one job if given."""
        if job_id is None:
            rows = self._q("SELECT * FROM replies WHERE id > :a ORDER BY id LIMIT :lim", a=after_id, lim=limit)
        else:
            rows = self._q(
                "SELECT * FROM replies WHERE job_id = :j AND id > :a ORDER BY id LIMIT :lim",
                j=job_id,
                a=after_id,
                lim=limit,
            )
        return [Reply.of(r) for r in rows]
