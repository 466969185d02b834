"""The jobs table: id, name, status, progress, counts and ETA of every job."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any, cast

from textual import on
from textual.widgets import DataTable

from store.progress import done_fraction
from store.records import Job

from ..fmt import SHORT_STATUS, STATUS_STYLE, compact, duration, one_line
from ..messages import JobSelected
from ..snapshot import Snapshot
from .difftable import Cell, Cells, DiffTable, styled

# "Unk": messages clicked but not proven sent, waiting for a person (v on the row decides).
# "ETA" in blue: some contacts wait for their morning (a job with a window); a clock time
# (bold blue): all of them do, and the first window opens then.
COLUMNS = [
    ("ID", "id", 3),
    ("Name", "name", 10),
    ("Status", "status", 9),
    ("Done", "progress", 4),
    ("Sent", "sent", 6),
    ("Fail", "failed", 4),
    ("Unk", "unknown", 3),
    ("Inv", "invalid", 3),
    ("Pend", "pending", 5),
    ("Rep", "replied", 3),
    ("ETA", "eta", 5),
]


def eta_cell(job: Job, eta: float | None) -> Cell:
    """The ETA; with contacts waiting for their morning (their window closed now), in blue,
    and when every queued one waits, the local time the next window opens instead."""
    waiting = job.get("waiting") or 0
    if not waiting:
        return duration(eta) if eta is not None else "-"
    queued = job["counts"].get("pending", 0) + job["counts"].get("retrying", 0)
    opens = job.get("opens_at")
    if waiting >= queued and opens:
        return styled(time.strftime("%H:%M", time.localtime(opens)), "bold blue")
    return styled(duration(eta) if eta is not None else "-", "blue")


def job_cells(job: Job, eta: float | None) -> Cells:
    """The jobs table's cells for one job (its ETA beside it)."""
    c = job["counts"]
    status = job["status"]
    return (
        str(job["id"]),
        one_line(job["name"] + (f" @{','.join(job['accounts'])}" if job.get("accounts") else ""), 40),
        styled(SHORT_STATUS.get(status, status), STATUS_STYLE.get(status)),
        # A Job reads like a mapping (store.records); done_fraction asks for a Mapping.
        f"{done_fraction(cast(Mapping[str, Any], job)) * 100:3.0f}%",
        compact(c.get("sent", 0)),
        styled(compact(c.get("failed", 0)), "red" if c.get("failed") else None),
        styled(compact(c.get("unknown", 0)), "bold yellow" if c.get("unknown") else None),
        compact(c.get("invalid", 0)),
        compact(c.get("pending", 0) + c.get("retrying", 0)),
        # numbers that replied; red when some opted out, yellow when one needs a look
        styled(
            compact(job.get("replied", 0)), "red" if job.get("optouts") else ("yellow" if job.get("unclear") else None)
        ),
        eta_cell(job, eta),
    )


class JobsTable(DiffTable):
    """Posts JobSelected when the cursor moves to another job."""

    BORDER_TITLE = "Jobs"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(COLUMNS, id="jobs", **kwargs)
        self._last_selected: int | None = None

    def apply(self, snap: Snapshot) -> None:
        rows = [(str(j["id"]), job_cells(j, snap.etas.get(j["id"]))) for j in snap.jobs]
        self.sync(rows)
        n = len(snap.jobs)
        hint = " · no jobs yet: n creates one" if not n else ""
        self.border_title = f"{self.app.title} · {n} job{'s' if n != 1 else ''}{hint}"
        self._announce()

    def select_job(self, job_id: int) -> None:
        key = str(job_id)
        if key in self.keys:
            self.move_cursor(row=self.keys.index(key), animate=False)
            self._announce()

    def selected_job_id(self) -> int | None:
        key = self.selected_key()
        return int(key) if key is not None else None

    def _announce(self) -> None:
        job_id = self.selected_job_id()
        if job_id != self._last_selected:
            self._last_selected = job_id
            self.post_message(JobSelected(job_id))

    @on(DataTable.RowHighlighted)
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self._announce()
