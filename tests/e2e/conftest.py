"""End-to-end tests: real headless Chromium against the simulator, the real worker and
supervisor processes, chaos (processes SIGKILLed at random moments), the demo in tmux.

Fixtures: `browser` (one Chromium per module, reset to about:blank for every test: the
page tests have their own simulator each, so nothing of a previous test is seen),
`browsers` (two profiles = two linked devices, per module as well), `no_leftover_browsers`
(fails a test that leaves a Chromium or chromedriver behind) and `chaos_seed` (the seed of
a chaos test, from tests/support/seeds.py, printed when the test fails)."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest

from tests.support import seeds
from tests.support.browsers import make_browser, origin, our_browser_procs
from tests.support.waiting import TimedOut, wait_until

SEED_KEY = pytest.StashKey[int]()


@pytest.fixture(scope="module")
def _module_browser() -> Iterator[Any]:
    profile = tempfile.mkdtemp(prefix="sim-chrome-")
    driver = make_browser(profile)
    try:
        yield driver
    finally:
        try:
            driver.quit()
        finally:
            shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def browser(_module_browser: Any) -> Iterator[Any]:
    """This module's Chromium (starting one per test doubles the runtime); every test
    starts from about:blank and has its own simulator."""
    _module_browser.get("about:blank")
    yield _module_browser
    _module_browser.get("about:blank")


@pytest.fixture(scope="module")
def _two_browsers() -> Iterator[list[Any]]:
    profiles = [tempfile.mkdtemp(prefix="sim-acct-") for _ in range(2)]
    drivers: list[Any] = []
    try:
        for p in profiles:
            drivers.append(make_browser(p))
        yield drivers
    finally:
        for d in drivers:
            d.quit()
        for p in profiles:
            shutil.rmtree(p, ignore_errors=True)


@pytest.fixture
def browsers(_two_browsers: list[Any]) -> Iterator[list[Any]]:
    """Two Chromium profiles = two devices; each test has its own simulator, so the cookie
    a profile kept from an earlier test is unknown there (a new device)."""
    for d in _two_browsers:
        d.get("about:blank")
    yield _two_browsers
    for d in _two_browsers:
        d.get("about:blank")


@pytest.fixture
def no_leftover_browsers(tmp_path: Path) -> Iterator[None]:
    """The test leaves no Chromium/chromedriver of its own behind (8 s to go)."""
    before = set(our_browser_procs(tmp_path))
    yield

    def left() -> dict[int, str]:
        return {pid: c for pid, c in our_browser_procs(tmp_path).items() if pid not in before}

    try:
        wait_until(lambda: not left(), 8, "the test's browsers to go", interval=0.2)
        return
    except TimedOut:
        pass
    leftover = left()
    if not leftover:  # gone right after the deadline
        return
    report = "\n".join(f"{pid} {cmd}\n    {origin(pid)}" for pid, cmd in leftover.items())
    for pid in leftover:
        try:
            psutil.Process(pid).kill()
        except psutil.Error:
            pass
    pytest.fail(f"browser processes left behind:\n{report}")


@pytest.fixture
def chaos_seed(request: pytest.FixtureRequest) -> int:
    """This test's seed (tests/support/seeds.py); the report of a failure names it."""
    seed = seeds.seed_for(request.node.name)
    request.node.stash[SEED_KEY] = seed
    print(f"\nchaos seed {seed} ({seeds.ENV}={seed} replays it)")
    return seed


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    seed = item.stash.get(SEED_KEY, None)
    if seed is not None and report.failed:
        report.sections.append(
            ("chaos seed", f"seed {seed}; replay: {seeds.ENV}={seed} .venv/bin/python -m pytest '{item.nodeid}'")
        )
    return report
