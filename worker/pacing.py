"""Pacing rules (pure functions of the config and the local time): window, daily cap, delays."""

from __future__ import annotations

import random
import time


def _minutes(hhmm: str) -> int:
    h, m = hhmm.split(":")
    return int(h) * 60 + int(m)


def in_window(start: str, end: str, lt: time.struct_time) -> bool:
    """Whether local time `lt` is inside [start, end). Equal bounds mean all day;
    start > end spans midnight (e.g. 22:00-06:00)."""
    s, e = _minutes(start), _minutes(end)
    if s == e:
        return True
    now = lt.tm_hour * 60 + lt.tm_min
    if s < e:
        return s <= now < e
    return now >= s or now < e


def local_midnight(lt: time.struct_time) -> float:
    """Epoch seconds of the local midnight starting the day of `lt`."""
    return time.mktime((lt.tm_year, lt.tm_mon, lt.tm_mday, 0, 0, 0, 0, 0, -1))


def next_window_start(start: str, lt: time.struct_time) -> float:
    """Epoch seconds of the next time the window opens (today or tomorrow)."""
    s = _minutes(start)
    base = local_midnight(lt)
    t = time.mktime((lt.tm_year, lt.tm_mon, lt.tm_mday, s // 60, s % 60, 0, 0, 0, -1))
    if t <= time.mktime(lt):
        t = time.mktime((lt.tm_year, lt.tm_mon, lt.tm_mday + 1, s // 60, s % 60, 0, 0, 0, -1))
    return max(t, base)


def next_midnight(lt: time.struct_time) -> float:
    return time.mktime((lt.tm_year, lt.tm_mon, lt.tm_mday + 1, 0, 0, 0, 0, 0, -1))


def delay_after(
    sent_this_run: int,
    *,
    delay_min: float,
    delay_max: float,
    long_pause_every: int,
    long_pause_min: float,
    long_pause_max: float,
    rng: random.Random | None = None,
) -> float:
    """Seconds to wait after the `sent_this_run`-th message of this run."""
    r = rng or random
    delay = r.uniform(delay_min, delay_max)
    if long_pause_every > 0 and sent_this_run > 0 and sent_this_run % long_pause_every == 0:
        delay += r.uniform(long_pause_min, long_pause_max)
    return delay
