"""The job store: states, atomic claims across processes, atomic job creation, counts."""

from __future__ import annotations

import multiprocessing as mp
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from store import IllegalTransition, Store, StoreError
from store import states as S
from store.schema import SCHEMA_VERSION
from tests.support.old_db import version_1_database
from tests.support.paths import ROOT


def msgs(n: int, prefix: str = "+1202555") -> list[dict]:
    return [{"phone": f"{prefix}{i:04d}", "text": f"hello {i}", "name": f"C{i}"} for i in range(n)]


@pytest.fixture
def store(db_target) -> Store:
    """Each test that uses it runs on SQLite and on PostgreSQL."""
    s = Store(db_target)
    yield s
    s.close()


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Store:
    """For what only SQLite has (pragmas, its query plans)."""
    s = Store(tmp_path / "t.db")
    yield s
    s.close()


def test_pragmas_are_wal_full_and_busy_timeout(sqlite_store: Store) -> None:
    store = sqlite_store
    assert store._one("PRAGMA journal_mode")["journal_mode"] == "wal"
    assert store._one("PRAGMA synchronous")["synchronous"] == 2  # FULL
    assert store._one("PRAGMA busy_timeout")["timeout"] == 30000


def test_claim_marks_sending_and_records_the_claimer(store: Store) -> None:
    job = store.create_job("j", "t", msgs(3))
    m = store.claim("worker-a", now=100.0)
    row = store.message(m["id"])
    assert row["status"] == "sending"
    assert row["claimed_by"] == "worker-a"
    assert row["claimed_at"] == 100.0
    assert row["attempts"] == 1
    assert store.counts(job)["sending"] == 1
    assert store.counts(job)["pending"] == 2


def test_claim_only_from_running_jobs_in_order(store: Store) -> None:
    paused = store.create_job("paused", "t", msgs(2, "+1202666"))
    store.set_job_status(paused, S.JOB_PAUSED)
    running = store.create_job("running", "t", msgs(2))
    got = [store.claim("w")["job_id"] for _ in range(2)]
    assert got == [running, running]
    assert store.claim("w") is None
    store.set_job_status(paused, S.JOB_RUNNING)
    assert store.claim("w")["job_id"] == paused


def test_claim_respects_job_start_time_and_next_attempt(store: Store) -> None:
    job = store.create_job("later", "t", msgs(1), start_at=1000.0)
    assert store.claim("w", now=999.0) is None
    m = store.claim("w", now=1000.0)
    assert m is not None
    assert store.mark_failed_attempt(m["id"], "boom", max_attempts=3, backoff=10, now=1000.0) == "retrying"
    assert store.claim("w", now=1009.0) is None
    again = store.claim("w", now=1010.0)
    assert again["id"] == m["id"] and again["attempts"] == 2
    assert store.mark_failed_attempt(m["id"], "boom", max_attempts=3, backoff=10, now=1010.0) == "retrying"
    # second retry waits twice as long
    assert store.claim("w", now=1029.0) is None
    third = store.claim("w", now=1030.0)
    assert store.mark_failed_attempt(third["id"], "boom", max_attempts=3, backoff=10, now=1030.0) == "failed"
    row = store.message(m["id"])
    assert row["status"] == "failed" and row["last_error"] == "boom" and row["attempts"] == 3
    assert store.counts(job)["failed"] == 1


def test_illegal_transitions_raise(store: Store) -> None:
    store.create_job("j", "t", msgs(2))
    m = store.claim("w")
    store.mark_sent(m["id"], worker_id="w")
    with pytest.raises(IllegalTransition):
        store.mark_sent(m["id"], worker_id="w")
    with pytest.raises(IllegalTransition):
        store.release(m["id"])
    pending = store.page_messages(1, status="pending")[0]
    with pytest.raises(IllegalTransition):  # never claimed, so never sent
        store.mark_sent(pending["id"])
    with pytest.raises(IllegalTransition):
        S.check_job(S.JOB_STOPPED, S.JOB_RUNNING)


