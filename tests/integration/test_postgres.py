"""PostgreSQL as the shared store: the CLI and the config on a URL, `migrate --to` from
SQLite (exact, refuses a non-empty target), several hosts' accounts in one overview
(a vanished host's accounts shown as lost), one account on one host only."""

from __future__ import annotations

import os
import time
from pathlib import Path

import psycopg
import pytest

import settings
from common import runfiles
from jobs import overview
from store import Store, StoreError
from store.migrate import TABLES
from tests.support.cli import assert_user_error, tui

T0 = 1_790_000_000.0


def msgs(n: int, prefix: str = "+1202555") -> list[dict]:
    return [
        {"phone": f"{prefix}{i:04d}", "text": f"hello {i} 👋", "name": f"C{i}", "columns": {"City": "Pune"}}
        for i in range(n)
    ]


def busy_sqlite(path: Path) -> tuple[Store, int]:
    """A database with a bit of everything: messages in every status, events, opt-outs,
    accounts, a job's accounts, a document."""
    s = Store(path)
    s.sync_accounts({"north": True, "south": False}, now=T0)
    s.account_seen("north", "logged_in", now=T0)
    job = s.create_job("mixed", "Hi {name}", msgs(12), accounts=["north"], now=T0)
    other = s.create_job("other", "t", msgs(3, "+1202666"), now=T0)
    a, b, c, d, e, _f = (s.claim("w", account="north", now=T0 + i) for i in range(6))
    s.mark_sent(a["id"], worker_id="w", now=T0 + 10)
    s.mark_failed_attempt(b["id"], "x", max_attempts=3, backoff=10, worker_id="w", now=T0 + 11)
    s.mark_failed_attempt(c["id"], "x", max_attempts=1, backoff=10, worker_id="w", now=T0 + 12)
    s.mark_invalid(d["id"], "not on WhatsApp", worker_id="w", now=T0 + 13)
    s.mark_clicking(e["id"], worker_id="w", now=T0 + 14)
    s.mark_unknown(e["id"], "no tick", worker_id="w", now=T0 + 15)
    # f stays `sending`
    s.add_optout("+12025550011", "asked", now=T0 + 16)
    s.set_job_status(other, "paused", now=T0 + 17)
    s.put_doc("note", {"x": 1}, now=T0)
    return s, job


def dump(store: Store) -> dict[str, list[tuple]]:
    out = {}
    for table, order in TABLES:
        rows = store._q(f"SELECT * FROM {table} ORDER BY {order}")
        if table == "kv":
            rows = [r for r in rows if r["name"] != "schema_version"]
        out[table] = [tuple(sorted(r.items())) for r in rows]
    return out


def test_migrate_copies_every_row_exactly_and_the_copy_works_on(tmp_path: Path, pg_url: str) -> None:
    src, job = busy_sqlite(tmp_path / "db.sqlite")
    before = dump(src)
    statuses = {st: n for st, n in src.counts(job).items() if n}
    assert {"sent", "retrying", "failed", "invalid", "unknown", "sending", "pending", "skipped"} <= set(statuses)
    src.close()
    proc = tui("--db", str(tmp_path / "db.sqlite"), "migrate", "--to", pg_url)
    assert proc.returncode == 0, proc.stderr
    assert "MISMATCH" not in proc.stdout
    table = {line.split()[0]: line.split()[1:] for line in proc.stdout.splitlines()[2:] if len(line.split()) == 3}
    assert table["messages"] == ["15", "15"] and table["events"] == ["8", "8"] and table["unknown"] == ["1", "1"]
    dst = Store(pg_url)
    assert dump(dst) == before
    # The copy goes on where the file stopped: new ids after the old ones, counters kept.
    assert dst.counts(job) == {**dict.fromkeys(dst.counts(job), 0), **statuses}
    new = dst.create_job("after", "t", msgs(2, "+1202777"))
    assert new > job + 1
    m = dst.claim("w2", account="north")
    assert m is not None and m["job_id"] == job  # the first queued message of the first job
    assert dst.counts(job)["sending"] == statuses["sending"] + 1
    dst.log_event("x", "after the move")
    # A second migrate into it is refused: one line, nothing written.
    n_jobs = len(dst.jobs())
    proc = tui("--db", str(tmp_path / "db.sqlite"), "migrate", "--to", pg_url)
    assert_user_error(proc, "the target is not empty")
    assert len(dst.jobs()) == n_jobs
    dst.close()


def test_migrate_bad_input_is_one_line(tmp_path: Path, pg_cluster) -> None:
    Store(tmp_path / "db.sqlite").close()
    assert_user_error(
        tui("--db", str(tmp_path / "db.sqlite"), "migrate", "--to", str(tmp_path / "x.db")),
        "--to: must be a postgresql://",
    )
    assert_user_error(
        tui("--db", str(tmp_path / "none.sqlite"), "migrate", "--to", pg_cluster.url("x")), "no database to copy"
    )
    # Nobody listens on that port.
    proc = tui("--db", str(tmp_path / "db.sqlite"), "migrate", "--to", "postgresql://u:secret@127.0.0.1:1/x")
    assert_user_error(proc, "cannot use the PostgreSQL database")
    assert "secret" not in proc.stderr  # the password is never printed


