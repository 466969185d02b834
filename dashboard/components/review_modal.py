"""A person's decision on one `unknown` message (its send click happened, nothing proved
that it arrived): s marks it sent, r sends it again, Esc decides later."""

from __future__ import annotations

from rich.markup import escape
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

from store.records import Message

from ..fmt import clock, one_line


class ReviewScreen(ModalScreen[str | None]):
    """Dismissed with "sent", "resend" or None."""

    BINDINGS = [
        Binding("s", "decide('sent')", "It is in the chat"),
        Binding("r", "decide('resend')", "Send again"),
        Binding("escape,q", "decide(None)", "Later"),
    ]

    def __init__(self, message: Message, now: float | None = None) -> None:
        super().__init__(classes="dialog-screen")
        self.message = message
        self.now = now

    def compose(self) -> ComposeResult:
        m = self.message
        why = m.get("review") or m.get("last_error") or "not verified yet"
        with Vertical(classes="dialog wide", id="review"):
            yield Static(f"Message {m['id']} to {escape(m['phone'])}: was it sent?", classes="question")
            yield Static(escape(one_line(m.get("text"), 300)), classes="detail")
            yield Static(
                f"Clicked at {clock(m.get('clicked_at') or m.get('claimed_at'), self.now)}; nothing "
                f"proved the outcome: {escape(why)}\nLook at this chat on the phone, then decide.",
                classes="detail",
            )
            yield Static(
                "[b]s[/b] it is in the chat: mark it sent   [b]r[/b] it is not: send it again   [b]Esc[/b] later",
                classes="hint",
            )

    def action_decide(self, decision: str | None) -> None:
        self.dismiss(decision)
