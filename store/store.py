"""The job store: jobs, messages, events, workers and opt-outs in one database: an
SQLite file, or PostgreSQL for several hosts (dialect.py holds what differs).

All SQL of the project lives in this package. Connections are in autocommit mode and
writes run inside an explicit transaction: `BEGIN IMMEDIATE` on SQLite (so pysqlite
never opens a deferred one behind our back), which makes a claim one atomic step across
processes; on PostgreSQL a claim is one `FOR UPDATE SKIP LOCKED` statement and other
writes take one advisory lock.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson

from common import dburl, localhours

from . import states as S
from .accounts import DEFAULT_ACCOUNT, FLYING_NEW, USABLE, AccountsMixin, local_midnight
from .dialect import WRITE_LOCK_KEY, for_url
from .lanes import MAX_TZ, JobHours, LaneLists, OpenZones, slot_of
from .outbox import HOOKS, OutboxMixin
from .records import Claim, Event, Job, Message, OptOut, WorkerRow
from .replies import RepliesMixin
from .schema import DDL, LANE_JOB, LANE_SLOT, MIGRATIONS, PRAGMAS, SCHEMA_VERSION

Row = dict[str, Any]
ANALYZE_AFTER = 10_000  # messages in one new job after which PostgreSQL's statistics are renewed


class StoreError(Exception):
    """The database cannot be used (a folder, read-only, disk full, locked too long, not a
    database, no server): one line naming it, exit status 2; the transaction was rolled back."""

    user_error = True


def _url(target: str | os.PathLike[str]) -> str:
    s = str(target)
    if dburl.is_url(s):
        return dburl.sqlalchemy_url(s)
    if "://" in s:
        return s
    return f"sqlite:///{Path(s).resolve()}"


def _encode(value: Any) -> str:
    # orjson: the stdlib encoder was a fifth of a 100,000-row import (0.47 s against 0.07 s).
    return orjson.dumps(value).decode()


def _loads(value: str | None) -> Any:
    return json.loads(value) if value else None


@contextmanager
def _no_transaction() -> Iterator[None]:
    yield


class Store(AccountsMixin, RepliesMixin, OutboxMixin):
    """One handle per process (thread-safe: each thread gets its own connection)."""

    def __init__(
        self,
        target: str | os.PathLike[str],
        *,
        create: bool = True,
        read_only: bool = False,
        busy_timeout: float = 30.0,
    ) -> None:
        url = _url(target)
        self.path: Path | None = None
        self.busy_timeout = busy_timeout
        if url.startswith("sqlite:///"):
            self.path = Path(url[len("sqlite:///") :])
            if self.path.is_dir():
                raise StoreError(f"{self.path}: is a folder, not a database file")
            if self.path.exists() and not self.path.is_file():
                raise StoreError(f"{self.path}: is not a regular file (a device or a pipe), not a database")
            if create and not read_only:
                try:
                    self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
                    # Owner-only whatever the umask; SQLite gives -wal and -shm the same mode.
                    if not self.path.exists():
                        os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
                except FileExistsError:  # created meanwhile by another process: fine
                    pass
                except OSError as exc:
                    raise StoreError(f"{self.path}: cannot create the database: {exc.strerror or exc}") from None
            elif not self.path.exists():
                raise StoreError(f"{self.path}: database not found")
        self.url = url
        self.dialect = for_url(url)
        # What error messages name: the file, or the server URL without its password.
        self.where: Any = self.path if self.path is not None else dburl.redact(str(target))
        self.read_only = read_only
        self._local = threading.local()
        self._job_hours: dict[int, JobHours] = {}
        self._open_zones = OpenZones()
        self._lanes = LaneLists(self._open_zones, self.dialect.array)
        self._no_lanes = self.dialect.array([])
        self._read_conns: list[sqlite3.Connection] = []
        if read_only:
            if self.path is None:
                raise ValueError("a read-only store needs an SQLite file")
            # No dataset (nor SQLAlchemy, nor alembic) on this path: importing them is
            # 0.6 s, a third of the dashboard's start. Readers of the WAL need no more.
            self.db = None
            return
        import dataset

        if self.dialect.name == "sqlite":
            self.db = dataset.connect(
                url,
                ensure_schema=False,
                engine_kwargs={
                    # We issue BEGIN IMMEDIATE / COMMIT ourselves.
                    "isolation_level": "AUTOCOMMIT",
                    "connect_args": {"timeout": busy_timeout, "check_same_thread": False},
                },
                sqlite_wal_mode=False,  # set below, with the other pragmas
                on_connect_statements=[*PRAGMAS, f"PRAGMA busy_timeout={int(busy_timeout * 1000)}"],
            )
        else:
            self.db = dataset.connect(
                url,
                ensure_schema=False,
                engine_kwargs={
                    "isolation_level": "AUTOCOMMIT",
                    "connect_args": {"connect_timeout": 10, "application_name": "wa-sender"},
                },
            )
        if create:
            with self._errors():
                self._create_schema()

    # ------------------------------------------------------------------ plumbing
    @property
    def _raw(self) -> Any:
        """This thread's DB-API connection (dataset keeps one per thread).

        Statements go to the driver directly: SQLAlchemy's per-statement overhead was
        more than half of a claim's time.
        """
        raw = getattr(self._local, "raw", None)
        if raw is None:
            if self.db is None:
                with self._errors():
                    raw = sqlite3.connect(
                        f"file:{self.path}?mode=ro",
                        uri=True,
                        isolation_level=None,
                        check_same_thread=False,
                        timeout=self.busy_timeout,
                    )
                    raw.execute(f"PRAGMA busy_timeout={int(self.busy_timeout * 1000)}")
                self._read_conns.append(raw)
            else:
                with self._errors():
                    raw = self.db.executable.connection.dbapi_connection
            self._local.raw = raw
        return raw

    @contextmanager
    def _errors(self) -> Iterator[None]:
        """A database error that the user can act on becomes one StoreError line."""
        try:
            yield
        except StoreError:
            raise
        except Exception as exc:
            meaning = self.dialect.explain(exc)
            if meaning is None:
                raise
            raise StoreError(f"{self.where}: {meaning}") from None

    def _q(self, sql: str, **params: Any) -> list[Row]:
        """A statement and its rows (in a pipelined transaction, it waits for every answer due)."""
        return self._later(sql, **params)()

    def _exec(self, sql: str, **params: Any) -> None:
        """A statement whose answer nobody reads: in a pipelined transaction it goes out
        without waiting (its error, if any, is raised at the next wait or the commit)."""
        self._later(sql, **params)

    def _later(self, sql: str, **params: Any) -> Callable[[], list[Row]]:
        """Send a statement now; its rows when the returned function is called (in a
        pipelined transaction, the first call waits for the answers due)."""
        sql = self.dialect.sql(sql)
        if not sql:
            return list
        with self._errors():
            cur = self._raw.execute(sql, params)
        if getattr(self._local, "pipe", None) is None:
            ready = self._rows(cur)
            return lambda: ready

        def when_answered() -> list[Row]:
            pipe = getattr(self._local, "pipe", None)
            with self._errors():
                if pipe is not None:
                    pipe.sync()
            return self._rows(cur)

        return when_answered

    def _rows(self, cur: Any) -> list[Row]:
        with self._errors():
            described = cur.description  # psycopg builds it anew at each reading
            if described is None:
                return []
            names = [d[0] for d in described]
            return [dict(zip(names, r)) for r in cur.fetchall()]

    def _one(self, sql: str, **params: Any) -> Row | None:
        rows = self._q(sql, **params)
        return rows[0] if rows else None

    def _insert_rows(self, table: str, cols: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
        """Many rows straight through the driver (SQLAlchemy's per-row overhead would triple
        an import's time): executemany on SQLite, COPY on PostgreSQL."""
        names = ", ".join(cols)
        with self._errors():
            if self.dialect.name == "postgresql":
                with self._raw.cursor().copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            else:
                self._raw.executemany(f"INSERT INTO {table}({names}) VALUES ({', '.join('?' * len(cols))})", rows)

    @contextmanager
    def write(self, *, serial: bool = True, pipeline: bool = False, claiming: bool = False) -> Iterator[Store]:
        """A write transaction that holds SQLite's write lock from its first statement; on
        PostgreSQL the store's advisory lock (unless `serial` is false: the claim, which
        locks only the row it takes).

        PostgreSQL only: `pipeline` sends the statements whose answers are not read
        (`_exec`, BEGIN, the lock, COMMIT) without waiting for them (psycopg's pipeline
        mode; no COPY inside): a claim's transaction, or a send's mark, is one round trip.
        `claiming`: a claim's own transaction, with the dialect's `claim_settings` inside it
        and `claim_around` before and after it (see `claim`).
        Nested calls join the outer transaction and its settings."""
        if self.read_only:
            raise RuntimeError("this store is read-only")
        depth = getattr(self._local, "depth", 0)
        if depth:
            self._local.depth = depth + 1
            try:
                yield self
            finally:
                self._local.depth -= 1
            return
        pg = self.dialect.name == "postgresql"
        around = self.dialect.claim_around if claiming else ("", "")
        if around[0]:
            self._exec(around[0])
        self._local.depth = 1
        self._local.serial = serial
        try:
            if pipeline and pg:
                with self._errors():
                    self._local.pipe_cm = self._raw.pipeline()
                    self._local.pipe = self._local.pipe_cm.__enter__()
            self._exec(self.dialect.begin)
            if claiming and self.dialect.claim_settings:
                self._exec(self.dialect.claim_settings)
            if serial and pg:
                self._exec("SELECT pg_advisory_xact_lock(:k)", k=WRITE_LOCK_KEY)
            yield self
            self._exec("COMMIT")
            self._end_pipeline(None)
        except BaseException as exc:
            self._local.depth = 0
            self._end_pipeline(exc)
            try:
                self._raw.execute("ROLLBACK")
            except Exception:  # already rolled back (SQLite on a full disk; a lost server)
                pass
            raise
        finally:
            if around[1]:
                self._exec(around[1])
        self._local.depth = 0

    def _end_pipeline(self, failed: BaseException | None) -> None:
        """Leave pipeline mode: wait for the answers still due (their error is raised,
        unless the transaction already failed)."""
        if getattr(self._local, "pipe", None) is None:
            return
        self._local.pipe, cm = None, self._local.pipe_cm
        if failed is None:
            with self._errors():
                cm.__exit__(None, None, None)
            return
        try:
            cm.__exit__(type(failed), failed, failed.__traceback__)
        except Exception:  # the answers of a transaction that is rolled back anyway
            pass

    def _create_schema(self) -> None:
        """Create a new database at the newest version, or upgrade an older one step by step."""
        with self.write():
            fresh = self._one(self.dialect.fresh_sql) is None
            version = SCHEMA_VERSION
            if not fresh:
                row = self._one("SELECT data FROM kv WHERE name = 'schema_version'")
                version = int(json.loads(row["data"])) if row else 1
                if version > SCHEMA_VERSION:
                    raise StoreError(
                        f"{self.where}: database schema {version} is newer than this program "
                        f"({SCHEMA_VERSION}): update the program"
                    )
                for target in range(version + 1, SCHEMA_VERSION + 1):
                    for statement in self.dialect.ddl(MIGRATIONS.get(target, ())):
                        self._q(statement)
            for statement in self.dialect.ddl(DDL):
                self._q(statement)
            self._q(
                "INSERT INTO kv(name, data, updated_at) VALUES ('schema_version', :v, :t) "
                "ON CONFLICT(name) DO UPDATE SET data = :v, updated_at = :t",
                v=str(SCHEMA_VERSION),
                t=time.time(),
            )

    def schema_version(self) -> int:
        """The database's schema version (0: no schema yet)."""
        try:
            row = self._one("SELECT data FROM kv WHERE name = 'schema_version'")
        except Exception:  # no kv table: an empty database, or one from before version 2
            return 0 if self._one(self.dialect.fresh_sql) is None else 1
        return int(json.loads(row["data"])) if row else 1

    def close(self) -> None:
        if self.db is not None:
            self.db.close()
        for conn in self._read_conns:
            conn.close()

    # ------------------------------------------------------------------ events
    def log_event(
        self,
        kind: str,
        text_: str,
        *,
        job_id: int | None = None,
        message_id: int | None = None,
        level: str = "info",
        at: float | None = None,
        account: str | None = None,
        payload: Mapping[str, Any] | None = None,
        message: Row | None = None,
    ) -> None:
        """An event row; one that other systems hear about (`outbox.HOOKS`) also writes its
        outbox row, in the same transaction (the caller's, or one of its own). `message`:
        the message's row as this transaction left it (`_move`), if the caller has it."""
        hook = HOOKS.get(kind)
        at = at or time.time()
        with self.write() if hook is not None and not hook.at_change else _no_transaction():
            self._exec(
                "INSERT INTO events(at, level, kind, job_id, message_id, text) "
                "VALUES (:at, :level, :kind, :job, :msg, :text)",
                at=at,
                level=level,
                kind=kind,
                job=job_id,
                msg=message_id,
                text=text_,
            )
            if hook is not None and not hook.at_change:
                self.emit_hook(
                    kind,
                    text_,
                    account=account,
                    job_id=job_id,
                    message_id=message_id,
                    payload=payload,
                    at=at,
                    message=message,
                )

    def events(self, *, limit: int = 50, job_id: int | None = None, after_id: int = 0) -> list[Event]:
        """Newest first."""
        if job_id is None:
            rows = self._q(
                "SELECT * FROM events WHERE id > :after ORDER BY id DESC LIMIT :lim", after=after_id, lim=limit
            )
        else:
            rows = self._q(
                "SELECT * FROM events WHERE job_id = :job AND id > :after ORDER BY id DESC LIMIT :lim",
                job=job_id,
                after=after_id,
                lim=limit,
            )
        return [Event.of(r) for r in rows]

    # ------------------------------------------------------------------ jobs
    def create_job(
        self,
        name: str,
        template: str,
        messages: Iterable[Mapping[str, Any]],
        *,
        attachment: str | None = None,
        source_file: str | None = None,
        start_at: float | None = None,
        status: str = S.JOB_RUNNING,
        accounts: Iterable[str] = (),
        now: float | None = None,
        window: localhours.Window | None = None,
        timezone: str | None = None,
        zone_sets: Iterable[tuple[str, ...]] = (),
    ) -> int:
        """Create a job and all its messages in one transaction (a crash leaves no job).
        `accounts`: the accounts that may send it (none: any account).

        Each message mapping has phone (E.164), text, and optionally name, columns (dict),
        status (only 'pending' or 'skipped' at creation) and zones (the contact's IANA
        zones; none usable: the job's). `window`: each contact's local hours (None: any
        time); `timezone`: the job's zone (default: this machine's). `zone_sets`: the order
        of the zone sets' numbers (the import gives them furthest east first; others follow
        in the order they come).
        """
        if status not in (S.JOB_PENDING, S.JOB_RUNNING, S.JOB_PAUSED):
            raise S.IllegalTransition(f"a new job cannot start as {status!r}")
        now = now or time.time()
        tz_name = timezone or localhours.local_zone_name()
        if localhours.zone(tz_name) is None:
            raise ValueError(f"unknown time zone {tz_name!r}")
        # A bigger page cache while three indexes of a big job are filled (0.65 s -> 0.53 s
        # for 100,000 rows); back to the default afterwards, so that no long-running process
        # keeps it.
        self._q("PRAGMA cache_size=-65536")
        try:
            return self._create_job(
                name,
                template,
                messages,
                attachment=attachment,
                source_file=source_file,
                start_at=start_at,
                status=status,
                accounts=tuple(accounts),
                now=now,
                window=window,
                timezone=tz_name,
                zone_sets=tuple(zone_sets),
            )
        finally:
            self._q("PRAGMA cache_size=-2000")

    def _create_job(
        self,
        name: str,
        template: str,
        messages: Iterable[Mapping[str, Any]],
        *,
        attachment: str | None,
        source_file: str | None,
        start_at: float | None,
        status: str,
        accounts: tuple[str, ...],
        now: float,
        window: localhours.Window | None,
        timezone: str,
        zone_sets: tuple[tuple[str, ...], ...],
    ) -> int:
        with self.write():
            row = self._one(
                "INSERT INTO jobs(name, status, template, attachment, source_file, created_at, start_at, "
                "window_start, window_end, timezone) "
                "VALUES (:name, :status, :tpl, :att, :src, :now, :start, :ws, :we, :tz) RETURNING id",
                name=name,
                status=status,
                tpl=template,
                att=attachment,
                src=source_file,
                now=now,
                start=start_at,
                ws=window.start if window else None,
                we=window.end if window else None,
                tz=timezone,
            )
            assert row is not None
            job_id = int(row["id"])
            for account in dict.fromkeys(accounts):
                self._q("INSERT INTO job_accounts(job_id, account) VALUES (:j, :a)", j=job_id, a=account)
            # Contacts an account that may send the job already knows go to its lanes.
            known = self._known_slots(accounts)
            # The job's zone sets by number (1, 2, ...): the order given, then as they come.
            own = (timezone,)
            sets: dict[tuple[str, ...], int] = {}
            for zs in (*zone_sets, own):
                sets.setdefault(localhours.usable_zones(zs) or own, len(sets) + 1)
            tz_of: dict[tuple[str, ...] | None, int] = {}  # zones as given -> number
            base = job_id * LANE_JOB
            windowed = window is not None
            cols = ("job_id", "phone", "name", "columns", "text", "attachment", "status", "updated_at", "tz", "lane")
            counts: dict[tuple[str, int], int] = {(st, 0): 0 for st in S.MESSAGE_STATES}
            batch: list[tuple[Any, ...]] = []
            for m in messages:
                st = m.get("status", S.PENDING)
                if st not in (S.PENDING, S.SKIPPED):
                    raise S.IllegalTransition(f"a new message cannot start as {st!r}")
                zones = m.get("zones")
                if zones is not None and zones.__class__ is not tuple:
                    zones = tuple(zones)
                tz = tz_of.get(zones)
                if tz is None:
                    zs = (localhours.usable_zones(zones) or own) if zones else own
                    tz = sets.get(zs)
                    if tz is None:
                        tz = sets[zs] = len(sets) + 1
                        if tz > MAX_TZ:
                            raise ValueError(f"more than {MAX_TZ} zone sets in one job")
                    tz_of[zones] = tz
                part = tz if windowed and st == S.PENDING else 0
                counts[(st, part)] = counts.get((st, part), 0) + 1
                phone = m["phone"]
                columns = m.get("columns")
                batch.append(
                    (
                        job_id,
                        phone,
                        m.get("name") or "",
                        _encode(columns) if columns is not None else None,
                        m["text"],
                        m.get("attachment", attachment),
                        st,
                        now,
                        tz,
                        base + known.get(phone, 0) * LANE_SLOT + (tz if windowed else 0),
                    )
                )
                if len(batch) >= 5000:
                    self._insert_rows("messages", cols, batch)
                    batch = []
            if batch:
                self._insert_rows("messages", cols, batch)
            self._insert_rows(
                "job_zones", ("job_id", "tz", "zones"), [(job_id, tz, " ".join(zs)) for zs, tz in sets.items()]
            )
            # Counted while inserting (a GROUP BY would scan the job: there is no full
            # (job_id, status) index); from here on the trigger keeps them.
            self._insert_rows(
                "job_counts", ("job_id", "status", "tz", "n"), [(job_id, st, tz, n) for (st, tz), n in counts.items()]
            )
            total = sum(counts.values())
            self._q("UPDATE jobs SET total = :n WHERE id = :job", n=total, job=job_id)
            self.log_event("job_created", f"job {job_id} {name!r} created", job_id=job_id, at=now)
        if total >= ANALYZE_AFTER and self.dialect.analyze_messages:
            self._q(self.dialect.analyze_messages)
        return job_id

    def _known_slots(self, accounts: tuple[str, ...]) -> dict[str, int]:
        """Phone -> the lowest slot among the accounts that know it (of `accounts`, if any)."""
        out: dict[str, int] = {}
        allowed = set(accounts)
        for r in self._q(
            "SELECT k.phone, k.account, a.slot FROM known_contacts AS k JOIN accounts AS a ON a.name = k.account"
        ):
            if (allowed and r["account"] not in allowed) or not r["slot"]:
                continue
            slot = int(r["slot"])
            if slot < out.get(r["phone"], LANE_SLOT):
                out[r["phone"]] = slot
        return out

    def job_zones(self, job_id: int) -> dict[int, tuple[str, ...]]:
        """A job's zone sets by their number (`Message.tz`)."""
        return {
            int(r["tz"]): tuple(r["zones"].split())
            for r in self._q("SELECT tz, zones FROM job_zones WHERE job_id = :j", j=job_id)
        }

    def _hours(self, job_id: int, start: int | None, end: int | None) -> JobHours:
        """A job's window and zone sets (fixed at its creation: cached for good)."""
        found = self._job_hours.get(job_id)
        if found is None:
            if len(self._job_hours) > 1000:
                self._job_hours.clear()
            found = self._job_hours[job_id] = JobHours.of(job_id, start, end, self.job_zones(job_id))
        return found

    def get_job(self, job_id: int, *, now: float | None = None) -> Job | None:
        row = self._one("SELECT * FROM jobs WHERE id = :id", id=job_id)
        if row is None:
            return None
        job = Job.of(row)
        rows = self._q("SELECT status, tz, n FROM job_counts WHERE job_id = :job AND n <> 0", job=job_id)
        job.counts = self._sum_counts(rows)
        job.accounts = self.job_accounts(job_id)
        self._local_hours(job, row, rows, now or time.time())
        for k, v in self.reply_stats().get(job_id, {}).items():
            setattr(job, k, v)
        return job

    def jobs(self, *, now: float | None = None) -> list[Job]:
        """Every job with its counts, newest first."""
        now = now or time.time()
        rows = self._q("SELECT * FROM jobs ORDER BY id DESC")
        counts: dict[int, list[Row]] = {}
        for r in self._q("SELECT job_id, status, tz, n FROM job_counts WHERE n <> 0"):
            counts.setdefault(r["job_id"], []).append(r)
        accounts: dict[int, list[str]] = {}
        for r in self._q("SELECT job_id, account FROM job_accounts ORDER BY job_id, account"):
            accounts.setdefault(r["job_id"], []).append(r["account"])
        replies = self.reply_stats()
        jobs = []
        for row in rows:
            job = Job.of(row)
            mine = counts.get(job.id, [])
            job.counts = self._sum_counts(mine)
            job.accounts = accounts.get(job.id, [])
            self._local_hours(job, row, mine, now)
            for k, v in replies.get(job.id, {}).items():
                setattr(job, k, v)
            jobs.append(job)
        return jobs

    @staticmethod
    def _sum_counts(rows: Iterable[Row]) -> dict[str, int]:
        out = dict.fromkeys((str(st) for st in S.MESSAGE_STATES), 0)
        for r in rows:
            out[r["status"]] = out.get(r["status"], 0) + int(r["n"])
        return out

    def _local_hours(self, job: Job, row: Row, counts: Iterable[Row], now: float) -> None:
        """The job's window and zone, and its queued messages outside their window now
        (waiting for their morning, from the per-zone-set counters) with the time the
        first of them opens."""
        job.timezone = row.get("timezone")
        start, end = row.get("window_start"), row.get("window_end")
        if start is None or end is None:
            return
        hours = self._hours(job.id, start, end)
        job.window = str(hours.window)
        if job.status in (S.JOB_COMPLETED, S.JOB_STOPPED, S.JOB_FAILED):
            return
        open_now = set(self._open_zones.open_tz(hours, now))
        for r in counts:
            tz = int(r["tz"])
            if r["status"] not in S.QUEUED or not tz or tz in open_now or r["n"] <= 0:
                continue
            job.waiting += int(r["n"])
            opens = self._open_zones.next_open(hours, tz, now)
            if opens is not None and (job.opens_at is None or opens < job.opens_at):
                job.opens_at = opens

    def counts(self, job_id: int) -> dict[str, int]:
        """Messages of a job by status, read from the trigger-kept counter table."""
        return self._sum_counts(self._q("SELECT status, n FROM job_counts WHERE job_id = :job AND n <> 0", job=job_id))

    def set_job_status(self, job_id: int, new: str, *, now: float | None = None) -> str:
        """Move a job to `new`; returns the old status. Illegal moves raise."""
        now = now or time.time()
        with self.write():
            job = self._one("SELECT status, started_at FROM jobs WHERE id = :id", id=job_id)
            if job is None:
                raise KeyError(f"no job {job_id}")
            old = job["status"]
            if old == new:
                return str(old)
            S.check_job(old, new)
            finished = now if new in (S.JOB_COMPLETED, S.JOB_STOPPED, S.JOB_FAILED) else None
            started = job["started_at"] or (now if new == S.JOB_RUNNING else None)
            self._q(
                "UPDATE jobs SET status = :new, started_at = :started, finished_at = :fin WHERE id = :id",
                new=new,
                started=started,
                fin=finished,
                id=job_id,
            )
            self.log_event(
                "job_status", f"job {job_id}: {old} -> {new}", job_id=job_id, at=now, payload={"status": str(new)}
            )
            return str(old)

    def finish_jobs(self, *, now: float | None = None) -> list[int]:
        """Running jobs with nothing left to send or verify become completed."""
        placeholders = ", ".join(f"'{s}'" for s in S.OPEN)
        with self.write():
            ids = [
                r["id"]
                for r in self._q(
                    "SELECT j.id FROM jobs j WHERE j.status = 'running' AND NOT EXISTS ("
                    f" SELECT 1 FROM job_counts c WHERE c.job_id = j.id AND c.status IN ({placeholders}) AND c.n > 0)"
                )
            ]
            for job_id in ids:
                self.set_job_status(job_id, S.JOB_COMPLETED, now=now)
            return ids

    def next_start_at(self, now: float | None = None) -> float | None:
        """The earliest future start time of a running job (None if a job can run now)."""
        now = now or time.time()
        row = self._one("SELECT min(start_at) AS t FROM jobs WHERE status = 'running' AND start_at > :now", now=now)
        return row["t"] if row else None

    # ------------------------------------------------------------------ the queue
    def claim(
        self,
        worker_id: str,
        *,
        account: str = DEFAULT_ACCOUNT,
        now: float | None = None,
        new_today: int | None = None,
        unanswered_margin: int | None = None,
    ) -> Claim | None:
        """Atomically take the next due message of a running job that `account` may send,
        and mark it `sending`, claimed by that worker and account.

        Contacts the account knows (a chat exists) come first, then new ones; a contact is
        taken only while its job's window is open in its local time. New contacts are not
        taken while the account is `limited_new`, once `new_today` of them (the day's
        budget after the warm-up: `SendingSettings.new_contacts_today`; None: no budget)
        were written to since local midnight, or when WhatsApp's unanswered counter is
        within `unanswered_margin` of its cap. A restricted or banned account takes nothing.
        `Claim.known` tells which kind the message is."""
        now = now or time.time()
        rows = self._q(self._claim_view_sql, now=now, me=account, day=local_midnight(now))
        everyone = [r for r in rows if r["kind"] == 0]
        me = next((r for r in everyone if r["name"] == account), None)
        if me is None or not me["slot"]:
            self.account_slot(account, now=now)
            return self.claim(
                worker_id, account=account, now=now, new_today=new_today, unanswered_margin=unanswered_margin
            )
        ended = any(r["limit_state"] and not S.limit_in_force(r["limit_state"], r["limit_until"], now) for r in rows)
        if ended and self.lift_expired_limits(now=now):
            # Their end has passed: lifted (with their events); jobs that waited run again.
            return self.claim(
                worker_id, account=account, now=now, new_today=new_today, unanswered_margin=unanswered_margin
            )
        limit = S.limit_in_force(me["limit_state"], me["limit_until"], now)
        if limit in S.BLOCKING:
            return None
        slot = int(me["slot"])
        jobs = sorted(
            (self._hours(int(r["job"]), r["window_start"], r["window_end"]) for r in rows if r["kind"] == 1),
            key=lambda h: h.job_id,
        )
        if not jobs:
            return None
        any_known, known = self._lanes.get(jobs, (slot,), now)
        any_new, new = False, self._no_lanes
        if self._may_take_new(me, limit, new_today, unanswered_margin):
            # Nobody's contacts, and those known only to accounts that cannot send now.
            idle = sorted(int(r["slot"]) for r in everyone if not r["usable"] and r["slot"] and r["slot"] != slot)
            any_new, new = self._lanes.get(jobs, (0, *idle), now)
        if not any_known and not any_new:
            return None
        params = {"worker": worker_id, "account": account, "now": now, "known": known, "new": new}
        if self.dialect.claim_notes_worker and not getattr(self._local, "depth", 0):
            # PostgreSQL: the claim and the worker row are one statement, sent with its BEGIN
            # and COMMIT in one round trip. On both backends a claim's own commit does not
            # wait for the disk: a claim is a reservation, and nothing leaves before
            # `mark_clicking`, whose durable commit flushes the log up to it; a claim lost
            # in a crash of the machine or the server makes that mark fail (the row is no
            # longer this worker's), so nothing is clicked.
            with self.write(serial=False, pipeline=True, claiming=True):
                claimed = self._later(self.dialect.claim_sql, **params)
            row = next(iter(claimed()), None)
        else:
            with self.write(serial=False, claiming=True):
                row = self._one(self.dialect.claim_sql, **params)
                if row is not None and not self.dialect.claim_notes_worker:
                    self._q("UPDATE workers SET current_message_id = :m WHERE id = :w", m=row["id"], w=worker_id)
        if row is None:
            return None
        row["known"] = slot_of(int(row["lane"])) == slot
        return Claim.of(row)

    # What a claim reads first, in one statement: every account (kind 0: its slot, limit,
    # unanswered counter, whether it can send now, and for the claiming one its new
    # contacts of today, sent and in flight), then the running jobs it may send (kind 1).
    _claim_view_sql = f"""
        SELECT 0 AS kind, a.name, a.slot, a.limit_state, a.limit_until, a.unanswered, a.unanswered_cap,
               CASE WHEN {USABLE} THEN 1 ELSE 0 END AS usable,
               CASE WHEN a.name = :me THEN (CASE WHEN a.new_day = :day THEN a.new_sent ELSE 0 END) + {FLYING_NEW}
               END AS new_today,
               NULL AS job, NULL AS window_start, NULL AS window_end
          FROM accounts AS a
        UNION ALL
        SELECT 1, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, j.id, j.window_start, j.window_end
          FROM jobs AS j
         WHERE j.status = 'running' AND (j.start_at IS NULL OR j.start_at <= :now)
           AND (NOT EXISTS (SELECT 1 FROM job_accounts AS ja WHERE ja.job_id = j.id)
                OR EXISTS (SELECT 1 FROM job_accounts AS ja WHERE ja.job_id = j.id AND ja.account = :me))"""

    def _may_take_new(self, me: Row, limit: str, new_today: int | None, margin: int | None) -> bool:
        """May the account write to a contact it has no chat with, now?"""
        if limit == S.LIMITED_NEW:
            return False
        cap, used = me["unanswered_cap"], me["unanswered"]
        if margin is not None and cap is not None and used is not None and used >= cap - margin:
            return False
        return new_today is None or int(me["new_today"] or 0) < new_today

    def message(self, message_id: int) -> Message | None:
        row = self._one("SELECT * FROM messages WHERE id = :id", id=message_id)
        if row is None:
            return None
        row["columns"] = _loads(row["columns"])
        return Message.of(row)

    # What a move returns: what its caller and the message's webhook payload need.
    _MOVED = "id, job_id, phone, name, status, attempts, last_error, account, sent_at"

    def _move(self, message_id: int, new: str, now: float, *, worker_id: str | None = None, **fields: Any) -> Row:
        """The single place where a message changes status: one conditional UPDATE, taken
        only from a status the move table allows and, out of `sending`, only by its claimer
        (`worker_id`). Returns the row as moved; a move that changes nothing raises why."""
        sources = S.MESSAGE_SOURCES.get(new, frozenset())
        with self.write():
            row = None
            if sources:
                sets = "".join(f", {k} = :{k}" for k in fields)
                mine = " AND (status <> 'sending' OR claimed_by = :w)" if worker_id is not None else ""
                listed = ", ".join(f"'{s}'" for s in sorted(sources))
                row = self._one(
                    f"UPDATE messages SET status = :new, updated_at = :now{sets} "
                    f"WHERE id = :id AND status IN ({listed}){mine} RETURNING {self._MOVED}",
                    new=new,
                    now=now,
                    id=message_id,
                    **({"w": worker_id} if worker_id is not None else {}),
                    **fields,
                )
            if row is None:
                raise self._not_moved(message_id, new, worker_id)
            return row

    def _not_moved(self, message_id: int, new: str, worker_id: str | None) -> Exception:
        """Why a move changed nothing: no such message, a move the table forbids, another claimer."""
        row = self._one("SELECT status, claimed_by FROM messages WHERE id = :id", id=message_id)
        if row is None:
            return KeyError(f"no message {message_id}")
        try:
            S.check_message(row["status"], new)
        except S.IllegalTransition as exc:
            return exc
        return S.IllegalTransition(f"message {message_id} is claimed by {row['claimed_by']!r}, not {worker_id!r}")

    def mark_sent(
        self, message_id: int, *, worker_id: str | None = None, now: float | None = None, note: str | None = None
    ) -> None:
        now = now or time.time()
        text_ = f"message {message_id} sent" + (f" ({note})" if note else "")
        hook = HOOKS.get("sent")
        if self.dialect.mark_sent_sql and hook is not None and hook.when is None:
            # PostgreSQL: one statement (dialect.PG_MARK_SENT) with its BEGIN, advisory
            # lock and COMMIT in one round trip; a move that changed nothing wrote nothing.
            with self.write(pipeline=True):
                moved = self._later(
                    self.dialect.mark_sent_sql,
                    id=message_id,
                    w=worker_id,
                    now=now,
                    note=note,
                    day=local_midnight(now),
                    text=text_,
                    uid=str(uuid.uuid4()),
                    event=hook.event,
                )
            if not moved():
                raise self._not_moved(message_id, S.SENT, worker_id)
            return
        with self.write(pipeline=True):
            row = self._move(message_id, S.SENT, now, worker_id=worker_id, sent_at=now, last_error=note, review=None)
            self._note_sent(message_id, now)
            self.log_event("sent", text_, job_id=row["job_id"], message_id=message_id, at=now, message=row)

    def mark_unknown(
        self, message_id: int, reason: str, *, worker_id: str | None = None, now: float | None = None
    ) -> None:
        self._end_with_warning(message_id, S.UNKNOWN, reason, worker_id=worker_id, now=now)

    def mark_invalid(
        self, message_id: int, reason: str, *, worker_id: str | None = None, now: float | None = None
    ) -> None:
        self._end_with_warning(message_id, S.INVALID, reason, worker_id=worker_id, now=now)

    def _end_with_warning(
        self, message_id: int, status: S.MessageStatus, reason: str, *, worker_id: str | None, now: float | None
    ) -> None:
        """Move the message to `status` with `reason`, and a warning event of that name."""
        now = now or time.time()
        with self.write(pipeline=True):
            row = self._move(message_id, status, now, worker_id=worker_id, last_error=reason)
            self.log_event(
                status.value,
                f"message {message_id}: {reason}",
                job_id=row["job_id"],
                message_id=message_id,
                level="warning",
                at=now,
                message=row,
            )

    def mark_failed_attempt(
        self,
        message_id: int,
        error: str,
        *,
        max_attempts: int,
        backoff: float,
        worker_id: str | None = None,
        now: float | None = None,
    ) -> str:
        """A failure before the send click: retry later with backoff, or fail when out of attempts."""
        now = now or time.time()
        with self.write(pipeline=True):
            current = self._one("SELECT attempts FROM messages WHERE id = :id", id=message_id)
            if current is None:
                raise KeyError(f"no message {message_id}")
            attempts = current["attempts"]
            if attempts >= max_attempts:
                row = self._move(message_id, S.FAILED, now, worker_id=worker_id, last_error=error)
                self.log_event(
                    "failed",
                    f"message {message_id} failed after {attempts} attempts: {error}",
                    job_id=row["job_id"],
                    message_id=message_id,
                    level="error",
                    at=now,
                    message=row,
                )
                return S.FAILED
            delay = backoff * (2 ** max(attempts - 1, 0))
            row = self._move(
                message_id, S.RETRYING, now, worker_id=worker_id, last_error=error, next_attempt_at=now + delay
            )
            self.log_event(
                "retrying",
                f"message {message_id} attempt {attempts} failed: {error}; retry in {delay:.0f}s",
                job_id=row["job_id"],
                message_id=message_id,
                level="warning",
                at=now,
                message=row,
            )
            return S.RETRYING

    def release(
        self, message_id: int, *, worker_id: str | None = None, reason: str = "released", now: float | None = None
    ) -> None:
        """Give a claimed message back before its send click; the attempt is not counted."""
        now = now or time.time()
        with self.write():
            row = self._move(
                message_id, S.PENDING, now, worker_id=worker_id, claimed_by=None, claimed_at=None, clicked_at=None
            )
            self._q(
                "UPDATE messages SET attempts = CASE WHEN attempts > 1 THEN attempts - 1 ELSE 0 END WHERE id = :id",
                id=message_id,
            )
            self.log_event(
                "released",
                f"message {message_id} back in the queue: {reason}",
                job_id=row["job_id"],
                message_id=message_id,
                at=now,
            )

    def requeue_unsent(
        self, message_id: int, reason: str, *, now: float | None = None, give_attempt: bool = False
    ) -> None:
        """Verification proved the message is not in its chat: it goes back to the queue.
        Counted in `requeues` (the worker holds a message instead once that is used up).
        `give_attempt`: WhatsApp refused it (its failure mark), not the message's fault: the
        attempt its send used is given back."""
        now = now or time.time()
        with self.write():
            row = self._move(
                message_id,
                S.PENDING,
                now,
                claimed_by=None,
                claimed_at=None,
                clicked_at=None,
                last_error=reason,
                next_attempt_at=None,
                review=None,
                verify_tries=0,
            )
            back = "attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END, " if give_attempt else ""
            self._q(f"UPDATE messages SET {back}requeues = requeues + 1 WHERE id = :id", id=message_id)
            self._reopen_job(row["job_id"], now)
            self.log_event(
                "requeued",
                f"message {message_id} not found in its chat, queued again: {reason}",
                job_id=row["job_id"],
                message_id=message_id,
                level="warning",
                at=now,
            )

    def mark_clicking(self, message_id: int, *, worker_id: str, now: float | None = None) -> None:
        """Committed right before the send click or key: from here on the message may have left."""
        now = now or time.time()
        with self.write(pipeline=True):
            done = self._q(
                "UPDATE messages SET clicked_at = :now, updated_at = :now "
                "WHERE id = :id AND status = 'sending' AND claimed_by = :w RETURNING id",
                now=now,
                id=message_id,
                w=worker_id,
            )
            if not done:
                raise S.IllegalTransition(f"message {message_id} is not claimed by {worker_id} in 'sending'")

    def release_unclicked(
        self, message_id: int, reason: str, *, max_attempts: int, backoff: float, now: float | None = None
    ) -> str:
        """A dead worker's claimed message whose send click certainly never happened
        (no `clicked_at`): queued again without any verification, its attempt counted."""
        now = now or time.time()
        with self.write():
            row = self._one("SELECT status, clicked_at FROM messages WHERE id = :id", id=message_id)
            if row is None or row["status"] != S.SENDING or row["clicked_at"] is not None:
                raise S.IllegalTransition(f"message {message_id} is not an unclicked claim")
            return self.mark_failed_attempt(message_id, reason, max_attempts=max_attempts, backoff=backoff, now=now)

    def note_undetermined(self, message_id: int, reason: str, *, now: float | None = None) -> int:
        """Verification could not decide: the message is (or stays) `unknown` with the reason;
        returns how many verifications could not decide so far. Never queued again by this."""
        now = now or time.time()
        with self.write():
            row = self._one("SELECT job_id, status, verify_tries FROM messages WHERE id = :id", id=message_id)
            if row is None:
                raise KeyError(f"no message {message_id}")
            if row["status"] == S.SENDING:
                self._move(message_id, S.UNKNOWN, now, last_error=reason)
            elif row["status"] != S.UNKNOWN:
                raise S.IllegalTransition(f"message {message_id} is {row['status']}, not in flight")
            tries = int(row["verify_tries"]) + 1
            self._q(
                "UPDATE messages SET review = :r, verify_tries = :n, updated_at = :now WHERE id = :id",
                r=reason,
                n=tries,
                now=now,
                id=message_id,
            )
            self.log_event(
                "undetermined",
                f"message {message_id}: verification could not decide: {reason}",
                job_id=row["job_id"],
                message_id=message_id,
                level="warning",
                at=now,
                payload={"was": str(row["status"])},
            )
            return tries

    def reopen_verification(self, message_ids: Iterable[int], reason: str, *, now: float | None = None) -> list[int]:
        """Messages in doubt whose verification could not decide (the selectors were broken)
        are verified again from the start: their verification count is reset. They stay
        `unknown`; nothing is queued again by this. Returns the ids reopened."""
        now = now or time.time()
        done: list[int] = []
        with self.write():
            for mid in dict.fromkeys(message_ids):
                row = self._one("SELECT job_id, status FROM messages WHERE id = :id", id=mid)
                if row is None or row["status"] != S.UNKNOWN:
                    continue
                self._q("UPDATE messages SET verify_tries = 0, updated_at = :now WHERE id = :id", now=now, id=mid)
                self.log_event(
                    "reverify",
                    f"message {mid}: verified again ({reason})",
                    job_id=row["job_id"],
                    message_id=mid,
                    at=now,
                )
                done.append(mid)
        return done

    def review_list(self, job_id: int | None = None) -> list[Message]:
        """`unknown` messages (sent or not: nothing proved it), oldest first, for a person to decide."""
        sql = (
            "SELECT id, job_id, phone, name, text, attachment, status, attempts, claimed_by, claimed_at, "
            "clicked_at, requeues, verify_tries, review, last_error FROM messages WHERE status = 'unknown'"
        )
        if job_id is not None:
            return [Message.of(r) for r in self._q(sql + " AND job_id = :j ORDER BY id", j=job_id)]
        return [Message.of(r) for r in self._q(sql + " ORDER BY id")]

    def decide_all(
        self,
        sent: Iterable[int] = (),
        resend: Iterable[int] = (),
        *,
        job_id: int | None = None,
        now: float | None = None,
    ) -> None:
        """A person's decision on `unknown` messages: `sent` were sent, `resend` go back to the
        queue. Every id is checked first (in doubt, and of `job_id` when given), then all are
        applied in one transaction: nothing changes unless every one may."""
        now = now or time.time()
        sent_ids, resend_ids = list(dict.fromkeys(sent)), list(dict.fromkeys(resend))
        with self.write():
            for mid in [*sent_ids, *resend_ids]:
                row = self._one("SELECT status, job_id FROM messages WHERE id = :id", id=mid)
                if row is None:
                    raise KeyError(f"no message {mid}")
                if job_id is not None and row["job_id"] != job_id:
                    raise S.IllegalTransition(f"message {mid} is not in job {job_id} (it is in job {row['job_id']})")
                if row["status"] != S.UNKNOWN:
                    raise S.IllegalTransition(f"message {mid} is {row['status']}, not unknown")
            for mid in sent_ids:
                moved = self._move(mid, S.SENT, now, sent_at=now, last_error="marked sent by a person", review=None)
                self.log_event(
                    "sent", f"message {mid} marked sent by a person", job_id=moved["job_id"], message_id=mid, at=now
                )
            for mid in resend_ids:
                moved = self._move(
                    mid,
                    S.PENDING,
                    now,
                    claimed_by=None,
                    claimed_at=None,
                    clicked_at=None,
                    last_error="sent again by a person's decision",
                    next_attempt_at=None,
                    review=None,
                    verify_tries=0,
                )
                self._reopen_job(moved["job_id"], now)
                self.log_event(
                    "resend",
                    f"message {mid} queued again by a person",
                    job_id=moved["job_id"],
                    message_id=mid,
                    level="warning",
                    at=now,
                )

    def give_back(self, attempts: Mapping[int, int], reason: str, *, now: float | None = None) -> list[int]:
        """Attempts that a page change (not the message) used up, by message id: messages in
        `retrying` or `failed` go back to `pending` with them returned. Others are left alone."""
        now = now or time.time()
        done: list[int] = []
        with self.write():
            for mid, n in attempts.items():
                row = self._one("SELECT status FROM messages WHERE id = :id", id=mid)
                if row is None or row["status"] not in (S.RETRYING, S.FAILED):
                    continue
                moved = self._move(mid, S.PENDING, now, next_attempt_at=None, last_error=reason)
                self._q(
                    "UPDATE messages SET attempts = CASE WHEN attempts > :n THEN attempts - :n ELSE 0 END "
                    "WHERE id = :id",
                    id=mid,
                    n=int(n),
                )
                self._reopen_job(moved["job_id"], now)
                done.append(mid)
            if done:
                self.log_event("given_back", f"{len(done)} attempt(s) given back: {reason}", level="warning", at=now)
        return done

    def retry_failed(self, job_id: int, *, now: float | None = None) -> int:
        """Put a job's failed messages back in the queue (by hand, from the dashboard or CLI)."""
        now = now or time.time()
        with self.write():
            ids = [
                r["id"] for r in self._q("SELECT id FROM messages WHERE job_id = :j AND status = 'failed'", j=job_id)
            ]
            for mid in ids:
                self._move(mid, S.PENDING, now, attempts=0, next_attempt_at=None)
            if ids:
                self._reopen_job(job_id, now)
            return len(ids)

    def _reopen_job(self, job_id: int, now: float) -> None:
        job = self._one("SELECT status FROM jobs WHERE id = :id", id=job_id)
        if job and job["status"] in (S.JOB_COMPLETED, S.JOB_FAILED):
            self.set_job_status(job_id, S.JOB_RUNNING, now=now)

    def in_flight(self, *, exclude_workers: Iterable[str] = (), account: str | None = None) -> list[Message]:
        """Messages in `sending`/`unknown` whose claimer is not among `exclude_workers`;
        with `account`, only that account's (only its chats can tell what happened)."""
        rows = self._q(
            "SELECT id, job_id, phone, text, attachment, status, claimed_by, account, claimed_at, "
            "clicked_at, attempts, requeues, verify_tries, review "
            "FROM messages WHERE status IN ('sending', 'unknown') ORDER BY id"
        )
        skip = set(exclude_workers)
        return [
            Message.of(r)
            for r in rows
            if r["claimed_by"] not in skip and (account is None or (r["account"] or DEFAULT_ACCOUNT) == account)
        ]

    def skip_optouts(self, *, now: float | None = None) -> int:
        """Queued messages to opted-out numbers are skipped (an opt-out added after import)."""
        now = now or time.time()
        with self.write():
            ids = [
                r["id"]
                for r in self._q(
                    "SELECT m.id FROM messages m JOIN optouts o ON o.phone = m.phone "
                    "WHERE m.status IN ('pending', 'retrying')" + self.dialect.lock_rows
                )
            ]
            for mid in ids:
                self._move(mid, S.SKIPPED, now, last_error="opted out")
            return len(ids)

    def sent_since(self, since: float, account: str | None = None) -> int:
        """Messages sent at or after `since` (for the daily cap), by `account` if given."""
        if account is None:
            row = self._one("SELECT count(*) AS n FROM messages WHERE sent_at >= :t", t=since)
        else:
            row = self._one(
                "SELECT count(*) AS n FROM messages INDEXED BY ix_messages_account_sent "
                "WHERE account = :a AND sent_at >= :t",
                a=account,
                t=since,
            )
        return int(row["n"]) if row else 0

    def sent_times(self, job_id: int, limit: int) -> list[float]:
        """The newest send times of a job (for the pace and the ETA)."""
        rows = self._q(
            "SELECT sent_at FROM messages WHERE job_id = :j AND status = 'sent' "
            "AND sent_at IS NOT NULL ORDER BY sent_at DESC LIMIT :lim",
            j=job_id,
            lim=limit,
        )
        return [r["sent_at"] for r in rows]

    # ------------------------------------------------------------------ reading messages
    def page_messages(
        self,
        job_id: int,
        *,
        after_id: int | None = None,
        before_id: int | None = None,
        limit: int = 50,
        status: str | None = None,
        search: str | None = None,
    ) -> list[Message]:
        """One page of a job's messages in id order (keyset pagination: never OFFSET)."""
        where = ["job_id = :job"]
        source = "messages"
        params: dict[str, Any] = {"job": job_id, "lim": limit}
        if status:
            if status not in S.MESSAGE_STATES:
                raise ValueError(f"unknown message status {status!r}")
            if status in S.QUEUED:  # SQLite would walk ix_messages_job past every settled row
                source = "messages INDEXED BY ix_messages_queue"
                where.append("status IN ('pending', 'retrying')")
            where.append("status = :status")
            params["status"] = status
        if search:
            where.append("(phone LIKE :q ESCAPE '\\' OR name LIKE :q ESCAPE '\\')")
            params["q"] = "%" + search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        order = "ASC"
        if after_id is not None:
            where.append("id > :after")
            params["after"] = after_id
        if before_id is not None:
            where.append("id < :before")
            params["before"] = before_id
            order = "DESC"
        rows = self._q(
            "SELECT id, job_id, phone, name, status, attempts, sent_at, last_error, claimed_at "
            f"FROM {source} WHERE {' AND '.join(where)} ORDER BY id {order} LIMIT :lim",
            **params,
        )
        if order == "DESC":
            rows.reverse()
        return [Message.of(r) for r in rows]

    def iter_messages(self, job_id: int, batch: int = 2000) -> Iterator[Message]:
        last = 0
        while True:
            rows = self._q(
                "SELECT * FROM messages WHERE job_id = :j AND id > :last ORDER BY id LIMIT :lim",
                j=job_id,
                last=last,
                lim=batch,
            )
            if not rows:
                return
            for r in rows:
                r["columns"] = orjson.loads(r["columns"]) if r["columns"] else None
                yield Message.of(r)
            last = rows[-1]["id"]

    # ------------------------------------------------------------------ workers
    def register_worker(
        self,
        worker_id: str,
        pid: int,
        *,
        account: str = DEFAULT_ACCOUNT,
        host: str | None = None,
        now: float | None = None,
    ) -> None:
        """A worker starts: its row (host, account, pid), replacing a dead one's of the same id."""
        now = now or time.time()
        # Events this handle logs without an account (offline, a crash) are this worker's
        # account's; a handle shared by workers of two accounts cannot tell (tests only).
        bound: set[str] = getattr(self, "_bound", set())
        bound.add(account)
        self._bound = bound
        self.bound_account = account if len(bound) == 1 else None
        self._q(
            "INSERT INTO workers(id, pid, started_at, heartbeat_at, state, account, host) "
            "VALUES (:id, :pid, :now, :now, 'starting', :acc, :host) "
            "ON CONFLICT(id) DO UPDATE SET pid = :pid, started_at = :now, heartbeat_at = :now, "
            "state = 'starting', stopped_at = NULL, account = :acc, host = :host",
            id=worker_id,
            pid=pid,
            now=now,
            acc=account,
            host=host or socket.gethostname(),
        )

    def heartbeat(
        self,
        worker_id: str,
        *,
        state: str | None = None,
        current_message_id: Any = ...,
        qr: Any = ...,
        browser_pids: list[int] | None = None,
        info: dict[str, Any] | None = None,
        now: float | None = None,
    ) -> None:
        """The worker's state and figures, and the time it was last alive (the watchdog reads it)."""
        now = now or time.time()
        sets = ["heartbeat_at = :now"]
        params: dict[str, Any] = {"id": worker_id, "now": now}
        if state is not None:
            sets.append("state = :state")
            params["state"] = state
        if current_message_id is not ...:
            sets.append("current_message_id = :cur")
            params["cur"] = current_message_id
        if qr is not ...:
            sets.append("qr = :qr")
            params["qr"] = qr
        if browser_pids is not None:
            sets.append("browser_pids = :bp")
            params["bp"] = json.dumps(browser_pids)
        if info is not None:
            sets.append("info = :info")
            params["info"] = json.dumps(info)
        self._q(f"UPDATE workers SET {', '.join(sets)} WHERE id = :id", **params)

    def worker_stopped(self, worker_id: str, *, now: float | None = None) -> None:
        now = now or time.time()
        self._q(
            "UPDATE workers SET state = 'stopped', stopped_at = :now, current_message_id = NULL, qr = NULL "
            "WHERE id = :id",
            id=worker_id,
            now=now,
        )

    def workers(self) -> list[WorkerRow]:
        rows = self._q("SELECT * FROM workers ORDER BY started_at DESC")
        for r in rows:
            r["browser_pids"] = _loads(r["browser_pids"]) or []
            r["info"] = _loads(r["info"]) or {}
        return [WorkerRow.of(r) for r in rows]

    def latest_worker(self) -> WorkerRow | None:
        rows = self.workers()
        return rows[0] if rows else None

    # ------------------------------------------------------------------ opt-outs
    def add_optout(
        self, phone: str, reason: str | None = None, *, account: str | None = None, now: float | None = None
    ) -> bool:
        """True when the number was not opted out before. Queued messages to it are skipped."""
        now = now or time.time()
        with self.write():
            rows = self._q(
                "INSERT INTO optouts(phone, added_at, reason) VALUES (:p, :t, :r) "
                "ON CONFLICT(phone) DO NOTHING RETURNING phone",
                p=phone,
                t=now,
                r=reason,
            )
            if rows:
                self.emit_hook(
                    "optout",
                    f"{phone} opted out",
                    account=account,
                    payload={"phone": phone, "reason": reason},
                    at=now,
                )
            self.skip_optouts(now=now)
            return bool(rows)

    def remove_optout(self, phone: str) -> bool:
        with self.write():
            return bool(self._q("DELETE FROM optouts WHERE phone = :p RETURNING phone", p=phone))

    def optouts(self) -> list[OptOut]:
        return [OptOut.of(r) for r in self._q("SELECT phone, added_at, reason FROM optouts ORDER BY phone")]

    def optout_set(self) -> frozenset[str]:
        return frozenset(r["phone"] for r in self._q("SELECT phone FROM optouts"))

    # ------------------------------------------------------------------ small documents
    def put_doc(self, name: str, data: Any, *, now: float | None = None) -> None:
        self._q(
            "INSERT INTO kv(name, data, updated_at) VALUES (:n, :d, :t) "
            "ON CONFLICT(name) DO UPDATE SET data = :d, updated_at = :t",
            n=name,
            d=json.dumps(data),
            t=now or time.time(),
        )

    def get_doc(self, name: str) -> Any:
        row = self._one("SELECT data, updated_at FROM kv WHERE name = :n", n=name)
        return json.loads(row["data"]) if row else None

    def delete_doc(self, name: str) -> bool:
        return bool(self._q("DELETE FROM kv WHERE name = :n RETURNING name", n=name))


class ReadMostlyStore:
    """Reads on a read-only connection, writes through a full Store opened on first use.

    For the dashboard: it reads every second and writes when the user presses a key, so
    it can paint before dataset and SQLAlchemy are even imported (`warm()` opens the
    writer in the background afterwards).
    """

    READS = frozenset(
        {
            "events",
            "get_job",
            "jobs",
            "counts",
            "next_start_at",
            "message",
            "in_flight",
            "sent_since",
            "sent_times",
            "page_messages",
            "iter_messages",
            "workers",
            "latest_worker",
            "job_zones",
            "account_limit",
            "account_health",
            "is_known",
            "known_count",
            "new_contacts_today",
            "new_by_account",
            "optouts",
            "optout_set",
            "get_doc",
            "url",
            "path",
            "review_list",
            "accounts",
            "account",
            "job_accounts",
            "sent_by_account",
            "get_attention",
            "attentions",
            "replies",
            "reply_stats",
            "reply_targets",
            "reply_page",
            "counts_by_account",
            "outbox_summary",
            "dead_count",
            "dead_letters",
        }
    )

    def __init__(self, target: str | os.PathLike[str]) -> None:
        self._target = target
        self._writer: Store | None = None
        self._lock = threading.Lock()
        if dburl.is_url(target):  # a server: no file to read on the side
            self._writer = self.reader = Store(target, create=False)
            if self.reader.schema_version() < SCHEMA_VERSION:
                with self.reader._errors():
                    self.reader._create_schema()  # an older database: upgraded first
        else:
            self.reader = Store(target, read_only=True)
            if self.reader.schema_version() < SCHEMA_VERSION:
                self._writer = Store(target)  # an older database: upgraded (one transaction) first

    def writer(self) -> Store:
        with self._lock:
            if self._writer is None:
                self._writer = Store(self._target, create=False)
            return self._writer

    def warm(self) -> None:
        self.writer()

    def __getattr__(self, name: str) -> Any:
        if name in self.READS:
            return getattr(self.reader, name)
        return getattr(self.writer(), name)

    def close(self) -> None:
        self.reader.close()
        if self._writer is not None and self._writer is not self.reader:
            self._writer.close()
