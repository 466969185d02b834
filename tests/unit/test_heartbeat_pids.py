"""The heartbeat's browser pids: read at most once a second for the same browser, at once
for a new one (listing a process tree reads every process on the machine)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

import worker.runner as runner


def test_the_tree_is_listed_once_a_second_and_again_for_a_new_browser(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [100.0]
    listed: list[Any] = []

    def browser_pids(service: Any) -> list[int]:
        listed.append(service)
        return [service.pid, service.pid + 1]

    monkeypatch.setattr(runner, "browser_pids", browser_pids)
    monkeypatch.setattr(runner.time, "monotonic", lambda: now[0])
    first, second = SimpleNamespace(pid=10), SimpleNamespace(pid=20)
    w: Any = SimpleNamespace(service=first, pids=[], _pids_read=(None, 0.0))
    read = runner.Worker._browser_pids

    assert read(w) == [10, 11] and len(listed) == 1
    now[0] += 0.5
    assert read(w) == [10, 11] and len(listed) == 1  # the same browser within the second
    now[0] += 0.6
    assert read(w) == [10, 11] and len(listed) == 2  # a second later: listed again
    w.service = second
    assert read(w) == [20, 21] and len(listed) == 3  # a new browser: at once


def test_a_browser_that_is_gone_keeps_the_last_pids_for_its_killing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runner, "browser_pids", lambda service: [])
    w: Any = SimpleNamespace(service=SimpleNamespace(), pids=[7, 8], _pids_read=(None, 0.0))
    assert runner.Worker._browser_pids(w) == [7, 8]
