"""Turning an import plan (contacts) into a job (store): shared by the CLI and the dashboard."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from store import Store


def job_messages(plan: Any, attachment: str | None = None) -> list[dict[str, Any]]:
    """The plan's queued messages, plus its opted-out rows stored as `skipped` for the record."""
    rows: list[dict[str, Any]] = [
        {"phone": m["phone"], "name": m.get("name") or "", "columns": m.get("columns"),
         "text": m["text"], "attachment": attachment}
        for m in plan.messages
    ]
    seen = {r["phone"] for r in rows}
    for problem in plan.opted_out:
        phone = getattr(problem, "phone", None)
        if phone and phone not in seen:
            seen.add(phone)
            rows.append({"phone": phone, "name": getattr(problem, "name", "") or "", "columns": None,
                         "text": getattr(problem, "text", "") or "", "status": "skipped",
                         "attachment": attachment})
    return rows


def create_job_from_plan(store: Store, plan: Any, *, name: str, template: str,
                         attachment: str | Path | None = None, start_at: float | None = None,
                         source_file: str | Path | None = None) -> int:
    """Create the job and all its messages in one transaction."""
    att = str(Path(attachment).resolve()) if attachment else None
    return store.create_job(
        name, template, job_messages(plan, att), attachment=att,
        source_file=str(source_file) if source_file else None, start_at=start_at,
    )
