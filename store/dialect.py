"""What differs between SQLite and PostgreSQL, in one place.

The store writes its SQL once, in SQLite's spelling with `:name` parameters; the
PostgreSQL dialect rewrites it (parameters, hints, types) and brings the statements
that have no common spelling: the claim, the counter trigger, the schema check.
"""

from __future__ import annotations

import re
import sqlite3
from functools import lru_cache
from typing import Any

from .schema import PG_COUNTS_TRIGGER

# On PostgreSQL every write transaction except the claim takes this lock first, so that
# the store's read-then-write steps (a status check before a move) are as serial as under
# SQLite's BEGIN IMMEDIATE. Claims take row locks instead and skip each other's rows.
WRITE_LOCK_KEY = 0x5741_5344

CLAIM_WHERE = """
        WHERE j.status = 'running'
          AND (j.start_at IS NULL OR j.start_at <= :now)
          AND (NOT EXISTS (SELECT 1 FROM job_accounts AS a WHERE a.job_id = j.id)
               OR EXISTS (SELECT 1 FROM job_accounts AS a WHERE a.job_id = j.id AND a.account = :account))
          AND m.job_id = j.id
          AND m.status IN ('pending', 'retrying')
          AND (m.next_attempt_at IS NULL OR m.next_attempt_at <= :now)
        ORDER BY j.id, m.id
        LIMIT 1"""

CLAIM_SET = """
UPDATE messages
   SET status = 'sending', claimed_by = :worker, account = :account, claimed_at = :now,
       attempts = attempts + 1, updated_at = :now
 WHERE id = ("""

CLAIM_RETURNING = """)
   AND status IN ('pending', 'retrying')
RETURNING id, job_id, phone, name, text, attachment, attempts, claimed_at, account
"""

# The outbox's claim: the due heads of a target's lanes (a head: no earlier row of its
# lane is still pending or being delivered), oldest first.
DELIVERY_CLAIM = """
UPDATE deliveries SET status = 'delivering', claimed_by = :me, claimed_at = :now
 WHERE id IN (SELECT d.id FROM deliveries AS d{hint}
               WHERE d.target = :target AND (d.status = 'pending' OR d.status = 'delivering')
                 AND ((d.status = 'pending' AND d.next_at <= :now)
                      OR (d.status = 'delivering' AND d.claimed_at < :stale))
                 AND NOT EXISTS (SELECT 1 FROM deliveries AS e
                                  WHERE e.target = d.target AND e.lane = d.lane
                                    AND (e.status = 'pending' OR e.status = 'delivering')
                                    AND e.outbox_id < d.outbox_id)
               ORDER BY d.outbox_id LIMIT :lanes{lock})
RETURNING id, lane, outbox_id
"""

_SQLITE_PROBLEMS = (
    ("unable to open database file", "cannot open the database (does its folder exist, and may this user write it?)"),
    ("readonly database", "the database is read-only for this user: check the file's and its folder's permissions"),
    ("disk is full", "the disk is full: nothing was written; free some space and try again"),
    ("database is locked", "the database stayed locked by another process for too long; try again"),
    ("disk i/o error", "a disk error while using the database"),
    ("file is not a database", "this file is not a database of this tool"),
    ("database disk image is malformed", "the database file is damaged"),
)