def test_only_the_claimer_may_finish_a_sending_message(store: Store) -> None:
    store.create_job("j", "t", msgs(1))
    m = store.claim("w1")
    with pytest.raises(IllegalTransition):
        store.mark_sent(m["id"], worker_id="w2")
    store.mark_sent(m["id"], worker_id="w1")


def test_a_refused_move_changes_nothing_and_says_why(store: Store) -> None:
    store.create_job("j", "t", msgs(2))
    m = store.claim("w1", now=100.0)
    before = store.counts(m["job_id"])
    with store.write():  # caught inside a transaction that then commits: still nothing moved
        with pytest.raises(IllegalTransition, match="claimed by 'w1', not 'w2'"):
            store.mark_sent(m["id"], worker_id="w2", now=101.0)
        with pytest.raises(IllegalTransition, match="from 'sending' to 'skipped'"):
            store._move(m["id"], S.SKIPPED, 101.0)
        with pytest.raises(KeyError, match="no message 999"):
            store.mark_sent(999, worker_id="w1")
    row = store.message(m["id"])
    assert (row["status"], row["claimed_by"], row["sent_at"]) == ("sending", "w1", None)
    assert store.counts(m["job_id"]) == before
    assert not [e for e in store.events(limit=20) if e["kind"] == "sent"]


def test_a_sends_marks_and_its_webhook_row_describe_the_message_as_sent(store: Store) -> None:
    job = store.create_job("j", "t", msgs(1))
    store.register_worker("w", 1, account="acc")
    m = store.claim("w", account="acc", now=100.0)
    before = store.outbox_last_id()
    store.mark_sent(m["id"], worker_id="w", now=102.0)
    (event,) = store.outbox_events(after_id=before)
    p = event.payload
    assert (event.event, event.message_id, event.job_id) == ("message.sent", m["id"], job)
    assert (p["phone"], p["name"], p["status"], p["attempts"], p["sent_at"], p["error"]) == (
        "+12025550000",
        "C0",
        "sent",
        1,
        102.0,
        None,
    )
    assert store.counts(job)["sent"] == 1 and store.is_known("acc", "+12025550000")


def test_a_failed_statement_in_a_pipelined_write_undoes_all_of_it(store: Store) -> None:
    """On PostgreSQL the statements nobody reads go out without waiting: an error among them
    surfaces at the commit, and nothing of the transaction stays."""
    before = len(store.events(limit=100))
    with pytest.raises(Exception, match=r"(?i)unique|duplicate"), store.write(pipeline=True):
        store.log_event("note", "first")
        store._exec("INSERT INTO kv(name, data, updated_at) VALUES ('schema_version', '1', 0)")
        store.log_event("note", "after the failure")
    assert len(store.events(limit=100)) == before
    store.log_event("note", "the connection is usable again")
    assert store.events(limit=1)[0]["text"] == "the connection is usable again"


def test_a_claim_leaves_the_connection_as_it_found_it(store: Store) -> None:
    """A claim's own commit does not wait for the disk, and on PostgreSQL its statement
    runs on its generic plan; all of it ends with the claim: the marks that follow wait."""
    if store.dialect.name == "sqlite":
        sql = "PRAGMA synchronous"
    else:
        sql = (
            "SELECT name, setting FROM pg_settings WHERE name IN ('synchronous_commit', 'plan_cache_mode') "
            "ORDER BY name"
        )
    before = store._q(sql)
    store.create_job("j", "t", msgs(3))
    m = store.claim("w", now=100.0)
    assert m is not None and store.message(m["id"])["claimed_by"] == "w"
    assert store._q(sql) == before
    assert before == [{"synchronous": 2}] if store.dialect.name == "sqlite" else before[0]["setting"] == "auto"
    store.close()


