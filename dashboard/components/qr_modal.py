"""The login QR modal: the worker's login string drawn in half blocks.

Redrawn when the string changes; the app closes it when the login succeeds. When the
terminal is too small it says how big it must be. In the demo, Enter or L logs the
simulator in, as if the code had been scanned.
"""
from __future__ import annotations

from typing import Callable

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Center, Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

from .. import qr as qrdraw

CHROME_ROWS = 2  # the title line and the hint line


class QRScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("escape", "close", "Close"),
        Binding("enter,L", "scan", "Log in (demo)", show=False),
    ]

    def __init__(self, data: str, *, on_scan: Callable[[], None] | None = None) -> None:
        super().__init__(id="qr-screen")
        self.data = data
        self.on_scan = on_scan

    def compose(self) -> ComposeResult:
        with Vertical(id="qr-box"):
            yield Static("Scan with WhatsApp on your phone: Settings → Linked devices → Link a device",
                         id="qr-title")
            with Center():
                yield Static(id="qr-code")
            hint = "Esc hides this; it closes by itself when the login succeeds"
            if self.on_scan:
                hint = "Demo: press Enter or L to log in as if scanned (or wait a few seconds)   Esc hides"
            yield Static(hint, id="qr-hint")

    def on_mount(self) -> None:
        self._draw()

    def on_resize(self) -> None:
        self._draw()

    def needed(self) -> tuple[int, int]:
        cols, rows = qrdraw.size(self.data)
        return cols, rows + CHROME_ROWS

    def set_data(self, data: str) -> None:
        if data != self.data:
            self.data = data
            self._draw()

    def _draw(self) -> None:
        code = self.query_one("#qr-code", Static)
        need_w, need_h = self.needed()
        have_w, have_h = self.app.size
        if have_w < need_w or have_h < need_h:
            code.remove_class("drawn")
            code.update(f"Terminal too small for the QR code: need at least {need_w}×{need_h} "
                        f"(now {have_w}×{have_h}). Enlarge the window or reduce the font size.")
        else:
            code.add_class("drawn")
            code.update(qrdraw.render(self.data))

    def action_scan(self) -> None:
        if self.on_scan:
            self.on_scan()

    def action_close(self) -> None:
        self.dismiss(None)
