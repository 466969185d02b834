"""The help screen (`?`): every key of the dashboard."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

KEYS: list[tuple[str, str]] = [
    ("n", "new job: file → columns → template → attachment → summary → create"),
    ("p", "pause / resume the selected job"),
    ("s", "stop the selected job for good (asks first)"),
    ("r", "retry the selected job's failed messages"),
    ("v", "decide on the selected `unknown` message: it was sent, or send it again"),
    ("R", "the selected contact's replies: our message and their answers (opt-outs, unclear ones)"),
    ("A", "the worker stopped on a failing selector: try again (after fixing config)"),
    ("D", "selector doctor: check every selector on the live page; w writes the fixes"),
    ("w", "start the worker, or stop it (asks first)"),
    ("P", "pause / resume ALL sending (the run/pause signal file)"),
    ("a", "pause / resume the account selected in the accounts table (several accounts)"),
    ("e", "export the selected job's results to CSV"),
    ("c", "edit config.toml (Ctrl+S saves, validates, restarts the worker)"),
    ("l", "full event log"),
    ("L", "show the login QR code (of the selected account, else the first that waits)"),
    ("/", "filter messages: search phone or name; a status word filters by status"),
    ("f", "cycle the messages' status filter"),
    ("Esc", "clear the filter / close a screen"),
    ("Tab", "next panel (jobs → messages → accounts → events)"),
    ("↑ ↓ PgUp PgDn", "move; past the edge of a page loads the next/previous page"),
    ("Home End / g G", "first / last page of messages"),
    ("Ctrl+P", "command palette"),
    ("?", "this help"),
    ("q", "quit the dashboard (the worker keeps running)"),
]


def help_text() -> str:
    rows = "\n".join(f"  [b]{k:<15}[/b] {v}" for k, v in KEYS)
    return (
        "[b]WhatsApp bulk sender — keys[/b]\n\n"
        + rows
        + "\n\nThe worker runs apart from this screen: quitting the dashboard or losing the SSH "
        "connection stops nothing. Esc or ? closes this help."
    )


class HelpScreen(ModalScreen[None]):
    """Every key of the dashboard, in one scrollable list."""

    BINDINGS = [Binding("escape,question_mark,q", "close", "Close")]

    def __init__(self) -> None:
        super().__init__(classes="dialog-screen")

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog wide", id="help"):
            yield Static(help_text(), markup=True)

    def action_close(self) -> None:
        self.dismiss(None)
