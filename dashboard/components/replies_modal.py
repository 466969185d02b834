"""One contact's conversation about a job: our message and what they answered, with the
flags the worker set (opt-out, to look at). Read only; Esc closes."""

from __future__ import annotations

from rich.markup import escape
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from store.records import Message, Reply

from ..fmt import clock, one_line

FLAGS = {"optout": "[b red]opted out[/b red]", "unclear": "[b yellow]look: may mean stop; nothing done[/b yellow]"}


class RepliesScreen(ModalScreen[None]):
    """One contact's conversation about a job: our message, then each of their replies."""

    BINDINGS = [Binding("escape,q,R", "close", "Close")]

    def __init__(self, message: Message, replies: list[Reply], now: float | None = None) -> None:
        super().__init__(classes="dialog-screen")
        self.message = message
        self.replies = replies
        self.now = now

    def compose(self) -> ComposeResult:
        """Our message first, then their replies with their flags."""
        m = self.message
        with Vertical(classes="dialog wide", id="replies"):
            yield Static(
                f"{escape(m['phone'])} {escape(m.get('name') or '')}: "
                f"{len(self.replies)} repl{'y' if len(self.replies) == 1 else 'ies'}",
                classes="question",
            )
            with VerticalScroll(id="replies-list"):
                yield Static(
                    f"[dim]{clock(m.get('sent_at'), self.now)}[/dim]  [b]we[/b]  "
                    f"{escape(one_line(m.get('text'), 300))}",
                    classes="detail",
                )
                for r in self.replies:
                    what = r.text if r.text is not None else f"[{r.kind}]"
                    if r.attachment_name:
                        what += f"  ({r.kind}: {r.attachment_name})"
                    flag = f"  {FLAGS[r.flag]}" if r.flag in FLAGS else ""
                    yield Static(
                        f"[dim]{clock(r.at or r.read_at, self.now)}[/dim]  [b]they[/b]  "
                        f"{escape(one_line(what, 300))}{flag}",
                        classes="detail",
                    )
                if not self.replies:
                    yield Static("[dim]No reply read yet.[/dim]", classes="detail")
            yield Static("[b]Esc[/b] close", classes="hint")

    def action_close(self) -> None:
        self.dismiss(None)
