"""The link WhatsApp previews, and what the sender says when previews keep not coming."""

from __future__ import annotations

import logging
from types import SimpleNamespace
from typing import Any

import pytest

from worker import sending
from worker.links import link_host
from worker.sending import Sender


def test_the_first_links_host_without_www() -> None:
    assert link_host("See https://Shop.Example.com/a?b=1 and http://other.org") == "shop.example.com"
    assert link_host("Our shop: www.example.com.") == "example.com"
    assert link_host("(https://example.com:8443/x)") == "example.com"
    assert link_host("mail me: ana@example.com, at 10:30, or see example.com") is None
    assert link_host("http://localhost/") is None  # no site WhatsApp would preview
    assert link_host(None) is None


class Page:
    def __init__(self, shows: bool) -> None:
        self.shows = shows
        self.asked: list[tuple[str, str, float]] = []

    def wait_link_preview(self, box_key: str, host: str, most: float) -> bool:
        self.asked.append((box_key, host, most))
        return self.shows


def sender(wait: float) -> Any:
    s = Sender.__new__(Sender)
    s.ctx = SimpleNamespace(cfg=SimpleNamespace(sending=SimpleNamespace(link_preview_wait=wait)))
    s.previews_missed = 0
    return s


def test_previews_that_keep_not_coming_are_warned_of_once_per_streak(caplog: pytest.LogCaptureFixture) -> None:
    s, missing, showing = sender(2.5), Page(False), Page(True)
    with caplog.at_level(logging.INFO, logger="worker"):
        for mid in range(sending.PREVIEWS_MISSED_WARN + 2):
            s.wait_link_preview(missing, mid, "example.com")
    assert missing.asked[0] == ("compose_box", "example.com", 2.5)
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "no link preview on the last 5 messages" in warnings[0].getMessage()
    s.wait_link_preview(showing, 99, "example.com")  # a preview ends the streak
    assert s.previews_missed == 0
