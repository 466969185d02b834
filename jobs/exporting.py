"""Exporting a job's results to CSV that is safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import IO, Protocol

from common import safefiles
from store.records import Job, Message, Reply

COLUMNS = (
    "phone",
    "name",
    "status",
    "attempts",
    "sent_at",
    "error",
    "review",
    "replies",
    "last_reply",
    "last_reply_at",
    "opted_out_by_reply",
)
# A job with a sending window adds the contact's time zone(s) (space-separated; the job's
# for a number without one of its own): where the window was read.
ZONE_COLUMN = "zone"


class ResultsSource(Protocol):
    """What an export reads of the store (a `Store`, or the dashboard's `ReadMostlyStore`)."""

    def replies(self, job_id: int | None = None) -> list[Reply]: ...

    def iter_messages(self, job_id: int) -> Iterator[Message]: ...

    def get_job(self, job_id: int) -> Job | None: ...

    def job_zones(self, job_id: int) -> dict[int, tuple[str, ...]]: ...


# A cell starting with one of these is run as a formula by Excel and LibreOffice
# (CSV injection); a leading apostrophe makes it plain text.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _when(ts: float | None) -> str:
    return datetime.fromtimestamp(ts).astimezone().isoformat(timespec="seconds") if ts else ""


def export_job_csv(store: ResultsSource, job_id: int, path: str | Path) -> int:
    """Write the job's messages to `path` whole (owner-only; never over a folder, a device
    or a link); returns the number of rows written."""
    count = 0
    job = store.get_job(job_id)
    zones = store.job_zones(job_id) if job is not None and job.window else None

    def write(fh: IO[bytes]) -> None:
        """Write the job's rows as CSV: one line per message, formula-safe cells."""
        nonlocal count
        text = io.TextIOWrapper(fh, encoding="utf-8-sig", newline="", write_through=True)
        writer = csv.writer(text)
        writer.writerow(COLUMNS if zones is None else (*COLUMNS, ZONE_COLUMN))
        replies: dict[str, list[Reply]] = {}
        for r in store.replies(job_id):  # few (people who answered): all in memory
            replies.setdefault(r.phone, []).append(r)
        for m in store.iter_messages(job_id):
            theirs = replies.get(m["phone"], [])
            last = theirs[-1] if theirs else None
            zone = () if zones is None else (" ".join(zones.get(m.tz or 0, ())),)
            writer.writerow(
                [
                    safe_cell(v)
                    for v in (
                        m["phone"],
                        m["name"],
                        m["status"],
                        m["attempts"],
                        _when(m["sent_at"]),
                        m["last_error"],
                        # `unknown`: why nothing proved whether it was sent (python tui.py review)
                        m["review"] if m["status"] == "unknown" else "",
                        len(theirs),
                        last.text if last else "",
                        _when((last.at or last.read_at) if last else None),
                        "yes" if any(r.flag == "optout" for r in theirs) else "",
                        *zone,
                    )
                ]
            )
            count += 1
        text.flush()
        text.detach()

    safefiles.write_atomic(path, write, what="export")
    return count
