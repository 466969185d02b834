"""What differs between SQLite and PostgreSQL, in one place.

The store writes its SQL once, in SQLite's spelling with `:name` parameters; the
PostgreSQL dialect rewrites it (parameters, hints, types) and brings the statements
that have no common spelling: the claim, the counter trigger, the schema check.
"""

from __future__ import annotations

import json
import re
import sqlite3
from functools import lru_cache
from typing import Any

from .schema import LANE_SLOT, PG_COUNTS_TRIGGER, PRAGMAS, SLOT_BITS
from .states import MESSAGE_SOURCES, SENT

# On PostgreSQL every write transaction except the claim takes this lock first, so that
# the store's read-then-write steps (a status check before a move) are as serial as under
# SQLite's BEGIN IMMEDIATE. Claims take row locks instead and skip each other's rows.
WRITE_LOCK_KEY = 0x5741_5344

# The claim: one statement. The first queued, due message of a running job in the lanes
# named by :known (the claiming account's own known contacts, open now), else in those
# named by :new (new contacts, when the account may take them now): `store.lanes`.
# Lanes sort jobs oldest first; within a lane, import order. Each pick is one ordered
# range scan of the (lane, id) queue index.
CLAIM_PICK = """(SELECT m.id FROM messages AS m{hint}
          WHERE {lanes}
            AND m.status IN ('pending', 'retrying')
            AND (m.next_attempt_at IS NULL OR m.next_attempt_at <= :now)
            AND EXISTS (SELECT 1 FROM jobs AS j WHERE j.id = m.job_id AND j.status = 'running'
                         AND (j.start_at IS NULL OR j.start_at <= :now))
          ORDER BY m.lane, m.id
          LIMIT 1{lock})"""

CLAIM_SET = """
UPDATE messages
   SET status = 'sending', claimed_by = :worker, account = :account, claimed_at = :now,
       attempts = attempts + 1, updated_at = :now
 WHERE id = coalesce("""

CLAIM_RETURNING = """)
   AND status IN ('pending', 'retrying')
RETURNING id, job_id, phone, name, text, attachment, attempts, claimed_at, account, lane
"""


def _claim_sql(dialect: SQLite | Postgres, hint: str, lock: str) -> str:
    known = CLAIM_PICK.format(hint=hint, lanes=dialect.in_array("m.lane", "known", "BIGINT"), lock=lock)
    new = CLAIM_PICK.format(hint=hint, lanes=dialect.in_array("m.lane", "new", "BIGINT"), lock=lock)
    return CLAIM_SET + known + ",\n" + new + CLAIM_RETURNING


