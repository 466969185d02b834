"""Unit tests: pure Python, in this process. No browser, no server, no product subprocess
(a test here that starts Chromium fails: it belongs in tests/e2e)."""

from __future__ import annotations

import pytest

from tests.support.levels import forbid_browsers


@pytest.fixture(autouse=True)
def _no_browser(monkeypatch: pytest.MonkeyPatch) -> None:
    forbid_browsers(monkeypatch, "unit")
