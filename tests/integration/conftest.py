"""Integration tests: the store on SQLite and PostgreSQL, the command line, the supervisor
with fake workers, the simulator over HTTP, the dashboard in Textual's pilot and its
snapshots. Real processes and real databases, but never a browser (a test here that
starts Chromium fails: it belongs in tests/e2e)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.dashboard import Env, fill, utc_zone
from tests.support.levels import forbid_browsers


@pytest.fixture(autouse=True)
def _no_browser(monkeypatch: pytest.MonkeyPatch) -> None:
    forbid_browsers(monkeypatch, "integration")


@pytest.fixture(scope="module")
def utc() -> Iterator[None]:
    """TZ=UTC for a whole dashboard module (`pytestmark = pytest.mark.usefixtures("utc")`)."""
    with utc_zone():
        yield


@pytest.fixture
def env(tmp_path: Path) -> Env:
    """The dashboard over a database of three jobs of 300 messages, 19 of them handled."""
    e = Env(tmp_path)
    fill(e.store)
    return e


@pytest.fixture
def empty_env(tmp_path: Path) -> Env:
    return Env(tmp_path)
