"""Drawing a QR code with half-block characters: two modules per terminal cell.

Dark modules are black and light modules (and the 4-module quiet zone) white,
with explicit colours, so the code scans whatever the terminal's or the app's theme.
"""
from __future__ import annotations

from rich.style import Style
from rich.text import Text

QUIET = 4
DARK = "#000000"
LIGHT = "#ffffff"
_STYLE = Style(color=DARK, bgcolor=LIGHT)


def matrix(data: str, quiet: int = QUIET) -> list[list[bool]]:
    """The module matrix (True = dark) with the quiet zone around it."""
    import segno

    qr = segno.make_qr(data, error="l")
    core = [[bool(v) for v in row] for row in qr.matrix]
    n = len(core)
    blank = [False] * (n + 2 * quiet)
    out = [list(blank) for _ in range(quiet)]
    out += [[False] * quiet + row + [False] * quiet for row in core]
    out += [list(blank) for _ in range(quiet)]
    return out


def size(data: str, quiet: int = QUIET) -> tuple[int, int]:
    """(columns, rows) the drawing needs."""
    m = matrix(data, quiet)
    return len(m[0]), (len(m) + 1) // 2


def lines(data: str, quiet: int = QUIET) -> list[str]:
    """The drawing as plain strings (each cell: top module, bottom module)."""
    m = matrix(data, quiet)
    if len(m) % 2:
        m.append([False] * len(m[0]))
    chars = {(False, False): " ", (True, False): "▀", (False, True): "▄", (True, True): "█"}
    return ["".join(chars[(top, bot)] for top, bot in zip(m[y], m[y + 1])) for y in range(0, len(m), 2)]


def render(data: str, quiet: int = QUIET) -> Text:
    """A Rich Text: black on white half blocks."""
    text = Text(no_wrap=True, overflow="crop")
    rows = lines(data, quiet)
    for i, row in enumerate(rows):
        text.append(row, _STYLE)
        if i < len(rows) - 1:
            text.append("\n")
    return text
