"""Drawing a QR code in the terminal, in half blocks or in sextants.

Two renderings of the same module matrix (segno, error level L):

* ``"half"``: half blocks ``▀ ▄ █``, 1×2 modules (columns × rows) per cell. Modules come out
  nearly square (a cell is about twice as tall as wide) and the glyphs are in every font,
  but WhatsApp's login string (~240 characters: version 10, 57 modules) needs 65×33 cells.
* ``"sextant"``: the "BLOCK SEXTANT" characters of Unicode 13 (U+1FB00..U+1FB3B), 2×3
  modules per cell, so the same code needs 33×22 cells and fits an 80×24 terminal with the
  modal's two lines of chrome. A module is then about half a cell wide and a third of a
  cell tall, about 3:4 instead of square; scanners do not mind. The 64 patterns of a cell
  are 60 sextant code points plus four that already existed as block elements and that
  the sextant block skips: empty (space), left column ``▌`` (U+258C), right column ``▐``
  (U+2590), full ``█`` (U+2588). Fonts without sextants draw boxes instead; press the
  switch key in the modal to go back to half blocks.

Quiet zone: 4 modules in both styles (``QUIET``), the size the QR standard asks for.
Phone scanners manage with 2, but 4 costs nothing here: 57 + 2×4 = 65 modules are 22
sextant rows (65 / 3, rounded up), exactly the 24 rows of an 80×24 terminal minus the
modal's title and hint, and every login string of 231..271 characters is version 10.
(A string longer than 271 characters would be version 11, 61 modules: 35×23 sextant
cells, and the modal would say the terminal is too small.) When the module count is not
a multiple of 2 or 3, the extra cell column or row is light: a slightly wider quiet zone
on the right and at the bottom.

Dark modules are black and light modules (and the quiet zone) white, with explicit
colours, so the code scans whatever the terminal's or the app's theme.
"""

from __future__ import annotations

from functools import lru_cache

from rich.style import Style
from rich.text import Text

QUIET = 4
DARK = "#000000"
LIGHT = "#ffffff"
_STYLE = Style(color=DARK, bgcolor=LIGHT)

STYLES = ("half", "sextant")
CELL = {"half": (1, 2), "sextant": (2, 3)}  # modules per cell: (columns, rows)

HALF_BLOCKS = {(False, False): " ", (True, False): "▀", (False, True): "▄", (True, True): "█"}


def _sextant(bits: int) -> str:
    """The character for a 2×3 pattern: bit k set = position k+1 dark, positions numbered
    1 2 / 3 4 / 5 6 as in the Unicode names ("BLOCK SEXTANT-1345")."""
    if bits == 0:
        return " "
    if bits == 0b010101:  # 1, 3, 5: the left column
        return "\u258c"  # ▌ LEFT HALF BLOCK
    if bits == 0b101010:  # 2, 4, 6: the right column
        return "\u2590"  # ▐ RIGHT HALF BLOCK
    if bits == 0b111111:
        return "\u2588"  # █ FULL BLOCK
    # U+1FB00 is pattern 1; the block skips patterns 21 (▌) and 42 (▐)
    return chr(0x1FB00 + bits - 1 - (bits > 0b010101) - (bits > 0b101010))


SEXTANTS = tuple(_sextant(bits) for bits in range(64))  # indexed by the 6-bit pattern


def _check(style: str) -> str:
    if style not in STYLES:
        raise ValueError(f"QR style must be one of {', '.join(STYLES)}, not {style!r}")
    return style


@lru_cache(maxsize=8)
def _core(data: str) -> tuple[tuple[bool, ...], ...]:
    import segno

    qr = segno.make_qr(data, error="l")
    return tuple(tuple(bool(v) for v in row) for row in qr.matrix)


def matrix(data: str, quiet: int = QUIET) -> list[list[bool]]:
    """The module matrix (True = dark) with the quiet zone around it."""
    core = _core(data)
    n = len(core)
    blank = [False] * (n + 2 * quiet)
    out = [list(blank) for _ in range(quiet)]
    out += [[False] * quiet + list(row) + [False] * quiet for row in core]
    out += [list(blank) for _ in range(quiet)]
    return out


def size(data: str, quiet: int = QUIET, style: str = "half") -> tuple[int, int]:
    """(columns, rows) of terminal cells the drawing needs."""
    cw, ch = CELL[_check(style)]
    n = len(_core(data)) + 2 * quiet
    return -(-n // cw), -(-n // ch)


def fits(data: str, width: int, height: int, style: str, quiet: int = QUIET) -> bool:
    """Whether the drawing fits in width×height cells."""
    cols, rows = size(data, quiet, style)
    return cols <= width and rows <= height


def choose(data: str, width: int, height: int, prefer: str | None = None, quiet: int = QUIET) -> str:
    """The style to draw with in width×height cells (the room for the drawing alone).

    `prefer` ("half" or "sextant") when it fits; otherwise half blocks when they fit and
    sextants otherwise. "sextant" also when nothing fits (the smallest: the caller checks
    `fits` and says how much room it needs). `prefer` None or "auto": no preference.
    """
    if prefer not in (None, "auto") and fits(data, width, height, _check(prefer), quiet):
        return prefer
    return "half" if fits(data, width, height, "half", quiet) else "sextant"


def lines(data: str, quiet: int = QUIET, style: str = "half") -> list[str]:
    """The drawing as plain strings, one per terminal row."""
    m = matrix(data, quiet)
    cw, ch = CELL[_check(style)]
    width = len(m[0])
    pad_x = -width % cw
    m = [row + [False] * pad_x for row in m]
    m += [[False] * (width + pad_x) for _ in range(-len(m) % ch)]
    if style == "half":
        return ["".join(HALF_BLOCKS[(top, bot)] for top, bot in zip(m[y], m[y + 1])) for y in range(0, len(m), 2)]
    out = []
    for y in range(0, len(m), 3):
        r0, r1, r2 = m[y], m[y + 1], m[y + 2]
        out.append(
            "".join(
                SEXTANTS[r0[x] | r0[x + 1] << 1 | r1[x] << 2 | r1[x + 1] << 3 | r2[x] << 4 | r2[x + 1] << 5]
                for x in range(0, len(r0), 2)
            )
        )
    return out


def render(data: str, quiet: int = QUIET, style: str = "half") -> Text:
    """A Rich Text: black on white, in half blocks or sextants."""
    text = Text(no_wrap=True, overflow="crop")
    rows = lines(data, quiet, style)
    for i, row in enumerate(rows):
        text.append(row, _STYLE)
        if i < len(rows) - 1:
            text.append("\n")
    return text
