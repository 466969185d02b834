"""The login QR modal: the worker's login string drawn in half blocks or sextants.

`style` "auto" (the default) draws half blocks when they fit and sextants (2×3 modules per
cell, a third of the rows) otherwise, so WhatsApp's login string fits an 80×24 terminal;
"half" or "sextant" prefer that style while it fits. `s` switches between the two (a font
without sextants draws boxes: switch to half blocks and enlarge the window). Redrawn when
the string changes or the terminal is resized; the app closes it when the login succeeds.
When even sextants do not fit it says how big the terminal must be. In the demo, Enter or
L logs the simulator in, as if the code had been scanned.
"""

from __future__ import annotations

from collections.abc import Callable

from rich.cells import cell_len
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Center, Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

from .. import qrdraw

CHROME_ROWS = 2  # the title line and the hint line
STYLES = ("auto", *qrdraw.STYLES)
NAMES = {"half": "half blocks", "sextant": "sextants"}


def _first_fitting(texts: list[str], width: int) -> str:
    return next((t for t in texts if cell_len(t) <= width), texts[-1])


class QRScreen(ModalScreen[None]):
    """The login QR of one account (see the module); the app closes it when the login succeeds."""

    BINDINGS = [
        Binding("escape", "close", "Close"),
        Binding("enter,L", "scan", "Log in (demo)", show=False),
        Binding("s", "switch_style", "Half blocks / sextants"),
    ]

    def __init__(
        self,
        data: str,
        *,
        on_scan: Callable[[], object] | None = None,
        style: str = "auto",
        account: str | None = None,
    ) -> None:
        """`on_scan`: what Enter or L does (the demo logs the simulator in); `style`:
        "auto", "half" or "sextant"; `account`: whose login it is, named in the title."""
        if style not in STYLES:
            raise ValueError(f"QR style must be one of {', '.join(STYLES)}, not {style!r}")
        super().__init__(classes="qr-screen")  # a class: the next account's may open as this one closes
        self.data = data
        self.on_scan = on_scan
        self.qr_style = style  # what is asked for: auto, half or sextant
        self.drawn_style: str | None = None  # what is on the screen (None: too small)
        self.account = account  # shown in the title (None: one account, no name needed)
        self.account_key: str | None = account  # whose login this is (the app sets it)

    def compose(self) -> ComposeResult:
        with Vertical(id="qr-box"):
            yield Static(self._title(10_000), id="qr-title")
            with Center():
                yield Static(id="qr-code")
            yield Static(id="qr-hint")

    def on_mount(self) -> None:
        self._draw()

    def on_resize(self) -> None:
        self._draw()

    def needed(self) -> tuple[int, int]:
        """The smallest terminal that shows the code: sextants plus the title and hint."""
        cols, rows = qrdraw.size(self.data, style="sextant")
        return cols, rows + CHROME_ROWS

    def set_data(self, data: str) -> None:
        if data != self.data:
            self.data = data
            self._draw()

    def _title(self, width: int) -> str:
        how = "Settings → Linked devices → Link a device"
        if self.account:
            who = f"Account {self.account}: scan with WhatsApp"
            return _first_fitting([f"{who} on your phone: {how}", f"{who}: {how}", who], width)
        return _first_fitting(
            [f"Scan with WhatsApp on your phone: {how}", f"Scan with WhatsApp: {how}", "Scan with WhatsApp"], width
        )

    def _other(self) -> str:
        """The style `s` switches to: the other one than drawn (or than asked, when too small)."""
        current = self.drawn_style or (self.qr_style if self.qr_style in qrdraw.STYLES else "sextant")
        return "sextant" if current == "half" else "half"

    def _hint(self, width: int) -> str:
        switch = [f"s: {NAMES[self._other()]}"] if self.drawn_style else []  # nothing to switch when too small
        if self.on_scan:
            texts = [
                ["Demo: press Enter or L to log in as if scanned (or wait a few seconds)", *switch, "Esc hides"],
                ["Demo: Enter or L logs in as if scanned", *switch, "Esc hides"],
                ["Enter: log in (demo)", *switch, "Esc hides"],
            ]
        else:
            texts = [
                ["Esc hides this; it closes by itself when the login succeeds", *switch],
                ["Esc hides this", *switch],
            ]
        return _first_fitting(["   ".join(parts) for parts in texts], width)

    def _draw(self) -> None:
        code = self.query_one("#qr-code", Static)
        have_w, have_h = self.app.size
        style = qrdraw.choose(self.data, have_w, have_h - CHROME_ROWS, self.qr_style)
        if qrdraw.fits(self.data, have_w, have_h - CHROME_ROWS, style):
            self.drawn_style = style
            code.styles.width = "auto"
            code.add_class("drawn")
            code.update(qrdraw.render(self.data, style=style))
        else:
            self.drawn_style = None
            need_w, need_h = self.needed()
            code.remove_class("drawn")
            code.styles.width = "100%"  # the message wraps instead of being cut at the edge
            code.update(
                f"Terminal too small for the QR code: need at least {need_w}×{need_h} "
                f"(now {have_w}×{have_h}). Enlarge the window or reduce the font size."
            )
        self.query_one("#qr-title", Static).update(self._title(have_w))
        self.query_one("#qr-hint", Static).update(self._hint(have_w))

    def action_switch_style(self) -> None:
        """Prefer the other style from now on; say so when it does not fit yet."""
        want = self.qr_style = self._other()
        self._draw()
        if self.drawn_style != want:
            cols, rows = qrdraw.size(self.data, style=want)
            have_w, have_h = self.app.size
            self.notify(
                f"The QR code in {NAMES[want]} needs {cols}×{rows + CHROME_ROWS} "
                f"(now {have_w}×{have_h}); it will be drawn so when the window is big enough.",
                timeout=5,
            )

    def action_scan(self) -> None:
        if self.on_scan:
            self.on_scan()

    def action_close(self) -> None:
        self.dismiss(None)
