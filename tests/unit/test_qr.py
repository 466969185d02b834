"""The login QR in half blocks and in sextants: decoded back by a real QR decoder.

The drawing is turned back into an image by a renderer that knows nothing of
qrdraw.py's tables (tests/support/qrread.py): each character's shape comes from its
Unicode NAME ("UPPER HALF BLOCK", "BLOCK SEXTANT-1345", ...), painted into a cell of a
realistic terminal size (8×16 pixels and others: sextant rows of 5/6/5 pixels), on a dark
"terminal" around the code. zxing-cpp must read the login string back. (The modal that
shows it: tests/integration/test_qr_modal.py.)
"""

from __future__ import annotations

import random
import unicodedata

import pytest

from dashboard import qrdraw
from dashboard.components.qr_modal import CHROME_ROWS
from tests.support.qrread import decode, modules, paint, ref_205, ref_240, ref_of, shape


# ------------------------------------------------------------------ the mapping
def test_sextant_table_matches_the_unicode_names() -> None:
    seen = set()
    for bits, ch in enumerate(qrdraw.SEXTANTS):
        dark = shape(ch)
        got = sum(1 << (j * 2 + i) for j in range(3) for i in range(2) if dark((i + 0.5) / 2, (j + 0.5) / 3))
        assert got == bits, f"pattern {bits:06b} drawn as {ch!r} ({unicodedata.name(ch)})"
        seen.add(ch)
    assert len(seen) == 64
    sextant_block = {chr(c) for c in range(0x1FB00, 0x1FB3C)}
    assert seen - sextant_block == {" ", "▌", "▐", "█"}
    assert sextant_block <= seen  # all 60 code points used, none outside the block
    assert qrdraw.SEXTANTS[0b010101] == "▌" and qrdraw.SEXTANTS[0b101010] == "▐"
    assert unicodedata.name(qrdraw.SEXTANTS[0b011101]) == "BLOCK SEXTANT-1345"


@pytest.mark.parametrize("style", qrdraw.STYLES)
def test_the_drawing_shows_the_module_matrix(style: str) -> None:
    rng = random.Random(7)
    for data in ("hello", ref_205(rng), ref_240(rng), ref_of(rng, 271)):
        rows = qrdraw.lines(data, style=style)
        assert len({len(r) for r in rows}) == 1
        assert (len(rows[0]), len(rows)) == qrdraw.size(data, style=style)
        m = qrdraw.matrix(data)
        shown = modules(rows, style)
        n = len(m)
        assert [r[:n] for r in shown[:n]] == m
        assert not any(any(r[n:]) for r in shown) and not any(any(r) for r in shown[n:])  # padding is light


def test_render_is_black_on_white_in_both_styles() -> None:
    for style in qrdraw.STYLES:
        text = qrdraw.render("hello", style=style)
        assert text.plain.split("\n") == qrdraw.lines("hello", style=style)
        assert {str(s.style) for s in text.spans} == {"#000000 on #ffffff"}
    with pytest.raises(ValueError):
        qrdraw.lines("hello", style="braille")


# ------------------------------------------------------------------ a real decoder reads it back
@pytest.mark.parametrize("style", qrdraw.STYLES)
@pytest.mark.parametrize("make", [ref_205, ref_240], ids=["205 chars", "240 chars"])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_zxing_decodes_the_drawing(style: str, make, seed: int) -> None:
    data = make(random.Random(seed))
    assert decode(paint(qrdraw.lines(data, style=style))) == [data]


@pytest.mark.parametrize("style", qrdraw.STYLES)
@pytest.mark.parametrize("cell", [(7, 15), (9, 19), (10, 22), (16, 32)])
def test_zxing_decodes_other_cell_sizes(style: str, cell: tuple[int, int]) -> None:
    data = ref_240(random.Random(cell[0]))
    assert decode(paint(qrdraw.lines(data, style=style), *cell)) == [data]


def test_zxing_does_not_read_a_wrong_mapping() -> None:
    """The check can fail: two sextant patterns swapped and the code no longer reads."""
    data = ref_240(random.Random(5))
    a, b = qrdraw.SEXTANTS[0b000001], qrdraw.SEXTANTS[0b000010]
    rows = [r.translate({ord(a): b, ord(b): a}) for r in qrdraw.lines(data, style="sextant")]
    assert decode(paint(rows)) != [data]


# ------------------------------------------------------------------ sizes and the choice
def test_sizes_of_a_240_character_login_string() -> None:
    data = ref_240(random.Random(11))
    assert len(data) == 240
    assert qrdraw.size(data, style="half") == (65, 33)
    assert qrdraw.size(data, style="sextant") == (33, 22)
    cols, rows = qrdraw.size(data, style="sextant")
    assert cols <= 80 and rows <= 24 - CHROME_ROWS
    assert qrdraw.size(ref_of(random.Random(1), 271), style="sextant") == (33, 22)  # the longest version 10
    assert qrdraw.size(ref_205(random.Random(1)), style="sextant") == (31, 21)


def test_choose() -> None:
    data = ref_240(random.Random(12))
    assert qrdraw.choose(data, 80, 24) == "sextant"
    assert qrdraw.choose(data, 80, 24 - CHROME_ROWS) == "sextant"
    assert qrdraw.choose(data, 120, 50) == "half"
    assert qrdraw.choose(data, 120, 50 - CHROME_ROWS, "auto") == "half"
    assert qrdraw.choose(data, 120, 50, prefer="sextant") == "sextant"
    assert qrdraw.choose(data, 80, 24, prefer="half") == "sextant"  # the preferred one does not fit
    assert qrdraw.choose(data, 20, 10) == "sextant" and not qrdraw.fits(data, 20, 10, "sextant")
    with pytest.raises(ValueError):
        qrdraw.choose(data, 80, 24, prefer="braille")
