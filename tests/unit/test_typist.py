"""Typing like a person (worker/typist.py): the plan of one text, pure functions."""

from __future__ import annotations

import dataclasses
import random

from settings import SendingSettings
from worker import typist

S = SendingSettings(delay_min=4.0, delay_max=8.0, typing=True, typing_cps=8.0, typing_max=6.0)


def test_the_text_types_at_its_speed_within_the_time_left_and_the_cap() -> None:
    rng = random.Random(7)
    short = typist.plan(S, "Hi Ana 👋", budget=3.0, rng=rng)
    assert 0.7 < short < 1.5  # 8 characters at 8 a second, with jitter
    slow = dataclasses.replace(S, delay_min=20.0, delay_max=30.0)
    assert typist.plan(slow, "x" * 2000, budget=30.0, rng=rng) == 6.0  # a long text types faster: typing_max
    assert typist.plan(S, "x" * 2000, budget=30.0, rng=rng) == 3.0  # and most of the shortest delay
    assert typist.plan(S, "x" * 2000, budget=2.5, rng=rng) == 2.5  # never past the due time
    assert typist.plan(S, "hello", budget=0.0, rng=rng) == 0.0  # late already: at once
    assert typist.plan(slow, "x" * 2000, budget=None, rng=rng) == 6.0  # nothing due: a person still types
    assert typist.plan(S, "x" * 2000, budget=None, rng=rng) == 3.0  # as long as between two sends
    no_delay = dataclasses.replace(S, delay_min=0.0, delay_max=0.0)
    assert typist.plan(no_delay, "hello", budget=None, rng=rng) == 0.0  # no time between sends: no time to type
    assert typist.plan(dataclasses.replace(S, typing=False), "hello", budget=5.0, rng=rng) == 0.0


def test_the_lead_keeps_the_gap_between_two_sends_inside_its_range() -> None:
    assert typist.lead(S) == 3.0  # three quarters of the shortest delay, under the cap
    assert typist.lead(dataclasses.replace(S, delay_min=30.0)) == 6.0
    assert typist.lead(dataclasses.replace(S, delay_min=0.0)) == 0.0
    assert typist.lead(dataclasses.replace(S, typing=False)) == 0.0


def test_pieces_are_words_with_their_spaces_and_emoji_stay_whole() -> None:
    line = "Olá  Ana 👨‍👩‍👧 veja *isto*"
    pieces = typist.chunks(line)
    assert "".join(pieces) == line
    assert "👨‍👩‍👧 " in pieces
    assert typist.chunks("") == []
    waits = typist.pauses(pieces, 2.0, random.Random(1))
    assert abs(sum(waits) - 2.0) < 1e-9 and all(w > 0 for w in waits)
    assert typist.pauses(pieces, 0.0, random.Random(1)) == [0.0] * len(pieces)
