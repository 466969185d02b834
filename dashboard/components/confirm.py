"""A yes/no question: y or Enter confirms, n or Esc cancels."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static


class ConfirmScreen(ModalScreen[bool]):
    """A yes/no question; dismissed with True or False."""

    BINDINGS = [
        Binding("y,enter", "answer(True)", "Yes"),
        Binding("n,escape", "answer(False)", "No"),
    ]

    def __init__(self, question: str, detail: str = "") -> None:
        super().__init__(classes="dialog-screen")
        self.question = question
        self.detail = detail

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(self.question, classes="question")
            if self.detail:
                yield Static(self.detail, classes="detail")
            yield Static("[b]y[/b]/Enter yes   [b]n[/b]/Esc no", classes="hint")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)
