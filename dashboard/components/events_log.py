"""Recent events at the bottom of the main screen (newest last)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from rich.text import Text
from textual.widgets import RichLog

from store.records import Event

from ..fmt import clock, one_line

LEVEL_STYLE = {"warning": "yellow", "error": "bold red", "info": ""}


def event_line(e: Event, now: float | None = None) -> Text:
    line = Text(clock(e["at"], now), style="dim")
    line.append(" ")
    line.append(f"{e['kind']:<11.11}", style="cyan")
    line.append(" ")
    line.append(one_line(e["text"]), style=LEVEL_STYLE.get(e.get("level") or "info", ""))
    return line


class EventsLog(RichLog):
    """The newest events, one line each, appended as the snapshots bring them."""

    BORDER_TITLE = "Events"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(id="events", max_lines=500, wrap=False, markup=False, auto_scroll=True, **kwargs)

    def add(self, events: Iterable[Event], now: float | None = None) -> None:
        for e in events:
            self.write(event_line(e, now))
