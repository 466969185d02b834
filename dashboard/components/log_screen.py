"""The full log (`l`): the newest events of the database, then the log file's tail."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, RichLog, Static

from store.records import Event

from .events_log import event_line

if TYPE_CHECKING:
    from ..storeview import DashboardStore

EVENTS = 2000
TAIL_BYTES = 64 * 1024


def tail(path: Path, limit: int = TAIL_BYTES) -> list[str]:
    try:
        with path.open("rb") as fh:
            fh.seek(0, 2)
            size = fh.tell()
            fh.seek(max(0, size - limit))
            data = fh.read().decode("utf-8", "replace")
    except OSError:
        return []
    lines = data.splitlines()
    return lines[1:] if size > limit else lines


class LogScreen(Screen[None]):
    """The database's newest events, then the tail of the newest log files; read in a thread."""

    BINDINGS = [
        Binding("escape,q,l", "close", "Back"),
        Binding("r", "reload", "Reload"),
        Binding("g,home", "top", "Top", show=False),
        Binding("G,end", "bottom", "Bottom", show=False),
    ]

    def __init__(self, store: DashboardStore, log_dir: Path | None) -> None:
        super().__init__()
        self.store = store
        self.log_dir = log_dir

    def compose(self) -> ComposeResult:
        yield Static("Full log — newest at the bottom", id="log-title")
        yield RichLog(id="full-log", max_lines=10000, wrap=False, markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(RichLog).focus()
        self.action_reload()

    @work(thread=True, exclusive=True, group="log")
    def action_reload(self) -> None:
        events = list(reversed(self.store.events(limit=EVENTS)))
        files = (
            sorted(self.log_dir.glob("*.log"), key=lambda p: p.stat().st_mtime)
            if self.log_dir and self.log_dir.is_dir()
            else []
        )
        file_lines = [(p, tail(p)) for p in files[-2:]]
        self.app.call_from_thread(self._show, events, file_lines)

    def _show(self, events: list[Event], file_lines: list[tuple[Path, list[str]]]) -> None:
        log = self.query_one(RichLog)
        log.clear()
        log.write(f"— {len(events)} newest events (database) —")
        for e in events:
            log.write(event_line(e))
        for path, lines in file_lines:
            log.write(f"— {path} (tail) —")
            for line in lines:
                log.write(line)
        log.scroll_end(animate=False)

    def action_top(self) -> None:
        self.query_one(RichLog).scroll_home(animate=False)

    def action_bottom(self) -> None:
        self.query_one(RichLog).scroll_end(animate=False)

    def action_close(self) -> None:
        self.dismiss(None)
