"""The time of a bubble, read from its `data-pre-plain-text` ("[2:05 PM, 11/30/2026] You: ").

WhatsApp Web writes it in the UI language: 12- or 24-hour, AM/PM in several spellings
(before or after the time), day/month order by language, `/ . -` between the parts,
with or without seconds. A time that cannot be read for sure is None: the caller must
then treat the bubble as undetermined, never as "older" or "absent".
"""

from __future__ import annotations

import re
import time
import unicodedata

# Marks Chrome/ICU put around times and in right-to-left languages.
_INVISIBLE = dict.fromkeys(
    map(ord, "\u200e\u200f\u200b\u200c\u200d\u2060\ufeff\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"), None
)
_SPACES = dict.fromkeys(map(ord, "\u00a0\u202f\u2007\u2009"), " ")

_AM = {"am", "a.m.", "a. m.", "a.m", "vorm.", "vorm", "午前", "오전", "上午", "ص", "π.μ.", "πμ"}
_PM = {"pm", "p.m.", "p. m.", "p.m", "nachm.", "nachm", "午後", "오후", "下午", "م", "μ.μ.", "μμ"}
_MARK = "|".join(sorted((re.escape(m) for m in _AM | _PM), key=len, reverse=True))

_BRACKET = re.compile(r"\[([^\]]*)\]")
_CLOCK = re.compile(
    rf"^(?:(?P<pre>{_MARK})\s*)?(?P<h>\d{{1,2}})[:.](?P<m>\d{{2}})(?:[:.](?P<s>\d{{2}}))?"
    rf"(?:\s*(?P<post>{_MARK}))?$",
    re.IGNORECASE,
)
_DATE = re.compile(r"^(?P<a>\d{1,4})[/.\-](?P<b>\d{1,2})[/.\-](?P<c>\d{1,4})\.?$")


def _clean(text: str) -> str:
    return unicodedata.normalize("NFKC", text.translate(_INVISIBLE).translate(_SPACES)).strip()


def _clock(part: str) -> tuple[int, int, int] | None:
    m = _CLOCK.match(part.strip())
    if not m:
        return None
    hour, minute, second = int(m["h"]), int(m["m"]), int(m["s"] or 0)
    marker = (m["pre"] or m["post"] or "").lower()
    if marker:
        if not 1 <= hour <= 12:
            return None
        if marker in _PM and hour != 12:
            hour += 12
        elif marker in _AM and hour == 12:
            hour = 0
    if hour > 23 or minute > 59 or second > 59:
        return None
    return hour, minute, second


def _date(part: str, order: str) -> tuple[int, int, int] | None:
    m = _DATE.match(part.strip())
    if not m:
        return None
    a, b, c = m["a"], m["b"], m["c"]
    if len(a) == 4:  # 2026-11-30 / 2026/11/30: year first everywhere
        year, month, day = int(a), int(b), int(c)
    else:
        year = int(c) + (2000 if len(c) == 2 else 0)
        if len(c) not in (2, 4):
            return None
        month, day = (int(a), int(b)) if order == "MDY" else (int(b), int(a))
    if not (1 <= month <= 12 and 1 <= day <= 31 and 2000 <= year <= 2100):
        return None
    return year, month, day


def parse_pre_plain(pre: str | None, date_order: str = "MDY") -> float | None:
    """Epoch seconds (local time) of a bubble's meta string, or None when not readable for sure.

    `date_order` is "MDY" or "DMY", the order of the configured UI language."""
    if not pre:
        return None
    m = _BRACKET.search(_clean(pre))
    if not m:
        return None
    parts = [p.strip() for p in m.group(1).split(",")]
    if len(parts) != 2:
        return None
    clock, date = _clock(parts[0]), _date(parts[1], date_order)
    if clock is None or date is None:  # some locales write the date first
        clock, date = _clock(parts[1]), _date(parts[0], date_order)
    if clock is None or date is None:
        return None
    year, month, day = date
    hour, minute, second = clock
    try:
        ts = time.mktime((year, month, day, hour, minute, second, 0, 0, -1))
    except (OverflowError, ValueError):
        return None
    # mktime normalises 31/2 into March: a date that does not exist is not readable.
    lt = time.localtime(ts)
    if (lt.tm_year, lt.tm_mon, lt.tm_mday) != (year, month, day):
        return None
    return ts


def floor_minute(ts: float) -> float:
    lt = time.localtime(ts)
    return time.mktime((lt.tm_year, lt.tm_mon, lt.tm_mday, lt.tm_hour, lt.tm_min, 0, 0, 0, -1))
