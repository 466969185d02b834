"""Each contact's local hours: a job's sending window ("09:00-20:00"), time zones by
their IANA names, and when a window is open in a set of zones.

A contact's zones come from their number (phonenumbers); a number that spans several
zones is sent to only while the window is open in every one of them. Pure functions
over the standard library's `zoneinfo` (the system's tz database); imports nothing of
the product. The store uses them at each claim (which zone sets are open now), the
import to check its options, the CLI, the API and the dashboard to say when the next
contact's morning comes.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

DAY_MINUTES = 24 * 60
# How far ahead `next_open` looks: a week and a day covers every weekday and a DST change.
HORIZON_DAYS = 8
_WINDOW = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")
_ZONE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_+\-]*(/[A-Za-z0-9_+\-]+)*$")


class LocalHoursError(ValueError):
    """A window or a time zone written wrong: the message is one line for people."""

    user_error = True


@dataclass(frozen=True)
class Window:
    """Local hours [start, end) in minutes of the day; start < end (no overnight window)."""

    start: int
    end: int

    def __post_init__(self) -> None:
        if not 0 <= self.start < self.end <= DAY_MINUTES:
            raise LocalHoursError(f"a window runs from 00:00 to 24:00 and ends after it starts, not {self}")

    def __str__(self) -> str:
        return f"{_hhmm(self.start)}-{_hhmm(self.end)}"

    @property
    def all_day(self) -> bool:
        return self.start == 0 and self.end == DAY_MINUTES

    def holds(self, minute: int) -> bool:
        return self.start <= minute < self.end


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def parse_window(text: str, what: str = "--window") -> Window:
    """ "09:00-20:00" as a Window. A window that ends at or before it starts (an overnight
    one such as 20:00-09:00) is refused: a contact's night is what a window keeps free."""
    m = _WINDOW.match(text or "")
    if not m:
        raise LocalHoursError(f"{what}: {str(text)[:40]!r} is not a window written HH:MM-HH:MM, e.g. 09:00-20:00")
    h1, m1, h2, m2 = (int(g) for g in m.groups())
    if h1 > 23 or m1 > 59 or h2 > 24 or m2 > 59 or (h2 == 24 and m2):
        raise LocalHoursError(f"{what}: {text.strip()!r} holds a time that does not exist (00:00 to 24:00)")
    start, end = h1 * 60 + m1, h2 * 60 + m2
    if end <= start:
        raise LocalHoursError(
            f"{what}: {text.strip()!r} ends before it starts: a window runs within one day "
            "(overnight windows are refused: they would send at night)"
        )
    return Window(start, end)


@functools.lru_cache(maxsize=1)
def _known_names() -> frozenset[str]:
    return frozenset(available_timezones())


@functools.lru_cache(maxsize=2048)
def zone(name: str) -> ZoneInfo | None:
    """The zone of an IANA name, or None when the system's tz database lacks it."""
    if not _ZONE_NAME.match(name or ""):
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return None


def check_zone(name: str, what: str = "--timezone") -> str:
    """An IANA time zone name the system knows ("America/Sao_Paulo"), as given."""
    name = (name or "").strip()
    if not name or name not in _known_names() or zone(name) is None:
        raise LocalHoursError(
            f"{what}: {name[:60]!r} is not an IANA time zone name such as America/Sao_Paulo or Asia/Kolkata"
        )
    return name


def local_zone_name() -> str:
    """This machine's zone as an IANA name: $TZ, else where /etc/localtime points, else
    /etc/timezone, else UTC."""
    tz = os.environ.get("TZ", "").lstrip(":")
    if tz and zone(tz) is not None and tz in _known_names():
        return tz
    try:
        target = os.path.realpath("/etc/localtime")
        if "/zoneinfo/" in target:
            name = target.split("/zoneinfo/", 1)[1]
            if zone(name) is not None:
                return name
    except OSError:
        pass
    try:
        name = Path("/etc/timezone").read_text(encoding="utf-8").strip()
        if zone(name) is not None:
            return name
    except OSError:
        pass
    return "UTC"


def usable_zones(names: Iterable[str]) -> tuple[str, ...]:
    """The names among `names` that are real zones of this system (phonenumbers says
    "Etc/Unknown" for a number with no zone), sorted, without repeats."""
    return tuple(sorted({n for n in names if zone(n) is not None}))


def minute_of_day(name: str, now: float) -> int:
    z = zone(name)
    local = dt.datetime.fromtimestamp(now, z if z is not None else dt.UTC)
    return local.hour * 60 + local.minute


def is_open(zones: Sequence[str], window: Window, now: float) -> bool:
    """The window is open now in every one of `zones`."""
    return all(window.holds(minute_of_day(z, now)) for z in zones)


def utc_offset_minutes(name: str, now: float) -> int:
    z = zone(name)
    off = dt.datetime.fromtimestamp(now, z if z is not None else dt.UTC).utcoffset()
    return int(off.total_seconds() // 60) if off is not None else 0


def next_open(zones: Sequence[str], window: Window, now: float, *, horizon_days: int = HORIZON_DAYS) -> float | None:
    """The first instant at or after `now` at which the window is open in every zone
    (None: not within `horizon_days`: the zones are too far apart for the window)."""
    if not zones or is_open(zones, window, now):
        return now
    candidates: set[float] = set()
    for name in zones:
        z = zone(name) or dt.UTC
        today = dt.datetime.fromtimestamp(now, z).date()
        for d in range(-1, horizon_days + 1):
            day = today + dt.timedelta(days=d)
            start = dt.datetime(day.year, day.month, day.day, window.start // 60, window.start % 60, tzinfo=z)
            t = start.timestamp()
            if now < t <= now + horizon_days * 86400:
                candidates.add(t)
    for t in sorted(candidates):
        if is_open(zones, window, t):
            return t
    return None


def order_east_first(zone_sets: Iterable[tuple[str, ...]], now: float) -> list[tuple[str, ...]]:
    """Zone sets in the order their day ends: furthest east (largest UTC offset) first, so
    that among contacts whose window is open, those whose evening comes first go first."""
    return sorted(set(zone_sets), key=lambda zs: (-max((utc_offset_minutes(z, now) for z in zs), default=0), zs))
