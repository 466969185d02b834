"""Lanes: where the claim finds a queued message, and which lanes are open now.

A queued message's lane is one integer: its job, the slot of an account that knows the
contact (0: nobody), and, for a job with a sending window, the contact's zone set:

    lane = job_id * 2^32 + slot * 2^16 + zone set

The queue index is (lane, id) over queued messages only. A claim names the lanes open to
the claiming account now — its own known contacts' lanes first, then the new contacts'
(slot 0, and the slots of accounts that cannot send now) — each only in the zone sets
whose window is open now, computed here in Python from the job's window and zones. The
database then does one ordered range scan: lanes sort jobs oldest first, and within a
lane messages are in import order. Offsets that change (DST) need no refresh: which zone
sets are open is decided at each claim from the zone names, never stored.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from common import localhours

from .schema import LANE_JOB, LANE_SLOT

MAX_SLOT = LANE_SLOT - 1
MAX_TZ = LANE_SLOT - 1


def lane(job_id: int, slot: int, tz: int) -> int:
    return job_id * LANE_JOB + slot * LANE_SLOT + tz


def slot_of(value: int) -> int:
    return (value // LANE_SLOT) % LANE_SLOT


@dataclass(frozen=True)
class JobHours:
    """A job's local hours: its window (None: any time) and its zone sets by number."""

    job_id: int
    window: localhours.Window | None
    zone_sets: Mapping[int, tuple[str, ...]]

    @classmethod
    def of(cls, job_id: int, start: int | None, end: int | None, zone_sets: Mapping[int, tuple[str, ...]]) -> JobHours:
        window = localhours.Window(start, end) if start is not None and end is not None else None
        return cls(job_id, window, zone_sets)


class OpenZones:
    """Which zone sets of a job are open, and when closed ones open, cached per minute:
    a window is written in whole minutes and zone offsets are whole minutes, so nothing
    changes within one."""

    def __init__(self) -> None:
        self._open: dict[tuple[int, int], tuple[int, ...]] = {}
        self._next: dict[tuple[int, int, int], float | None] = {}

    def open_tz(self, hours: JobHours, now: float) -> tuple[int, ...]:
        """The lane zone parts to claim from: (0,) for a job without a window."""
        if hours.window is None:
            return (0,)
        key = (hours.job_id, int(now // 60))
        found = self._open.get(key)
        if found is None:
            if len(self._open) > 4096:
                self._open.clear()
            window = hours.window
            found = tuple(t for t, zones in sorted(hours.zone_sets.items()) if localhours.is_open(zones, window, now))
            self._open[key] = found
        return found

    def next_open(self, hours: JobHours, tz: int, now: float) -> float | None:
        """When zone set `tz` of the job next opens (now if open; None: not within a week)."""
        if hours.window is None:
            return now
        key = (hours.job_id, tz, int(now // 60))
        if key not in self._next:
            if len(self._next) > 4096:
                self._next.clear()
            zones = hours.zone_sets.get(tz, ())
            self._next[key] = localhours.next_open(zones, hours.window, now) if zones else now
        return self._next[key]


def claim_lanes(jobs: Iterable[JobHours], open_zones: OpenZones, slots: Iterable[int], now: float) -> list[int]:
    """Every open lane of `jobs` for contacts known to the accounts of `slots`, sorted."""
    slots = sorted(set(slots))
    out = [
        job.job_id * LANE_JOB + slot * LANE_SLOT + tz
        for job in jobs
        for tz in open_zones.open_tz(job, now)
        for slot in slots
    ]
    out.sort()
    return out


class LaneLists:
    """The claim's lane lists as the statement's parameter, kept for the minute they hold
    (the same running jobs, slots and minute give the same lanes): a claim builds its
    lists once a minute, not each time."""

    def __init__(self, open_zones: OpenZones, as_param: Callable[[list[int]], Any]) -> None:
        self.open_zones = open_zones
        self.as_param = as_param
        self._lists: dict[tuple[tuple[int, ...], tuple[int, ...], int], tuple[bool, Any]] = {}

    def get(self, jobs: list[JobHours], slots: tuple[int, ...], now: float) -> tuple[bool, Any]:
        """(any lane at all, the parameter)."""
        key = (tuple(j.job_id for j in jobs), slots, int(now // 60))
        found = self._lists.get(key)
        if found is None:
            if len(self._lists) > 256:
                self._lists.clear()
            lanes = claim_lanes(jobs, self.open_zones, slots, now)
            found = self._lists[key] = (bool(lanes), self.as_param(lanes))
        return found
