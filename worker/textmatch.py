"""Comparing a stored message text with what the page shows.

A bubble is read the way a person copies it (emoji images as their character, line
breaks as "\\n", "Read more" expanded), but WhatsApp also consumes its formatting
markers (*bold*, _italic_, ~strike~, ```mono```), trims the message, and fonts and
renderers add or drop invisible characters. Both sides go through the same
normalisation before they are compared, markers included.

Lists and quotes ("- ", "1. ", "> " at the start of a line, WhatsApp's formats since 2024)
lose their marks the same way: a bubble may draw them as list items.

WhatsApp Web also turns some emoticons into emoji as they are typed ("<3" into a red
heart, ":-)" into a smile; which ones has changed over the years), in the compose box and
so in the bubble. `same` lets an emoticon of the message stand as itself or as any one
emoji, and nothing else: the text a person typed, as WhatsApp rewrites it for everyone.
"""

from __future__ import annotations

import functools
import re
import unicodedata

_INVISIBLE = dict.fromkeys(
    map(ord, "\u200b\u200c\u200e\u200f\u2060\ufeff\ufe0e\ufe0f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"),
    None,
)
_SPACES = dict.fromkeys(map(ord, "\u00a0\u202f\u2007\u2009\t"), " ")
_MARKERS = dict.fromkeys(map(ord, "*_~`"), None)
_RUNS = re.compile(r" {2,}")
# WhatsApp's line formats (2024): "- " or "* " a bulleted list, "1. " (one or two digits)
# a numbered one, "> " a quote. A page may draw them as list and quote elements without the
# marks, or with a bullet of its own: the marks are left out on both sides.
_LINE_MARK = re.compile(r"^(?:[-*\u2022]|\d{1,2}\.|>) +")
# Emoticons WhatsApp Web replaces or has replaced, and their common neighbours: tolerated,
# never required (a page that leaves them alone matches too). Longest first.
_EMOTICON_LIST = sorted(
    {
        ":-)", ":)", ":-(", ":(", ";-)", ";)", ":-D", ":D", ":-P", ":P", ":-p", ":p",
        ":-O", ":O", ":-o", ":o", ":-*", ":*", ":-|", ":|", ":-/", ":/", ":'(", ":')",
        "8-)", "B-)", "B)", "XD", "xD", ">:(", ">:)", "O:)", "o:)", "<3", "</3",
        "(y)", "(Y)", "(n)", "(N)", "^_^", "-_-",
    },
    key=lambda e: (-len(e), e),
)  # fmt: skip
_EMOTICONS = re.compile("(" + "|".join(map(re.escape, _EMOTICON_LIST)) + ")")
# One emoji as the page reads it back (variation selectors already dropped): a pictograph,
# an optional skin tone, and what a zero-width joiner adds to it.
_PICTO = "[\u00a9\u00ae\u203c\u2049\u2122\u2139\u2190-\u2bff\u3030\u303d\u3297\u3299\U0001f000-\U0001faff]"
_EMOJI = re.compile(f"{_PICTO}[\U0001f3fb-\U0001f3ff]?(?:\u200d{_PICTO}[\U0001f3fb-\U0001f3ff]?)*")


def comparable(text: str | None, *, markers: bool = False) -> str:
    """The comparison form of a text. `markers=True` keeps *_~` (for the compose box,
    where WhatsApp has not formatted anything yet)."""
    t = unicodedata.normalize("NFC", text or "")
    t = t.replace("\r\n", "\n").replace("\r", "\n").translate(_INVISIBLE).translate(_SPACES)
    if not markers:
        t = t.translate(_MARKERS)
    lines = [_LINE_MARK.sub("", _RUNS.sub(" ", line).strip()) for line in t.split("\n")]
    return "\n".join(lines).strip()


def same(got: str | None, text: str, *, markers: bool = False) -> bool:
    """Whether the page's `got` is the message `text` (see the module's docstring)."""
    g = comparable(got, markers=markers)
    return g == comparable(text, markers=markers) or _matches(g, _parts(text, markers), prefix=False)


def is_prefix(shown: str | None, full: str) -> bool:
    """Whether a text cut short (a bubble behind "Read more", a chat list preview) could be
    the start of `full`, emoticons standing as emoji as in `same`."""
    s = comparable(shown)
    return bool(s) and (comparable(full).startswith(s) or _matches(s, _parts(full, False), prefix=True))


@functools.lru_cache(maxsize=64)
def _parts(text: str, markers: bool) -> tuple[tuple[bool, str], ...]:
    """`text` (comparable) cut into (is an emoticon, its text) pieces; () without emoticons."""
    pieces = _EMOTICONS.split(comparable(text, markers=True))
    if len(pieces) == 1:
        return ()
    # Emoticons are found with the markers still there (":-*"); the rest loses them unless kept.
    return tuple((bool(i % 2), p if markers else p.translate(_MARKERS)) for i, p in enumerate(pieces))


def _matches(g: str, parts: tuple[tuple[bool, str], ...], *, prefix: bool) -> bool:
    """Whether `g` is the pieces in order (or, with `prefix`, their start), each emoticon as
    itself or as one emoji. One pass: an emoticon is ASCII and an emoji is not, so at most
    one of the two can match where a piece begins."""
    if not parts:
        return False
    pos = 0
    for emoticon, piece in parts:
        rest = g[pos:]
        if prefix and len(rest) <= len(piece) and piece.startswith(rest):
            return True  # the cut text ends in this piece
        if rest.startswith(piece):
            pos += len(piece)
            continue
        m = _EMOJI.match(g, pos) if emoticon else None
        if m is None:
            return False
        pos = m.end()
    return pos == len(g)
