"""Turning a contact file and a template into a job, for the CLI, the dashboard and the
HTTP API alike: the options are checked here once (template, attachment, start time, job
name), then the import plan (contacts) becomes a job (store) in one transaction.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from common import safefiles
from common.errors import UserError, one_line

if TYPE_CHECKING:
    from contacts.plan import ImportPlan

MAX_TEMPLATE_BYTES = 64 * 1024
MAX_ATTACHMENT_BYTES = 2 * 1024**3  # WhatsApp's limit for a document
MAX_NAME = 200
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


class ImportOptionError(UserError):
    """A bad import option (template, attachment, start time, name): one line."""


class JobWriter(Protocol):
    """What creating a job uses of the store (a `Store`, or the dashboard's `ReadMostlyStore`)."""

    def create_job(
        self,
        name: str,
        template: str,
        messages: Iterable[Mapping[str, object]],
        *,
        attachment: str | None = None,
        source_file: str | None = None,
        start_at: float | None = None,
        accounts: Iterable[str] = (),
    ) -> int: ...


def check_template(template: str, what: str = "--template") -> str:
    if len(template.encode("utf-8", "replace")) > MAX_TEMPLATE_BYTES:
        raise ImportOptionError(
            f"{what}: too long ({len(template):,} characters; at most {MAX_TEMPLATE_BYTES:,} bytes)"
        )
    if not template.strip():
        raise ImportOptionError("the template is empty")
    return template


def read_template_file(path: str | Path) -> str:
    p = safefiles.regular_file(path, "template file", max_bytes=MAX_TEMPLATE_BYTES)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ImportOptionError(f"{path}: cannot read template: {exc}") from None
    return check_template(text, str(path))


def check_attachment(path: str | Path) -> Path:
    """A regular file this user can read, within WhatsApp's size limit."""
    return safefiles.regular_file(path, "attachment", max_bytes=MAX_ATTACHMENT_BYTES)


def parse_start(value: str | None, what: str = "--start-at") -> float | None:
    """A local date and time (ISO 8601, e.g. 2026-12-01T09:30) as epoch seconds."""
    if not value:
        return None
    try:
        when = datetime.fromisoformat(value)
        if not 1970 <= when.year <= 9999:
            raise ValueError(when.year)
        return when.astimezone().timestamp() if when.tzinfo is None else when.timestamp()
    except (ValueError, OverflowError, OSError):
        raise ImportOptionError(
            f"{what}: {one_line(value, 40)!r} is not a date and time between 1970 and 9999 like 2026-12-01T09:30"
        ) from None


def check_name(name: str, what: str = "--name") -> str:
    """A job name on one line (it is shown in tables)."""
    if _CONTROL.search(name):
        raise ImportOptionError(f"{what}: a job name is one line: no tabs, line breaks or control characters")
    name = name.strip()
    if not name:
        raise ImportOptionError(f"{what}: the job name is empty")
    if len(name) > MAX_NAME:
        raise ImportOptionError(f"{what}: too long ({len(name)} characters; at most {MAX_NAME})")
    return name


def default_name(source: str | Path) -> str:
    """The job name a file gives (its stem, made one line)."""
    return _CONTROL.sub(" ", Path(source).stem).strip()[:MAX_NAME] or time.strftime("job %Y-%m-%d %H:%M")


def job_messages(plan: ImportPlan) -> Iterator[Mapping[str, object]]:
    """The plan's queued messages as they are (store.create_job reads phone, name, columns
    and text and ignores the rest), then its opted-out rows as `skipped`, for the record."""
    yield from plan.messages
    seen = {m["phone"] for m in plan.messages}
    for problem in plan.opted_out:
        phone = problem.phone
        if phone and phone not in seen:
            seen.add(phone)
            yield {
                "phone": phone,
                "name": problem.name or "",
                "columns": None,
                "text": "",  # an opted-out row has no text: it is never sent
                "status": "skipped",
            }


def create_job_from_plan(
    store: JobWriter,
    plan: ImportPlan,
    *,
    name: str,
    template: str,
    attachment: str | Path | None = None,
    start_at: float | None = None,
    source_file: str | Path | None = None,
    accounts: list[str] | tuple[str, ...] = (),
) -> int:
    """Create the job and all its messages in one transaction. `accounts`: the accounts
    that may send it (none: any)."""
    att = str(Path(attachment).resolve()) if attachment else None
    return store.create_job(
        name,
        template,
        job_messages(plan),
        attachment=att,
        source_file=str(source_file) if source_file else None,
        start_at=start_at,
        accounts=accounts,
    )
