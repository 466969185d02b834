"""Asks where to write a job's results (CSV); Enter writes, Esc cancels."""

from __future__ import annotations

from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from store.records import Job


def default_name(job: Job) -> str:
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in job["name"]).strip("._") or "job"
    return f"{safe}-{job['id']}-results.csv"


class ExportScreen(ModalScreen[Path | None]):
    """Asks for the CSV file of a job's results; dismissed with its path, or None."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, job: Job, directory: Path | None = None) -> None:
        super().__init__(classes="dialog-screen")
        self.job = job
        self.directory = directory or Path.cwd()

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(f"Export the results of job {self.job['id']} {self.job['name']!r} to CSV", classes="question")
            yield Input(str(self.directory / default_name(self.job)), id="export-path")
            yield Static("", id="export-error", classes="error")
            yield Static(
                "Enter writes the file (phone, name, status, attempts, sent_at, error)   Esc cancels", classes="hint"
            )

    @on(Input.Submitted, "#export-path")
    def _submit(self, event: Input.Submitted) -> None:
        path = Path(event.value.strip()).expanduser()
        if not event.value.strip():
            self.query_one("#export-error", Static).update("give a file name")
            return
        if not path.parent.is_dir():
            self.query_one("#export-error", Static).update(f"{path.parent}: directory not found")
            return
        self.dismiss(path)

    def action_cancel(self) -> None:
        self.dismiss(None)
