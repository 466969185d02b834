"""What each level of tests may do (tests/README.md): unit and integration tests never
start a browser. Their conftest.py makes sure: a Chromium started there fails the test."""

from __future__ import annotations

from typing import Any

import pytest


def forbid_browsers(monkeypatch: pytest.MonkeyPatch, level: str) -> None:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError(f"a {level} test started a browser: it belongs in tests/e2e")

    monkeypatch.setattr("selenium.webdriver.Chrome", refuse)