def test_release_does_not_count_the_attempt(store: Store) -> None:
    store.create_job("j", "t", msgs(1))
    m = store.claim("w")
    store.release(m["id"], worker_id="w", reason="paused")
    row = store.message(m["id"])
    assert row["status"] == "pending" and row["attempts"] == 0 and row["claimed_by"] is None


def test_unknown_is_settled_only_by_verification(store: Store) -> None:
    job = store.create_job("j", "t", msgs(2))
    a = store.claim("w")
    store.mark_unknown(a["id"], "clock never turned", worker_id="w")
    with pytest.raises(IllegalTransition):
        store.mark_failed_attempt(a["id"], "x", max_attempts=3, backoff=1)
    assert [r["id"] for r in store.in_flight()] == [a["id"]]
    assert store.in_flight(exclude_workers=["w"]) == []
    store.requeue_unsent(a["id"], "not in chat")
    assert store.message(a["id"])["status"] == "pending"
    assert store.counts(job)["unknown"] == 0


def test_create_job_is_one_transaction(store: Store) -> None:
    rows = msgs(100)
    rows.append({"phone": rows[0]["phone"], "text": "dup"})  # violates UNIQUE(job, phone) at the end
    import psycopg

    with pytest.raises((sqlite3.IntegrityError, psycopg.IntegrityError)):
        store.create_job("broken", "t", rows)
    assert store.jobs() == []
    assert store._one("SELECT count(*) AS n FROM messages")["n"] == 0


CREATE_AND_DIE = """
import os, sys
sys.path.insert(0, {root!r})
from store import Store
s = Store({db!r})
def rows():
    for i in range(200000):
        if i == 150000:
            os.kill(os.getpid(), 9)   # die half-way through the insert
        yield {{"phone": f"+9198{{i:08d}}", "text": "x"}}
s.create_job("dies", "t", rows())
"""


def test_a_crash_half_way_through_create_leaves_no_job(tmp_path: Path) -> None:
    db = tmp_path / "crash.db"
    Store(db).close()
    proc = subprocess.run([sys.executable, "-c", CREATE_AND_DIE.format(root=str(ROOT), db=str(db))])
    assert proc.returncode == -signal.SIGKILL
    s = Store(db)
    assert s.jobs() == []
    assert s._one("SELECT count(*) AS n FROM messages")["n"] == 0


def test_counts_follow_every_status_change(store: Store) -> None:
    job = store.create_job("j", "t", [*msgs(10), {"phone": "+12025559999", "text": "x", "status": "skipped"}])
    assert store.counts(job)["pending"] == 10 and store.counts(job)["skipped"] == 1
    for _ in range(4):
        store.mark_sent(store.claim("w")["id"], worker_id="w")
    store.mark_invalid(store.claim("w")["id"], "not on WhatsApp", worker_id="w")
    c = store.counts(job)
    real = {
        r["status"]: r["n"]
        for r in store._q("SELECT status, count(*) AS n FROM messages WHERE job_id = :j GROUP BY status", j=job)
    }
    assert {k: v for k, v in c.items() if v} == real == {"sent": 4, "invalid": 1, "pending": 5, "skipped": 1}
    assert store.get_job(job)["total"] == 11


def test_counts_are_read_without_touching_messages(sqlite_store: Store) -> None:
    store = sqlite_store
    job = store.create_job("j", "t", msgs(5))
    plan = " ".join(
        r["detail"]
        for r in store._q("EXPLAIN QUERY PLAN SELECT status, n FROM job_counts WHERE job_id = :job", job=job)
    )
    assert "messages" not in plan and "job_counts" in plan


def test_claim_uses_the_queue_index(sqlite_store: Store) -> None:
    store = sqlite_store
    CLAIM_SQL = store.dialect.claim_sql
    store.create_job("j", "t", msgs(5))
    select = CLAIM_SQL[CLAIM_SQL.index("SELECT") : CLAIM_SQL.index("LIMIT 1") + 7]
    # The claim names the lanes open to the account (store.lanes): its queue index is (lane, id).
    lanes = store.dialect.array([])
    plan = " ".join(r["detail"] for r in store._q("EXPLAIN QUERY PLAN " + select, now=0.0, known=lanes))
    assert "ix_messages_queue_lanes" in plan
    assert "TEMP B-TREE" not in plan  # no sort of the whole queue per claim