# PostgreSQL notes the claimer's current message in the same statement (a round trip
# less per claim); SQLite has no UPDATE in a WITH clause and does it after.
PG_CLAIM_NOTES_WORKER = """
WITH claimed AS ({claim}),
     noted AS (UPDATE workers SET current_message_id = (SELECT id FROM claimed) WHERE id = :worker
                 AND EXISTS (SELECT 1 FROM claimed))
SELECT * FROM claimed
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

# A message event's webhook payload: its fields and the message columns they come from
# (`OutboxMixin.emit_hook` in Python; `PG_MARK_SENT` in SQL).
MESSAGE_PAYLOAD = (
    ("message_id", "id"),
    ("job_id", "job_id"),
    ("phone", "phone"),
    ("name", "name"),
    ("status", "status"),
    ("attempts", "attempts"),
    ("error", "last_error"),
    ("sent_at", "sent_at"),
)


def _pg_note_sent(sent: str) -> str:
    """What a send notes (PostgreSQL, as `WITH` parts), from `sent`, the sent message's row:
    the contact is known to the account from now on; if it was not (a new contact), the
    account's new contacts of the day grow and the contact's other queued messages in the
    jobs the account may send move to its lanes; the account's first send is noted.
    Data-modifying WITH parts run once, on one snapshot."""
    return f"""k AS (INSERT INTO known_contacts(account, phone, source, since)
           SELECT account, phone, 'sent', :now FROM {sent} AS s WHERE account IS NOT NULL
           ON CONFLICT (account, phone) DO NOTHING RETURNING account, phone),
     a AS (UPDATE accounts
              SET first_sent_at = coalesce(first_sent_at, :now),
                  new_sent = CASE WHEN NOT EXISTS (SELECT 1 FROM k) THEN new_sent
                                  WHEN new_day = :day THEN new_sent + 1 ELSE 1 END,
                  new_day = CASE WHEN NOT EXISTS (SELECT 1 FROM k) THEN new_day ELSE :day END
            WHERE name = (SELECT account FROM {sent} AS s)
              AND (first_sent_at IS NULL OR EXISTS (SELECT 1 FROM k))
           RETURNING slot),
     r AS (UPDATE messages SET lane = lane + (SELECT slot FROM a) * {LANE_SLOT}
            WHERE job_id = ANY(ARRAY(SELECT j.id FROM jobs AS j
                                      WHERE j.status IN ('pending', 'running', 'paused', 'waiting_for_login')
                                        AND (NOT EXISTS (SELECT 1 FROM job_accounts AS ja WHERE ja.job_id = j.id)
                                             OR EXISTS (SELECT 1 FROM job_accounts AS ja WHERE ja.job_id = j.id
                                                        AND ja.account = (SELECT account FROM k)))))
              AND phone = (SELECT phone FROM k)
              AND status IN ('pending', 'retrying') AND (lane & {SLOT_BITS}) = 0
              AND EXISTS (SELECT 1 FROM a WHERE a.slot > 0))"""


# A send noted on its own (a message marked sent by verification or by a person).
PG_NOTE_SENT = f"""
WITH {_pg_note_sent("(SELECT account, phone FROM messages WHERE id = :id)")}
SELECT count(*) AS new FROM k
"""

# `mark_sent` in one statement (PostgreSQL), all of it read from the moved row: the move
# (only from a status the move table allows; out of `sending` only by its claimer), what
# the send notes, its event and its webhook row. A move that changes nothing writes
# nothing, so the statement can go out with its BEGIN and COMMIT in one round trip.
PG_MARK_SENT = f"""
WITH moved AS (UPDATE messages SET status = 'sent', updated_at = :now, sent_at = :now, last_error = :note,
                                   review = NULL
                WHERE id = :id AND status IN ({", ".join(f"'{x}'" for x in sorted(MESSAGE_SOURCES[SENT]))})
                  AND (CAST(:w AS TEXT) IS NULL OR status <> 'sending' OR claimed_by = :w)
                RETURNING *),
     {_pg_note_sent("moved")},
     e AS (INSERT INTO events(at, level, kind, job_id, message_id, text)
           SELECT :now, 'info', 'sent', job_id, id, :text FROM moved),
     o AS (INSERT INTO outbox(uid, at, event, account, job_id, message_id, payload)
           SELECT :uid, :now, :event, account, job_id, id,
                  json_build_object('kind', 'sent', 'summary', CAST(:text AS TEXT),
                                    {", ".join(f"'{k}', {c}" for k, c in MESSAGE_PAYLOAD)})::text
             FROM moved)
