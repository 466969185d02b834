"""Exporting a job's results to CSV that is safe to open in a spreadsheet."""
from __future__ import annotations

import csv
import os
import tempfile
from datetime import datetime
from pathlib import Path

from store import Store

COLUMNS = ("phone", "name", "status", "attempts", "sent_at", "error", "review")
# A cell starting with one of these is run as a formula by Excel and LibreOffice
# (CSV injection); a leading apostrophe makes it plain text.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _when(ts: float | None) -> str:
    return datetime.fromtimestamp(ts).astimezone().isoformat(timespec="seconds") if ts else ""


def export_job_csv(store: Store, job_id: int, path: str | Path) -> int:
    """Write the job's messages to `path` atomically; returns the number of rows written."""
    target = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=".export-", suffix=".csv", dir=target.parent or ".")
    count = 0
    try:
        with os.fdopen(fd, "w", newline="", encoding="utf-8-sig") as fh:
            writer = csv.writer(fh)
            writer.writerow(COLUMNS)
            for m in store.iter_messages(job_id):
                writer.writerow([safe_cell(v) for v in (
                    m["phone"], m["name"], m["status"], m["attempts"], _when(m["sent_at"]), m["last_error"],
                    # `unknown`: why nothing proved whether it was sent (python tui.py review)
                    m["review"] if m["status"] == "unknown" else "")])
                count += 1
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return count