def test_finish_jobs_completes_only_when_nothing_is_open(store: Store) -> None:
    job = store.create_job("j", "t", msgs(2))
    a = store.claim("w")
    store.mark_sent(a["id"], worker_id="w")
    b = store.claim("w")
    store.mark_unknown(b["id"], "no tick", worker_id="w")
    assert store.finish_jobs() == []
    store.mark_sent(b["id"], note="verified")  # verification found it
    assert store.finish_jobs() == [job]
    assert store.get_job(job)["status"] == "completed"
    assert store.get_job(job)["finished_at"] is not None


def test_a_job_waiting_for_login_is_not_claimed(store: Store) -> None:
    a = store.create_job("a", "t", msgs(1))
    b = store.create_job("b", "t", msgs(1, "+1202777"))
    store.set_job_status(b, S.JOB_PAUSED)
    store.set_job_status(a, S.JOB_WAITING)
    assert store.claim("w") is None
    store.set_job_status(a, S.JOB_RUNNING)
    assert store.claim("w")["job_id"] == a
    assert store.get_job(b)["status"] == "paused"


def test_optout_skips_queued_messages(store: Store) -> None:
    job = store.create_job("j", "t", msgs(3))
    assert store.add_optout("+12025550001", "asked")
    assert not store.add_optout("+12025550001")
    assert store.counts(job)["skipped"] == 1
    assert store.optout_set() == {"+12025550001"}
    assert store.remove_optout("+12025550001")
    assert store.optouts() == []


def test_keyset_pages_filter_and_search(store: Store) -> None:
    job = store.create_job("j", "t", msgs(120))
    first = store.page_messages(job, limit=50)
    second = store.page_messages(job, after_id=first[-1]["id"], limit=50)
    assert len(first) == 50 and second[0]["id"] == first[-1]["id"] + 1
    back = store.page_messages(job, before_id=second[0]["id"], limit=50)
    assert [r["id"] for r in back] == [r["id"] for r in first]
    store.mark_sent(store.claim("w")["id"], worker_id="w")
    assert [r["phone"] for r in store.page_messages(job, status="sent")] == ["+12025550000"]
    assert [r["name"] for r in store.page_messages(job, search="C11")] == ["C11"] + [f"C11{i}" for i in range(10)]
    assert store.page_messages(job, search="%") == []  # LIKE wildcards are literal


def test_daily_count(store: Store) -> None:
    store.create_job("j", "t", msgs(3))
    for t in (100.0, 200.0, 300.0):
        store.mark_sent(store.claim("w", now=t)["id"], worker_id="w", now=t)
    assert store.sent_since(150.0) == 2


# --- several processes claiming from one queue -------------------------------------


def _claimer(db: str, worker: str, out: mp.Queue[list[int]], ready: mp.Queue[str], start: mp.Event) -> None:
    s = Store(db)
    ready.put(worker)
    start.wait()
    got: list[int] = []
    while True:
        m = s.claim(worker)
        if m is None:
            break
        got.append(m["id"])
        # The send happens here, outside any transaction, as in the worker. Without it one
        # process can re-take SQLite's lock before the sleeping waiters wake and claim alone.
        time.sleep(0.002)
        s.mark_sent(m["id"], worker_id=worker)
    out.put(got)