SELECT id, job_id FROM moved
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
    delivery_claim_sql = DELIVERY_CLAIM.format(hint=" INDEXED BY ix_deliveries_open", lock="")
    claim_notes_worker = False  # the store updates the worker row after the claim
    claim_settings = ""
    # Around a claim's own transaction: its commit does not wait for the disk (the WAL is
    # synced by the next FULL commit, `mark_clicking`'s; `Store.claim` says why that is
    # safe), then every commit waits again (`schema.PRAGMAS`).
    claim_around = ("PRAGMA synchronous=NORMAL", next(p for p in PRAGMAS if "synchronous" in p))
    note_sent_sql = ""  # no INSERT or UPDATE in a WITH: `AccountsMixin._note_sent` uses two statements
    mark_sent_sql = ""  # `Store.mark_sent` in several statements
    # After a big import: none (the store's statements name their indexes where SQLite
    # could choose wrong; statistics would change its choices everywhere).
    analyze_messages = ""

    def __init__(self) -> None:
        # INDEXED BY: without statistics SQLite could prefer another index of messages.
        self.claim_sql = _claim_sql(self, " INDEXED BY ix_messages_queue_lanes", "")

    def sql(self, text: str) -> str:
        return text

    def in_array(self, column: str, param: str, sqltype: str) -> str:
        """`column` is one of the values of the list parameter `param` (see `array`)."""
        return f"{column} IN (SELECT value FROM json_each(:{param}))"

    def array(self, values: list[Any]) -> Any:
        """A list as the parameter `in_array` reads: JSON text (one statement text for any length)."""
        return json.dumps(values)

    def in_select(self, column: str, select: str) -> str:
        """`column` is one of the values a subquery gives, as a probe of an index on it."""
        return f"{column} IN ({select})"

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
    # Two hosts' deliverers skip each other's rows instead of waiting.
    delivery_claim_sql = DELIVERY_CLAIM.format(hint="", lock=" FOR UPDATE OF d SKIP LOCKED")

    claim_notes_worker = True
    # A claim's transaction: its commit does not wait for the disk (`Store.claim` says why
    # that is safe), and its statement runs on its generic plan. Under the default
    # (`auto`) PostgreSQL kept planning the claim anew for every call, since it cannot
    # estimate the lane list: 0.4 ms of planning for a 0.1 ms scan. The generic plan is
    # the lanes index's ordered range scan whatever the list.
    claim_settings = (
        "SELECT set_config('synchronous_commit', 'off', true), "
        "set_config('plan_cache_mode', 'force_generic_plan', true)"
    )
    claim_around = ("", "")  # the settings above end with the claim's transaction
    # A send notes the contact as known and, in the same statement, the account's first
    # send and its new contacts of the day (a round trip less per send).
    note_sent_sql = PG_NOTE_SENT
    mark_sent_sql = PG_MARK_SENT
    # After a big import (COPY): the planner's row counts, without which a lookup of some
    # phones in a job was planned as a scan of its whole queue.
    analyze_messages = "ANALYZE messages"

    def __init__(self) -> None:
        # One statement: the first due row that no other claimer holds, locked and taken,
        # and the worker row's current message.
        self.claim_sql = PG_CLAIM_NOTES_WORKER.format(
            claim=_claim_sql(self, "", " FOR UPDATE OF m SKIP LOCKED").strip()
        )

    def sql(self, text: str) -> str:
        return _pg_sql(text)

    def in_array(self, column: str, param: str, sqltype: str) -> str:
        return f"{column} = ANY(CAST(:{param} AS {sqltype}[]))"

    def in_select(self, column: str, select: str) -> str:
        # As an array computed once: `IN (subquery)` would be planned as a join that scans
        # the other side; `= ANY(array)` is an index condition.
        return f"{column} = ANY(ARRAY({select}))"

    def array(self, values: list[Any]) -> Any:
        # Whole numbers (the claim's lanes) as an array literal: psycopg adapts a list
        # element by element in Python, a text in one go (PostgreSQL casts it).
        if all(type(v) is int for v in values):
            return "{" + ",".join(map(str, values)) + "}"
        return list(values)

    def ddl(self, statements: tuple[str, ...]) -> list[str]:
        out: list[str] = []
        for s in statements:
            if "CREATE TRIGGER" in s:
                out.extend(PG_COUNTS_TRIGGER)
                continue
            if s.startswith("DROP TRIGGER"):  # PostgreSQL names the trigger's table
                out.append(s + " ON messages")
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
