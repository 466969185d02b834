"""What the dashboard uses of the store, as one Protocol.

The dashboard receives a `store.Store`, or (an existing SQLite file) a
`store.ReadMostlyStore`, which reads on a read-only connection and hands every other
attribute to a full `Store` opened on first use. Both satisfy `DashboardStore`: it is
the job service's, the export's, the import's and the accounts overview's parts of the
store, plus what the poller and the screens read and the few writes their keys make.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

from jobs.exporting import ResultsSource
from jobs.importing import JobWriter
from jobs.overview import AccountsSource
from jobs.service import JobStore
from store.records import Event, Job, Message, Reply, WorkerRow


class DashboardStore(JobStore, ResultsSource, JobWriter, AccountsSource, Protocol):
    """The store as the dashboard, its poller and its screens use it."""

    def jobs(self) -> list[Job]: ...

    def page_messages(
        self,
        job_id: int,
        *,
        after_id: int | None = None,
        before_id: int | None = None,
        limit: int = 50,
        status: str | None = None,
        search: str | None = None,
    ) -> list[Message]: ...

    def message(self, message_id: int) -> Message | None: ...

    def latest_worker(self) -> WorkerRow | None: ...

    def events(self, *, limit: int = 50, job_id: int | None = None, after_id: int = 0) -> list[Event]: ...

    def get_doc(self, name: str) -> Any: ...  # a JSON document (the supervisor's state)

    def optout_set(self) -> frozenset[str]: ...

    def outbox_summary(self) -> dict[str, dict[str, Any]]: ...  # webhooks' backlog and dead letters

    def replies(self, job_id: int | None = None, *, phone: str | None = None) -> list[Reply]: ...

    def clear_attention(
        self, account: str | None = None, *, keys: Iterable[str] | None = None, why: str = ""
    ) -> list[str]: ...