@pytest.mark.parametrize("backend, n_procs", [("sqlite", 4), ("postgresql", 8)])
def test_processes_claim_2000_messages_each_exactly_once(tmp_path: Path, request, backend: str, n_procs: int) -> None:
    db = str(tmp_path / "q.db") if backend == "sqlite" else request.getfixturevalue("pg_url")
    s = Store(db)
    job = s.create_job("q", "t", msgs(2000))
    ctx = mp.get_context("spawn")
    out: mp.Queue = ctx.Queue()
    ready: mp.Queue = ctx.Queue()
    start = ctx.Event()
    procs = [ctx.Process(target=_claimer, args=(db, f"w{i}", out, ready, start)) for i in range(n_procs)]
    for p in procs:
        p.start()
    for _ in procs:  # all connected before the first claim
        ready.get(timeout=60)
    start.set()
    results = [out.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=30)
        assert p.exitcode == 0
    claimed = [i for r in results for i in r]
    print(f"claims per process: {[len(r) for r in results]}")
    assert len(claimed) == 2000
    assert len(set(claimed)) == 2000  # no message claimed twice
    assert sum(1 for r in results if r) >= n_procs // 2  # they really competed
    counts = s.counts(job)
    assert counts["sent"] == 2000 and counts["pending"] == 0 and counts["sending"] == 0
    rows = s._q("SELECT claimed_by, count(*) AS n FROM messages GROUP BY claimed_by")
    assert sum(r["n"] for r in rows) == 2000


@pytest.mark.parametrize(
    "status, index",
    [
        (None, "ix_messages_job"),
        ("pending", "ix_messages_queue"),
        ("retrying", "ix_messages_queue"),
        ("sent", "ix_messages_job_settled"),
        ("failed", "ix_messages_job_settled"),
        ("unknown", "ix_messages_job_settled"),
        ("skipped", "ix_messages_job_settled"),
    ],
)
def test_every_page_is_an_index_range_in_id_order(sqlite_store: Store, status: str | None, index: str) -> None:
    store = sqlite_store
    job = store.create_job("j", "t", msgs(5))
    plans: list[str] = []
    real_q = store._q

    def spy(sql: str, **params):
        if sql.lstrip().startswith("SELECT id, job_id, phone"):
            plans.append(" ".join(r["detail"] for r in real_q("EXPLAIN QUERY PLAN " + sql, **params)))
        return real_q(sql, **params)

    store._q = spy  # type: ignore[method-assign]
    store.page_messages(job, after_id=0, status=status)
    store.page_messages(job, before_id=100, status=status)
    assert len(plans) == 2
    for plan in plans:
        assert index in plan and "TEMP B-TREE" not in plan, plan


def test_pages_by_status_are_right(store: Store) -> None:
    job = store.create_job("j", "t", msgs(6))
    a, b = store.claim("w"), store.claim("w")
    store.mark_sent(a["id"], worker_id="w")
    store.mark_failed_attempt(b["id"], "x", max_attempts=3, backoff=10)
    assert [r["id"] for r in store.page_messages(job, status="sent")] == [a["id"]]
    assert [r["id"] for r in store.page_messages(job, status="retrying")] == [b["id"]]
    assert len(store.page_messages(job, status="pending")) == 4
    with pytest.raises(ValueError):
        store.page_messages(job, status="sent' OR 1=1 --")


def test_read_only_store_reads_and_refuses_writes(tmp_path: Path) -> None:
    db = tmp_path / "ro.db"
    full = Store(db)
    job = full.create_job("j", "t", msgs(3))
    ro = Store(db, read_only=True)
    assert ro.db is None  # dataset is not involved on this path
    assert ro.counts(job)["pending"] == 3
    assert [r["phone"] for r in ro.page_messages(job, limit=2)] == ["+12025550000", "+12025550001"]
    with pytest.raises(RuntimeError, match="read-only"):
        ro.set_job_status(job, S.JOB_PAUSED)
    with pytest.raises(StoreError, match="read-only"):
        ro._q("UPDATE jobs SET name = 'x'")  # the connection itself is read-only
    full.mark_sent(full.claim("w")["id"], worker_id="w")
    assert ro.counts(job)["sent"] == 1  # sees the writer's commits
    ro.close()
    with pytest.raises(StoreError):
        Store(tmp_path / "missing.db", read_only=True)


