"""Typing like a person: the text goes into the box in chunks (words, with their spaces),
at a human speed with jitter, so the contact sees "typing…" as with any person.

It happens inside the pacing delay: the worker takes the next message a little before it
is due (`lead`), types it over `plan(...)` seconds, and clicks at the due time, so the time
between two sends stays inside its configured range. A long text types faster: the time
is capped (`typing_max`) and never more than most of the shortest delay.
"""

from __future__ import annotations

import random
import re

from settings import SendingSettings

# A typing run never takes more than this share of the shortest delay between two sends.
SHARE_OF_DELAY = 0.75
# Typing ends this long before the send is due: the last look before the click (signals,
# the job, the chat) takes time too, and a click after its due time lengthens the gap.
CLICK_MARGIN = 0.5
_PIECES = re.compile(r"\S+\s*|\s+")


def lead(s: SendingSettings) -> float:
    """How long before a send is due the worker takes its message, to type it in time."""
    if not s.typing:
        return 0.0
    return min(s.typing_max, SHARE_OF_DELAY * s.delay_min)


def plan(s: SendingSettings, text: str, budget: float | None, rng: random.Random) -> float:
    """Seconds to spend typing `text`: its length at the configured speed with jitter,
    capped by `lead` (typing_max, and most of the shortest delay: with no delay between
    sends there is no time to type) and by the time left before the send is due (`budget`;
    None: no send is due, as for the first message of a run; 0 or less: the send is late
    already, the text goes in at once)."""
    cap = lead(s)
    if cap <= 0 or not text or (budget is not None and budget <= 0):
        return 0.0
    human = len(text) / s.typing_cps * rng.uniform(0.8, 1.2)
    return max(0.0, min(human, cap, budget if budget is not None else cap))


def chunks(line: str) -> list[str]:
    """A line in the pieces a person's typing shows: words with the spaces after them.
    An emoji stays whole (it is part of its word)."""
    return _PIECES.findall(line) or ([line] if line else [])


def pauses(pieces: list[str], seconds: float, rng: random.Random) -> list[float]:
    """The wait before each piece: `seconds` spread by the pieces' lengths, with jitter."""
    if seconds <= 0 or not pieces:
        return [0.0] * len(pieces)
    weights = [max(1, len(p)) * rng.uniform(0.6, 1.4) for p in pieces]
    total = sum(weights)
    return [seconds * w / total for w in weights]
