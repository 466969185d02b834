"""Moving up: an SQLite database copied into an empty PostgreSQL database, exactly.

Every table row for row with its ids (jobs, messages in every status with their claims
and accounts, counters, zone sets, events, opt-outs, accounts and their known contacts,
documents), in one transaction on the
target: a failure leaves it empty. Worker rows are not copied: they are the state of
processes that are not running during the move (the supervisor must be stopped).
"""

from __future__ import annotations

from typing import Any

from .store import Store, StoreError

# In dependency order (foreign keys), with the column that orders a table's rows.
TABLES = (
    ("jobs", "id"),
    ("messages", "id"),
    ("job_counts", "job_id, status, tz"),
    ("job_accounts", "job_id, account"),
    ("job_zones", "job_id, tz"),
    ("events", "id"),
    ("accounts", "name"),
    ("known_contacts", "account, phone"),
    ("optouts", "phone"),
    ("replies", "id"),
    ("kv", "name"),
)
IDENTITY = ("jobs", "messages", "events", "replies")
# Documents that describe this machine's processes, or the target's own schema.
SKIP_DOCS = ("schema_version", "supervisor")
BATCH = 5000


def _kv_filter(table: str) -> str:
    if table != "kv":
        return ""
    return " WHERE " + " AND ".join(f"name NOT LIKE '{d}%'" for d in SKIP_DOCS)


def counts(store: Store) -> dict[str, int]:
    out = {}
    for table, _ in TABLES:
        row = store._one(f"SELECT count(*) AS n FROM {table}{_kv_filter(table)}")
        out[table] = int(row["n"]) if row is not None else 0
    return out


def message_statuses(store: Store) -> dict[str, int]:
    return {
        r["status"]: int(r["n"])
        for r in store._q("SELECT status, count(*) AS n FROM messages GROUP BY status ORDER BY status")
    }


def copy_database(src: Store, dst: Store) -> dict[str, tuple[int, int]]:
    """Copy every table of `src` into the empty `dst`; returns {table: (rows in src, rows in dst)}."""
    if dst.dialect.name != "postgresql":
        raise StoreError(f"{dst.where}: the target must be a PostgreSQL database")
    busy = {t: n for t, n in counts(dst).items() if n}
    if busy:
        raise StoreError(
            f"{dst.where}: the target is not empty ({', '.join(f'{n} {t}' for t, n in busy.items())}); "
            "migrate into a new, empty database"
        )
    with dst.write(), dst._errors():
        conn = dst._raw
        for table, order in TABLES:
            cols = [r["name"] for r in src._q(f"PRAGMA table_info({table})")]
            names = ", ".join(cols)
            with conn.cursor().copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in _rows(src, table, names, order):
                    copy.write_row(row)
        for table in IDENTITY:
            conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT COALESCE(max(id), 0) + 1 FROM {table}), false)"
            )
    src_n, dst_n = counts(src), counts(dst)
    return {t: (src_n[t], dst_n[t]) for t, _ in TABLES}


def _rows(src: Store, table: str, names: str, order: str) -> Any:
    """The table's rows in batches (one query per batch: a million messages never sit in memory)."""
    where = _kv_filter(table)
    if order != "id":
        yield from (tuple(r.values()) for r in src._q(f"SELECT {names} FROM {table}{where} ORDER BY {order}"))
        return
    last = 0
    while True:
        batch = src._q(f"SELECT {names} FROM {table} WHERE id > :last ORDER BY id LIMIT :n", last=last, n=BATCH)
        if not batch:
            return
        for r in batch:
            yield tuple(r.values())
        last = batch[-1]["id"]
