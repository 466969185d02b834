"""Turning a contact file and a template into a job, for the CLI, the dashboard and the
HTTP API alike: the options are checked here once (template, attachment, start time, job
name, sending window and time zone), then the import plan (contacts) becomes a job
(store) in one transaction.

Local hours: with a window, each contact is sent to only while the window is open in
their own time zone(s), which their number gives (phonenumbers). A number without a zone
of its own, or whose zones never share the window at once (a toll-free +1 800 number
spans Guam to Newfoundland), gets the job's zone; the import report says how many.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from common import localhours, safefiles
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
        window: localhours.Window | None = None,
        timezone: str | None = None,
        zone_sets: Iterable[tuple[str, ...]] = (),
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


def parse_window(value: str | None, what: str = "--window") -> localhours.Window | None:
    """ "09:00-20:00": each contact's local hours (None or "": any time). An overnight
    window (20:00-09:00) is refused: it would send at night."""
    if value is None or not value.strip():
        return None
    try:
        return localhours.parse_window(value, what)
    except localhours.LocalHoursError as exc:
        raise ImportOptionError(str(exc)) from None


def check_timezone(value: str | None, what: str = "--timezone") -> str:
    """An IANA zone name (the job's zone: numbers without one of their own are in it);
    none given: this machine's zone."""
    if value is None or not value.strip():
        return localhours.local_zone_name()
    try:
        return localhours.check_zone(value, what)
    except localhours.LocalHoursError as exc:
        raise ImportOptionError(str(exc)) from None


@dataclass(frozen=True)
class LocalHours:
    """A job's local hours as the import resolves them from its plan: the window, the
    job's zone, the contacts' zone sets (furthest east first: their evening comes first),
    and the numbers that get the job's zone."""

    window: localhours.Window | None
    timezone: str
    zone_sets: tuple[tuple[str, ...], ...] = ()
    no_zone: int = 0  # numbers without a zone of their own
    apart: int = 0  # numbers whose zones never share the window at once
    replaced: dict[tuple[str, ...], tuple[str, ...]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "window": str(self.window) if self.window else None,
            "timezone": self.timezone,
            "zones": len(self.zone_sets),
            "no_zone": self.no_zone,
            "zones_apart": self.apart,
        }

    def lines(self) -> list[str]:
        """What the import report says (nothing without a window: the zones decide nothing)."""
        if self.window is None:
            return []
        out = [f"window      {self.window} in each contact's local time, {len(self.zone_sets)} zone set(s)"]
        if self.no_zone:
            out.append(f"no zone     {self.no_zone} number(s) have no zone of their own: {self.timezone}'s hours")
        if self.apart:
            out.append(
                f"zones apart {self.apart} number(s) span zones that are never all within {self.window} "
                f"at once (e.g. toll-free): {self.timezone}'s hours"
            )
        return out


def local_hours(
    plan: ImportPlan, window: localhours.Window | None, timezone: str, *, now: float | None = None
) -> LocalHours:
    """Resolve the plan's zones for a job: which sets there are, which numbers get the
    job's zone (none of their own; or, with a window, zones never all open at once)."""
    now = now or time.time()
    own = (timezone,)
    counts: dict[tuple[str, ...], int] = {}
    for m in plan.messages:
        zs = m.get("zones") or ()
        counts[zs] = counts.get(zs, 0) + 1
    usable: dict[tuple[str, ...], tuple[str, ...]] = {zs: localhours.usable_zones(zs) for zs in counts}
    no_zone = sum(n for zs, n in counts.items() if not usable[zs])
    replaced: dict[tuple[str, ...], tuple[str, ...]] = {}
    apart = 0
    if window is not None:
        for zs, real in usable.items():
            if len(real) > 1 and localhours.next_open(real, window, now) is None:
                replaced[zs] = own
                apart += counts[zs]
    sets = {replaced.get(zs) or real or own for zs, real in usable.items()}
    return LocalHours(
        window=window,
        timezone=timezone,
        zone_sets=tuple(localhours.order_east_first(sets, now)),
        no_zone=no_zone,
        apart=apart,
        replaced=replaced,
    )


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


def job_messages(plan: ImportPlan, hours: LocalHours | None = None) -> Iterator[Mapping[str, object]]:
    """The plan's queued messages as they are (store.create_job reads phone, name, columns,
    text and zones and ignores the rest; zones that never share the window become the
    job's), then its opted-out rows as `skipped`, for the record."""
    replaced = hours.replaced if hours is not None else {}
    if replaced:
        for m in plan.messages:
            zs = replaced.get(m["zones"])
            yield m if zs is None else {**m, "zones": zs}
    else:
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
    hours: LocalHours | None = None,
) -> int:
    """Create the job and all its messages in one transaction. `accounts`: the accounts
    that may send it (none: any). `hours`: its window and zones (`local_hours`; none: any
    time, this machine's zone)."""
    att = str(Path(attachment).resolve()) if attachment else None
    if hours is None:
        hours = local_hours(plan, None, localhours.local_zone_name())
    return store.create_job(
        name,
        template,
        job_messages(plan, hours),
        attachment=att,
        source_file=str(source_file) if source_file else None,
        start_at=start_at,
        accounts=accounts,
        window=hours.window,
        timezone=hours.timezone,
        zone_sets=hours.zone_sets,
    )
