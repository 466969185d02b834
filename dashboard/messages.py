"""Typed messages posted between the poller thread, the panels and the app."""

from __future__ import annotations

from textual.message import Message

from .snapshot import Snapshot


class SnapshotReady(Message):
    """The poller read a fresh snapshot of what is on screen."""

    def __init__(self, snapshot: Snapshot) -> None:
        super().__init__()
        self.snapshot = snapshot


class JobSelected(Message):
    """The cursor of the jobs table moved to another job."""

    def __init__(self, job_id: int | None) -> None:
        super().__init__()
        self.job_id = job_id


class PageRequest(Message):
    """The messages table asks for another page ("next", "prev", "first", "last")."""

    def __init__(self, direction: str) -> None:
        super().__init__()
        self.direction = direction


class FilterChanged(Message):
    """The messages filter changed (status and/or search text)."""

    def __init__(self, status: str | None, search: str) -> None:
        super().__init__()
        self.status = status
        self.search = search


class JobCreated(Message):
    """The new-job wizard created a job (the app selects it)."""

    def __init__(self, job_id: int) -> None:
        super().__init__()
        self.job_id = job_id


class AccountSelected(Message):
    """The cursor of the accounts table moved to another account."""

    def __init__(self, account: str | None) -> None:
        super().__init__()
        self.account = account
