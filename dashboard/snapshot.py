"""What the poller reads from the store once per refresh: only what is on screen.

`SnapshotReader.read(view)` runs in the poller thread. It reads the jobs with their
trigger-kept counts, one page (at most `page_size` rows) of the selected job's
messages by keyset pagination, every account's row (login, worker, sent today / cap)
with the selected account's worker row, the supervisor's published document and the
events newer than the last one seen. It never reads every message.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypedDict

import supervisor
from common import runfiles
from jobs import overview
from store.progress import ETA_SAMPLES, eta_seconds, open_count

if TYPE_CHECKING:
    import settings
    from store.records import Event, Job, Message, WorkerRow

    from .storeview import DashboardStore

ETA_EVERY = 5.0  # seconds between two reads of a job's send times (pace)
PID_MAX = 2**62


@dataclass
class View:
    """What the screen shows; written by the UI thread, read by the poller (under `lock`)."""

    job_id: int | None = None
    status: str | None = None
    search: str = ""
    page_size: int = 100
    account: str | None = None  # whose worker the worker panel shows (None: the first)
    nav: deque[str] = field(default_factory=deque)  # "next", "prev", "first", "last"
    lock: threading.Lock = field(default_factory=threading.Lock)

    def copy(self) -> tuple[int | None, str | None, str, int, list[str], str | None]:
        with self.lock:
            navs = list(self.nav)
            self.nav.clear()
            return self.job_id, self.status, self.search, self.page_size, navs, self.account


PageKey = tuple[int | None, str | None, str, int]  # job, status filter, search, after_id
# The supervisor's published state (`supervisor.status`): a JSON document, hence Any.
SupervisorDoc = dict[str, Any]


@dataclass(frozen=True)
class Page:
    """One page of the selected job's messages: the rows after `after_id` that match the filter."""

    job_id: int | None
    status: str | None
    search: str
    after_id: int
    rows: tuple[Message, ...]
    moved: str | None = None  # the last navigation applied ("next", "prev", "first", "last")

    @property
    def key(self) -> PageKey:
        return (self.job_id, self.status, self.search, self.after_id)


@dataclass(frozen=True)
class Snapshot:
    """Everything one refresh of the screen shows, read at `at` in the poller thread."""

    at: float
    jobs: tuple[Job, ...]
    etas: dict[int, float | None]
    page: Page
    worker: WorkerRow | None
    current: Message | None
    supervisor: SupervisorDoc | None
    supervisor_alive: bool
    events: tuple[Event, ...]  # new since the previous snapshot, oldest first
    paused_all: bool
    read_ms: float = 0.0
    accounts: tuple[overview.AccountRow, ...] = ()  # in config order
    workers: dict[str, WorkerRow] = field(default_factory=dict)  # account -> its newest worker row
    account: str | None = None  # the account `worker` belongs to
    outbox: dict[str, dict[str, Any]] = field(default_factory=dict)  # webhook targets: waiting, dead letters

    @property
    def many_accounts(self) -> bool:
        return len(self.accounts) > 1


def pid_alive(pid: Any) -> bool:
    """Whether `pid` (as the supervisor's JSON document gives it: Any) is a live process."""
    try:
        import psutil

        p = psutil.Process(int(pid))
        return bool(p.status() != psutil.STATUS_ZOMBIE)
    except Exception:
        return False


class _PageQuery(TypedDict):
    """The filter every keyset read of one page repeats."""

    limit: int
    status: str | None
    search: str | None