def test_the_cli_and_the_config_take_a_postgresql_url(tmp_path: Path, pg_url: str) -> None:
    csv = tmp_path / "c.csv"
    csv.write_text("Name,Phone\nAna,+91 98765 43210\nBo,+1 202 555 0147\n", encoding="utf-8")
    proc = tui("--db", pg_url, "import", str(csv), "--template", "Hi {Name}", "--json")
    assert proc.returncode == 0, proc.stderr
    cfg_path = tmp_path / "config.toml"
    cfg_path.write_text(f'[paths]\ndatabase = "{pg_url}"\nrun_dir = "run"\nlog_dir = "logs"\n', encoding="utf-8")
    cfg = settings.load(cfg_path)
    assert cfg.paths.database == pg_url and cfg.paths.run_dir == tmp_path / "run"
    proc = tui("--config", str(cfg_path), "jobs", "--json")
    assert proc.returncode == 0, proc.stderr
    assert '"total": 2' in proc.stdout
    assert not any(tmp_path.glob("**/*.db")), "nothing was written to a file"
    bad = tmp_path / "bad.toml"
    bad.write_text('[paths]\ndatabase = "mysql://x/y"\n', encoding="utf-8")
    assert_user_error(tui("--config", str(bad), "jobs"), "paths.database: must be a file path or a postgresql:// URL")


def test_a_server_that_is_not_there_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="cannot use the PostgreSQL database"):
        Store("postgresql://nobody@127.0.0.1:1/none")
    assert_user_error(tui("--db", "postgresql://nobody@127.0.0.1:1/none", "jobs"), "cannot use the PostgreSQL")


def test_every_hosts_accounts_in_one_overview_and_a_vanished_host_is_lost(
    tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    s = Store(pg_url)
    now = time.time()
    # This host (hostA) runs north; hostB runs south (alive); hostC ran east and vanished.
    monkeypatch.setenv(runfiles.HOST_VAR, "hostA")
    s.register_worker("hostA:north:1:1", 1, account="north", host="hostA", now=now)
    s.register_worker("hostB:south:2:1", 2, account="south", host="hostB", now=now)
    s.heartbeat("hostB:south:2:1", state="sending", info={"cap_today": 50, "sent_today": 7}, now=now)
    s.register_worker("hostC:east:3:1", 3, account="east", host="hostC", now=now - 120)
    s.heartbeat("hostC:east:3:1", state="sending", now=now - 100)
    for name in ("north", "south", "east"):
        s.account_seen(name, "logged_in", now=now)
    cfg_path = tmp_path / "config.toml"
    cfg_path.write_text(f'[paths]\ndatabase = "{pg_url}"\n[[accounts]]\nname = "north"\n', encoding="utf-8")
    cfg = settings.load(cfg_path)
    rows = {r.name: r for r in overview.account_rows(cfg, s, None, now=now)}
    assert set(rows) == {"north", "south", "east"}
    assert rows["north"].host == "hostA" and not rows["north"].remote
    assert (rows["south"].host, rows["south"].worker, rows["south"].cap_today) == ("hostB", "running", 50)
    assert (
        rows["south"].remote and not rows["south"].lost and "pause or stop this account there" in rows["south"].detail
    )
    assert rows["east"].lost and rows["east"].worker == "lost" and "hostC lost" in rows["east"].detail
    # The CLI shows the same.
    env = {**os.environ, runfiles.HOST_VAR: "hostA"}
    out = tui("--config", str(cfg_path), "accounts", cwd=tmp_path, env=env).stdout
    assert "south            hostB" in out and "east             hostC" in out and "hostC lost" in out
    # hostB's account cannot start on this host while hostB's worker is alive; east's can
    # (hostC is gone: its profile, moved here, would take over).
    assert s.account_elsewhere("south", "hostA", since=now - runfiles.LOST_AFTER)["host"] == "hostB"
    assert s.account_elsewhere("east", "hostA", since=now - runfiles.LOST_AFTER) is None
    s.close()


def test_postgresql_store_keeps_its_counters_under_concurrent_moves(pg_url: str) -> None:
    """Claims (row locks only) racing other writes (the advisory lock): the counters stay
    exact and no transaction deadlocks."""
    import threading

    s = Store(pg_url)
    job = s.create_job("race", "t", msgs(400))
    errors: list[BaseException] = []
    released: set[int] = set()
    lock = threading.Lock()

    def claimer(i: int) -> None:
        try:
            while (m := s.claim(f"w{i}")) is not None:
                with lock:
                    first = m["id"] % 3 == 0 and m["id"] not in released
                    released.add(m["id"])
                if first:
                    s.release(m["id"], worker_id=f"w{i}", reason="shutdown")  # back: the other direction
                    s.set_job_status(job, "paused")
                    s.set_job_status(job, "running")
                else:
                    s.mark_sent(m["id"], worker_id=f"w{i}")
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=claimer, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    real = {r["status"]: int(r["n"]) for r in s._q("SELECT status, count(*) AS n FROM messages GROUP BY status")}
    assert {k: v for k, v in s.counts(job).items() if v} == real
    assert real == {"sent": 400}
    with psycopg.connect(pg_url) as conn:
        assert (
            conn.execute(
                "SELECT count(*) FROM pg_stat_database WHERE deadlocks > 0 AND datname = current_database()"
            ).fetchone()[0]
            == 0
        )
    s.close()
