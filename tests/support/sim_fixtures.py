"""Fixtures of the WhatsApp Web simulator (registered in tests/conftest.py): each test its
own simulator on a free port, with fast boots and acks, stopped at teardown.

`simulator`: the 2024 page in en-US, not logged in (the page tests: tests/support/page.py
holds that generation's selectors). `sim`: the page as WhatsApp serves it now (2026 DOM, the
browser's language), logged in. `sim_each`: the same, once per DOM generation."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from simulator import Simulator
from simulator.server import DOMS

FAST = {"boot_time": 0.2, "ack_delay": 0.1, "dblcheck_delay": 0.3}


@pytest.fixture
def simulator() -> Iterator[Simulator]:
    sim = Simulator(port=0, dom="2024", lang="en-US", **FAST).start()
    try:
        yield sim
    finally:
        sim.stop()


@pytest.fixture
def sim() -> Iterator[Simulator]:
    s = Simulator(port=0, dom="2026", **FAST).start()
    s.login()
    try:
        yield s
    finally:
        s.stop()


@pytest.fixture(params=DOMS)
def sim_each(request: pytest.FixtureRequest) -> Iterator[Simulator]:
    s = Simulator(port=0, dom=request.param, **FAST).start()
    s.login()
    try:
        yield s
    finally:
        s.stop()


def make_sim(**settings: Any) -> Simulator:
    """A started simulator for the accounts tests: the 2024 page in en-US, fast boots, acks
    and polls; `settings` override any of it."""
    base = {
        "boot_time": 0.2,
        "ack_delay": 0.05,
        "dblcheck_delay": 0.05,
        "poll_interval": 0.3,
        "dom": "2024",
        "lang": "en-US",
    }
    return Simulator(port=0, **{**base, **settings}).start()