class SnapshotReader:
    """Reads a `Snapshot` of what is on screen (`read`), in the poller thread: it keeps
    the page anchor, the last event seen and a short cache of each job's send times."""

    def __init__(
        self,
        store: DashboardStore,
        *,
        cfg: settings.Config | None = None,
        clock: Callable[[], float] = time.time,
        events_backlog: int = 200,
        supervisor_status: Callable[[], SupervisorDoc | None] | None = None,
    ) -> None:
        self.store = store
        self.supervisor_status = supervisor_status
        self.cfg = cfg
        self.clock = clock
        self.last_event_id = 0
        self.events_backlog = events_backlog
        self._anchor: dict[tuple[int, str | None, str], int] = {}
        self._eta: dict[int, tuple[float, list[float]]] = {}
        self._outbox: tuple[float, dict[str, dict[str, Any]]] = (0.0, {})

    # ---------------------------------------------------------------- messages page
    def _fetch(
        self,
        job_id: int,
        *,
        after_id: int | None = None,
        before_id: int | None = None,
        limit: int,
        status: str | None,
        search: str | None,
    ) -> list[Message]:
        """One keyset page: a range of the (job_id, id) or (job_id, status, id) index."""
        return self.store.page_messages(
            job_id, after_id=after_id, before_id=before_id, limit=limit, status=status, search=search
        )

    def _page(self, job_id: int | None, status: str | None, search: str, size: int, navs: list[str]) -> Page:
        """The page to show after applying `navs` to the anchor of this job and filter."""
        if job_id is None:
            return Page(None, status, search, 0, ())
        fkey = (job_id, status, search)
        after = self._anchor.get(fkey, 0)
        q: _PageQuery = {"limit": size, "status": status or None, "search": search or None}
        moved = None
        rows: list[Message] | None = None
        for nav in navs:
            if nav == "first":
                after, rows, moved = 0, None, nav
            elif nav == "next":
                cur = rows if rows is not None else self._fetch(job_id, after_id=after, **q)
                if cur:
                    nxt = self._fetch(job_id, after_id=cur[-1]["id"], **q)
                    if nxt:
                        after, rows, moved = cur[-1]["id"], nxt, nav
            elif nav == "prev":
                if after > 0:
                    cur = rows if rows is not None else self._fetch(job_id, after_id=after, **q)
                    first = cur[0]["id"] if cur else after + 1
                    before = self._fetch(job_id, before_id=first, **q)
                    if before:
                        after, rows, moved = before[0]["id"] - 1, None, nav
                    else:
                        after, rows, moved = 0, None, nav
            elif nav == "last":
                last = self._fetch(job_id, before_id=PID_MAX, **q)
                if last:
                    after, rows, moved = last[0]["id"] - 1, None, nav
        if rows is None or len(rows) < size:
            rows = self._fetch(job_id, after_id=after, **q)
        if not rows and after > 0:  # the page emptied (filter): show the last page instead
            last = self._fetch(job_id, before_id=PID_MAX, **q)
            after = last[0]["id"] - 1 if last else 0
            rows = last
        self._anchor = {fkey: after}
        return Page(job_id, status, search, after, tuple(rows), moved)

    # ---------------------------------------------------------------- ETA
    def _etas(self, jobs: list[Job], now: float) -> dict[int, float | None]:
        out: dict[int, float | None] = {}
        for job in jobs:
            remaining = open_count(job["counts"])
            if job["status"] not in ("running", "waiting_for_login") or not remaining:
                out[job["id"]] = None
                continue
            cached = self._eta.get(job["id"])
            if cached is None or now - cached[0] >= ETA_EVERY:
                times = self.store.sent_times(job["id"], ETA_SAMPLES)
                cached = (now, times)
                self._eta[job["id"]] = cached
            opens = job.get("opens_at")
            out[job["id"]] = eta_seconds(
                cached[1], remaining, waiting=job.get("waiting") or 0, opens_in=opens - now if opens else None
            )
        return out

    # ---------------------------------------------------------------- supervisor
    def _supervisor(self) -> tuple[SupervisorDoc | None, bool]:
        """The supervisor's published state and whether its process really runs."""
        if self.supervisor_status is not None:
            try:
                sup = self.supervisor_status()
                return sup, bool(sup and sup.get("alive"))
            except Exception:
                pass
        sup = self.store.get_doc(runfiles.supervisor_doc())
        alive = bool(sup and sup.get("pid") and sup.get("state") != "stopped" and pid_alive(sup["pid"]))
        return sup, alive

    # ---------------------------------------------------------------- all of it
    def read(self, view: View) -> Snapshot:
        """One snapshot of what `view` shows (the navigations it queued are applied)."""
        t0 = time.perf_counter()
        job_id, status, search, size, navs, account = view.copy()
        jobs = self.store.jobs()
        if job_id is not None and not any(j["id"] == job_id for j in jobs):
            job_id = None
        now = self.clock()
        page = self._page(job_id, status, search, size, navs)
        workers = overview.latest_rows(self.store.workers())
        sup, alive = self._supervisor()
        accounts: tuple[overview.AccountRow, ...] = ()
        worker: WorkerRow | None
        if self.cfg is not None:
            cfg = self.cfg
            accounts = tuple(
                overview.account_rows(
                    cfg,
                    self.store,
                    dict(sup or {}, alive=alive),
                    now=now,
                    paused=lambda name: supervisor.account_paused(cfg, name),
                )
            )
            names = [a.name for a in accounts]
            account = account if account in names else (names[0] if names else None)
            worker = workers.get(account) if account else None
        else:
            worker = self.store.latest_worker()
        current: Message | None = None
        if worker and worker.get("current_message_id") and worker.get("state") != "stopped":
            current = self.store.message(worker["current_message_id"])
        if self.last_event_id == 0:
            events = self.store.events(limit=self.events_backlog)
        else:
            events = self.store.events(limit=self.events_backlog, after_id=self.last_event_id)
        events.reverse()
        if events:
            self.last_event_id = events[-1]["id"]
        paused_all = self.cfg is not None and supervisor.paused(self.cfg)
        if now - self._outbox[0] >= ETA_EVERY:
            try:
                self._outbox = (now, self.store.outbox_summary())
            except Exception:  # a database from before the outbox
                self._outbox = (now, {})
        return Snapshot(
            at=now,
            jobs=tuple(jobs),
            etas=self._etas(jobs, now),
            page=page,
            worker=worker,
            current=current,
            supervisor=sup,
            supervisor_alive=alive,
            events=tuple(events),
            paused_all=paused_all,
            read_ms=(time.perf_counter() - t0) * 1000,
            accounts=accounts,
            workers=workers,
            account=account,
            outbox=self._outbox[1],
        )