class SQLite:
    """SQLite's spelling: BEGIN IMMEDIATE, the claim with its index hint, its error messages."""

    name = "sqlite"
    begin = "BEGIN IMMEDIATE"
    # Appended to a SELECT whose rows the transaction then changes (SQLite's write lock
    # already covers the whole database).
    lock_rows = ""
    fresh_sql = "SELECT 1 AS x FROM sqlite_master WHERE type = 'table' AND name = 'messages'"
    # INDEXED BY: without statistics SQLite prefers ix_messages_job, which walks every sent
    # message of the job before the first queued one.
    claim_sql = (
        CLAIM_SET
        + "SELECT m.id FROM jobs AS j CROSS JOIN messages AS m INDEXED BY ix_messages_queue"
        + CLAIM_WHERE
        + CLAIM_RETURNING
    )

    delivery_claim_sql = DELIVERY_CLAIM.format(hint=" INDEXED BY ix_deliveries_open", lock="")

    def sql(self, text: str) -> str:
        return text

    def ddl(self, statements: tuple[str, ...]) -> list[str]:
        return list(statements)

    def explain(self, exc: BaseException) -> str | None:
        orig = getattr(exc, "orig", None) or exc
        if not isinstance(orig, sqlite3.Error):
            return None
        text = str(orig).lower()
        for needle, meaning in _SQLITE_PROBLEMS:
            if needle in text:
                return meaning
        return None


_PARAM = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")
_HINT = re.compile(r"\s+INDEXED BY \w+")


@lru_cache(maxsize=512)
def _pg_sql(text: str) -> str:
    if text.lstrip().upper().startswith("PRAGMA"):
        return ""
    text = _HINT.sub("", text)
    text = re.sub(r"\bLIKE\b", "ILIKE", text)  # SQLite's LIKE ignores ASCII case
    return _PARAM.sub(r"%(\1)s", text.replace("%", "%%"))


_PG_TYPES = (
    (re.compile(r"\bINTEGER PRIMARY KEY AUTOINCREMENT\b"), "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"),
    (re.compile(r"\bINTEGER\b"), "BIGINT"),
    # SQLite's REAL is 8 bytes; PostgreSQL's is 4 (a timestamp would lose its seconds).
    (re.compile(r"\bREAL\b"), "DOUBLE PRECISION"),
    (re.compile(r"\)\s*WITHOUT ROWID\s*$"), ")"),
)


class Postgres:
    """PostgreSQL's spelling: parameters and types rewritten, the claim with FOR UPDATE SKIP
    LOCKED, the counter trigger in PL/pgSQL, its error messages."""

    name = "postgresql"
    begin = "BEGIN"
    lock_rows = " FOR UPDATE"
    fresh_sql = (
        "SELECT 1 AS x FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = 'messages'"
    )
    # One statement: the first due row that no other claimer holds, locked and taken.
    claim_sql = (
        CLAIM_SET
        + "SELECT m.id FROM jobs AS j CROSS JOIN messages AS m"
        + CLAIM_WHERE
        + " FOR UPDATE OF m SKIP LOCKED"
        + CLAIM_RETURNING
    )

    # Two hosts' deliverers skip each other's rows instead of waiting.
    delivery_claim_sql = DELIVERY_CLAIM.format(hint="", lock=" FOR UPDATE OF d SKIP LOCKED")

    def sql(self, text: str) -> str:
        return _pg_sql(text)

    def ddl(self, statements: tuple[str, ...]) -> list[str]:
        out: list[str] = []
        for s in statements:
            if "CREATE TRIGGER" in s:
                out.extend(PG_COUNTS_TRIGGER)
                continue
            for pattern, repl in _PG_TYPES:
                s = pattern.sub(repl, s)
            out.append(s)
        return out

    def explain(self, exc: BaseException) -> str | None:
        try:
            import psycopg
        except ImportError:  # pragma: no cover - installed with the requirements
            return None
        orig: Any = getattr(exc, "orig", None) or exc
        if not isinstance(orig, psycopg.Error):
            return None
        state = orig.sqlstate or ""
        first = (str(orig).strip().splitlines() or ["no answer"])[0]
        if state.startswith("40"):
            return None  # a deadlock or serialization failure: a bug to see, not a user error
        if state == "42501":
            return f"this database user may not do that: {first}"
        if state == "53100":
            return "the database server's disk is full: nothing was written"
        if isinstance(orig, psycopg.OperationalError):
            return f"cannot use the PostgreSQL database: {first}"
        return None


def for_url(url: str) -> SQLite | Postgres:
    return SQLite() if url.startswith("sqlite") else Postgres()