def test_read_mostly_store_writes_through_a_lazily_opened_store(tmp_path: Path) -> None:
    from store import ReadMostlyStore

    db = tmp_path / "rm.db"
    job = Store(db).create_job("j", "t", msgs(2))
    rm = ReadMostlyStore(db)
    assert rm.get_job(job)["status"] == "running"
    assert rm._writer is None  # reading opened no writer
    rm.set_job_status(job, S.JOB_PAUSED)
    assert rm._writer is not None
    assert rm.get_job(job)["status"] == "paused"
    rm.close()


def test_progress_and_eta() -> None:
    from store.progress import done_fraction, eta_seconds, open_count

    counts = {"pending": 3, "retrying": 1, "sending": 1, "unknown": 1, "sent": 4}
    assert open_count(counts) == 6
    assert done_fraction({"total": 10, "counts": counts}) == 0.4
    assert done_fraction({"total": 0, "counts": {}}) == 1.0
    assert eta_seconds([130.0, 120.0, 110.0], remaining=6) == 60.0  # 10 s a message
    assert eta_seconds([130.0], remaining=6) is None
    assert eta_seconds([130.0, 120.0], remaining=0) is None


# ----------------------------------------------------------------------------- the click mark and decisions


def test_the_click_mark_is_only_for_the_claimer_of_a_sending_message(store: Store) -> None:
    store.create_job("j", "t", msgs(2))
    m = store.claim("w", now=100.0)
    with pytest.raises(IllegalTransition):
        store.mark_clicking(m["id"], worker_id="other", now=101.0)
    store.mark_clicking(m["id"], worker_id="w", now=101.0)
    assert store.message(m["id"])["clicked_at"] == 101.0
    with pytest.raises(IllegalTransition):  # a clicked claim is never released as unclicked
        store.release_unclicked(m["id"], "x", max_attempts=3, backoff=0)


def test_an_unclicked_claim_of_a_dead_worker_goes_back_without_verification(store: Store) -> None:
    job = store.create_job("j", "t", msgs(1))
    m = store.claim("dead", now=100.0)
    assert store.release_unclicked(m["id"], "worker died", max_attempts=3, backoff=0, now=101.0) == S.RETRYING
    row = store.message(m["id"])
    assert row["status"] == "retrying" and row["requeues"] == 0 and row["attempts"] == 1
    assert store.claim("w", now=102.0)["id"] == m["id"]
    assert store.counts(job)["sending"] == 1


def test_requeues_count_and_undetermined_verifications_hold(store: Store) -> None:
    store.create_job("j", "t", msgs(1))
    m = store.claim("w", now=100.0)
    store.mark_clicking(m["id"], worker_id="w", now=100.5)
    store.mark_unknown(m["id"], "no tick", worker_id="w", now=101.0)
    store.requeue_unsent(m["id"], "not in the chat", now=102.0)
    row = store.message(m["id"])
    assert row["status"] == "pending" and row["requeues"] == 1 and row["clicked_at"] is None
    m = store.claim("w2", now=103.0)
    store.mark_clicking(m["id"], worker_id="w2", now=103.5)
    # A dead worker's `sending` message that verification cannot decide becomes `unknown`.
    assert store.note_undetermined(m["id"], "time unreadable", now=104.0) == 1
    assert store.note_undetermined(m["id"], "time unreadable", now=105.0) == 2
    row = store.message(m["id"])
    assert row["status"] == "unknown" and row["review"] == "time unreadable" and row["requeues"] == 1
    assert [r["id"] for r in store.review_list()] == [m["id"]]
    store.mark_sent(m["id"], now=106.0, note="verified in the chat")
    assert store.message(m["id"])["review"] is None
    with pytest.raises(IllegalTransition):
        store.note_undetermined(m["id"], "x")


