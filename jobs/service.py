"""The job service: the one place that decides what may be done to a job or a message in
doubt, for the CLI, the dashboard and the HTTP API alike.

Every decision comes from the store's move table (`store.states.JOB_MOVES`): whether a job
may be paused, resumed or stopped is never decided again elsewhere. Each action returns
what changed (`Change`), or raises `JobError` (a user error: one line) naming why not.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from common.errors import UserError
from store import IllegalTransition, states
from store.progress import ETA_SAMPLES, eta_seconds, open_count
from store.records import Job

JobStatus = states.JobStatus


class JobError(UserError):
    """An action that the job's state (or an unknown id) does not allow: one line."""


@dataclass(frozen=True)
class Change:
    """What an action did to a job."""

    job_id: int
    old: str
    new: str
    text: str  # the sentence a person reads ("Job 3 paused")


@dataclass(frozen=True)
class Decision:
    """A person's decision on messages in doubt (`review`)."""

    marked_sent: tuple[int, ...]
    resent: tuple[int, ...]


class JobStore(Protocol):
    """What the job service uses of the store: a `Store`, or the dashboard's
    `ReadMostlyStore` (which hands every attribute it does not read itself to a `Store`)."""

    def get_job(self, job_id: int) -> Job | None: ...

    def set_job_status(self, job_id: int, new: str) -> str: ...

    def retry_failed(self, job_id: int) -> int: ...

    def decide_all(
        self, sent: Iterable[int] = (), resend: Iterable[int] = (), *, job_id: int | None = None
    ) -> None: ...

    def sent_times(self, job_id: int, limit: int) -> list[float]: ...


def can_move(status: str, new: str) -> bool:
    """The move table allows `status` -> `new`."""
    return new in states.JOB_MOVES.get(status, frozenset())


class JobService:
    """Pause, resume, stop, retry, review and ETA over one store."""

    def __init__(self, store: JobStore) -> None:
        self.store = store

    def job(self, job_id: int) -> Job:
        job = self.store.get_job(job_id)
        if job is None:
            raise JobError(f"no job {job_id} (see `python tui.py jobs`)")
        return job

    def _move(self, job_id: int, new: JobStatus, verb: str) -> Change:
        job = self.job(job_id)
        if not can_move(job.status, new):
            raise JobError(f"job {job_id} is {job.status}: it cannot be {verb}")
        try:
            old = self.store.set_job_status(job_id, new)
        except IllegalTransition:  # moved meanwhile (a worker finished it)
            now = self.job(job_id).status
            raise JobError(f"job {job_id} is {now}: it cannot be {verb}") from None
        return Change(job_id, old, str(new), f"Job {job_id} {verb}")

    def pause(self, job_id: int) -> Change:
        return self._move(job_id, JobStatus.PAUSED, "paused")

    def resume(self, job_id: int) -> Change:
        job = self.job(job_id)
        if job.status != JobStatus.PAUSED:
            raise JobError(f"job {job_id} is {job.status}: only a paused job can be resumed")
        return self._move(job_id, JobStatus.RUNNING, "resumed")

    def stop(self, job_id: int) -> Change:
        return self._move(job_id, JobStatus.STOPPED, "stopped")

    def toggle_pause(self, job_id: int) -> Change:
        """The dashboard's one key: resume a paused job, else pause it."""
        job = self.job(job_id)
        if job.status == JobStatus.PAUSED:
            return self.resume(job_id)
        if not can_move(job.status, JobStatus.PAUSED):
            raise JobError(f"job {job_id} is {job.status}: nothing to pause or resume")
        return self.pause(job_id)

    def stoppable(self, job_id: int) -> bool:
        return can_move(self.job(job_id).status, JobStatus.STOPPED)

    def retry(self, job_id: int) -> int:
        """Queue the job's failed messages again; returns how many."""
        self.job(job_id)
        return self.store.retry_failed(job_id)

    def review(
        self, mark_sent: Iterable[int] = (), resend: Iterable[int] = (), *, job_id: int | None = None
    ) -> Decision:
        """Decide on messages in doubt: every id is checked first (in doubt, of `job_id` when
        given), then all are applied in one transaction; nothing changes on a bad id."""
        sent_ids, resend_ids = tuple(dict.fromkeys(mark_sent)), tuple(dict.fromkeys(resend))
        both = set(sent_ids) & set(resend_ids)
        if both:
            raise JobError(f"message {min(both)} is both in --mark-sent and --resend")
        if job_id is not None:
            self.job(job_id)
        try:
            self.store.decide_all(sent_ids, resend_ids, job_id=job_id)
        except (IllegalTransition, KeyError) as exc:
            raise JobError(str(exc).strip("'\"")) from None
        return Decision(sent_ids, resend_ids)

    def eta(self, job: Job, *, now: float | None = None) -> float | None:
        """Seconds left at the pace of the last sends (None when not sending or no pace yet);
        contacts waiting for their window count from the time it opens."""
        if job.status not in (JobStatus.RUNNING, JobStatus.WAITING):
            return None
        opens_in = job.opens_at - (now or time.time()) if job.opens_at is not None else None
        return eta_seconds(
            self.store.sent_times(job.id, ETA_SAMPLES), open_count(job.counts), waiting=job.waiting, opens_in=opens_in
        )
