"""Comparing a stored message text with what the page shows.

A bubble is read the way a person copies it (emoji images as their character, line
breaks as "\\n", "Read more" expanded), but WhatsApp also consumes its formatting
markers (*bold*, _italic_, ~strike~, ```mono```), trims the message, and fonts and
renderers add or drop invisible characters. Both sides go through the same
normalisation before they are compared, markers included.
"""

from __future__ import annotations

import re
import unicodedata

_INVISIBLE = dict.fromkeys(
    map(ord, "\u200b\u200c\u200e\u200f\u2060\ufeff\ufe0e\ufe0f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"),
    None,
)
_SPACES = dict.fromkeys(map(ord, "\u00a0\u202f\u2007\u2009\t"), " ")
_MARKERS = dict.fromkeys(map(ord, "*_~`"), None)
_RUNS = re.compile(r" {2,}")


def comparable(text: str | None, *, markers: bool = False) -> str:
    """The comparison form of a text. `markers=True` keeps *_~` (for the compose box,
    where WhatsApp has not formatted anything yet)."""
    t = unicodedata.normalize("NFC", text or "")
    t = t.replace("\r\n", "\n").replace("\r", "\n").translate(_INVISIBLE).translate(_SPACES)
    if not markers:
        t = t.translate(_MARKERS)
    lines = [_RUNS.sub(" ", line).strip() for line in t.split("\n")]
    return "\n".join(lines).strip()


def is_prefix(shown: str | None, full: str) -> bool:
    """Whether a bubble cut behind "Read more" could be the start of `full` (both comparable)."""
    s = comparable(shown)
    return bool(s) and comparable(full).startswith(s)