def test_decisions_are_all_or_nothing(store: Store) -> None:
    store.create_job("j", "t", msgs(3))
    ids = []
    for _ in range(2):
        m = store.claim("w")
        store.mark_unknown(m["id"], "no tick", worker_id="w")
        ids.append(m["id"])
    other = store.claim("w")["id"]
    with pytest.raises(IllegalTransition):
        store.decide_all([ids[0], other])
    with pytest.raises(KeyError):  # a good decision and an unknown id: neither happens
        store.decide_all([ids[0]], [999_999])
    with pytest.raises(IllegalTransition):  # the job named is not theirs
        store.decide_all([ids[0]], job_id=ids[0] + 1000)
    assert store.message(ids[0])["status"] == "unknown"
    store.decide_all([ids[0]], [ids[1]])
    assert store.message(ids[0])["status"] == "sent"
    assert store.message(ids[1])["status"] == "pending"


def test_give_back_returns_the_attempts_of_retrying_and_failed_messages(store: Store) -> None:
    store.create_job("j", "t", msgs(3))
    a = store.claim("w")["id"]
    store.mark_failed_attempt(a, "x", max_attempts=3, backoff=0)
    a2 = store.claim("w")["id"]
    assert a2 == a
    store.mark_failed_attempt(a, "x", max_attempts=2, backoff=0)
    assert store.message(a)["status"] == "failed" and store.message(a)["attempts"] == 2
    b = store.claim("w")["id"]
    store.mark_sent(b, worker_id="w")
    assert store.give_back({a: 2, b: 1}, "page changed") == [a]
    assert store.message(a)["status"] == "pending" and store.message(a)["attempts"] == 0
    assert store.message(b)["status"] == "sent"


def test_a_version_1_database_is_upgraded_in_place(tmp_path: Path) -> None:
    path = version_1_database(
        tmp_path / "old.db",
        """
        INSERT INTO jobs (name, status, template, created_at, total) VALUES ('old', 'running', 't', 0, 1);
        INSERT INTO messages (job_id, phone, text, status, attempts, claimed_by, claimed_at)
            VALUES (1, '+12025550100', 'hello', 'sending', 1, 'w', 5);
        """,
    )
    store = Store(path)
    row = store.message(1)
    assert row["status"] == "sending" and row["clicked_at"] is None and row["requeues"] == 0
    assert row["account"] == "default"  # the one account there was; only it verifies the message
    assert store.get_doc("schema_version") == SCHEMA_VERSION == 7
    assert [r["id"] for r in store.in_flight(account="default")] == [1] and store.in_flight(account="b") == []
    store.close()
    Store(path).close()  # opening it again changes nothing


def test_reads_are_typed_records_with_enum_statuses(store: Store) -> None:
    import json

    from store.records import Claim, Event, Job, Message, WorkerRow, jsonable
    from store.states import JobStatus, MessageStatus

    job_id = store.create_job("typed", "t", [{"phone": "+12025550100", "text": "hi", "columns": {"City": "Pune"}}])
    job = store.get_job(job_id)
    assert isinstance(job, Job) and job.status is JobStatus.RUNNING and job.counts["pending"] == 1
    claim = store.claim("w")
    assert isinstance(claim, Claim) and claim.phone == "+12025550100" and claim.attempts == 1
    msg = store.message(claim.id)
    assert isinstance(msg, Message) and msg.status is MessageStatus.SENDING and msg.columns == {"City": "Pune"}
    assert msg["status"] == "sending" and msg.get("nope", 7) == 7 and dict(msg)["claimed_by"] == "w"
    with pytest.raises(KeyError):
        msg["nope"]
    store.register_worker("w", 1, host="h1")
    assert isinstance(store.workers()[0], WorkerRow) and store.workers()[0].host == "h1"
    assert all(isinstance(e, Event) for e in store.events())
    assert [m.status for m in store.page_messages(job_id)] == [MessageStatus.SENDING]
    # Plain JSON: statuses as their text.
    out = json.loads(json.dumps(store.jobs(), default=jsonable))
    assert out[0]["status"] == "running" and out[0]["counts"]["sending"] == 1
    with pytest.raises(ValueError):
        JobStatus("nope")
