"""Turning an import plan (contacts) into a job (store): shared by the CLI and the dashboard."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

from store import Store


def job_messages(plan: Any) -> Iterator[dict[str, Any]]:
    """The plan's queued messages as they are (store.create_job reads phone, name, columns
    and text and ignores the rest), then its opted-out rows as `skipped`, for the record."""
    yield from plan.messages
    seen = {m["phone"] for m in plan.messages}
    for problem in plan.opted_out:
        phone = getattr(problem, "phone", None)
        if phone and phone not in seen:
            seen.add(phone)
            yield {"phone": phone, "name": getattr(problem, "name", "") or "", "columns": None,
                   "text": getattr(problem, "text", "") or "", "status": "skipped"}


def create_job_from_plan(store: Store, plan: Any, *, name: str, template: str,
                         attachment: str | Path | None = None, start_at: float | None = None,
                         source_file: str | Path | None = None, accounts: list[str] | tuple[str, ...] = ()) -> int:
    """Create the job and all its messages in one transaction. `accounts`: the accounts
    that may send it (none: any)."""
    att = str(Path(attachment).resolve()) if attachment else None
    return store.create_job(
        name, template, job_messages(plan), attachment=att,
        source_file=str(source_file) if source_file else None, start_at=start_at, accounts=accounts,
    )
