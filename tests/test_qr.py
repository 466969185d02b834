"""The login QR in half blocks and in sextants: decoded back by a real QR decoder.

The drawing is turned back into an image by a renderer that knows nothing of
qrdraw.py's tables: each character's shape comes from its Unicode NAME
("UPPER HALF BLOCK", "BLOCK SEXTANT-1345", ...), painted into a cell of a realistic
terminal size (8×16 pixels and others: sextant rows of 5/6/5 pixels), on a dark
"terminal" around the code. zxing-cpp must read the login string back.
"""

from __future__ import annotations

import base64
import random
import unicodedata

import pytest
import zxingcpp
from PIL import Image

from dashboard import qrdraw
from dashboard.components.qr_modal import CHROME_ROWS, QRScreen
from dashboard.textshot import screen_text
from tests.test_dashboard_support import Env, aio, env, settle, utc, wait_for  # noqa: F401


# ------------------------------------------------------------------ login strings
def b64(rng: random.Random, n: int) -> str:
    return base64.b64encode(rng.randbytes(n)).decode()


def ref_205(rng: random.Random) -> str:
    """The shape of WhatsApp's data-ref: "2@" + ref, then the noise key, identity key, adv secret."""
    return "2@" + b64(rng, 66) + "," + b64(rng, 32) + "," + b64(rng, 32) + "," + b64(rng, 16)


def ref_of(rng: random.Random, total: int) -> str:
    """The same shape with a longer ref part, `total` characters in all."""
    keys = "," + b64(rng, 32) + "," + b64(rng, 32) + "," + b64(rng, 16)
    head = "2@" + b64(rng, total)  # longer than needed, cut below
    return head[: total - len(keys)] + keys


def ref_240(rng: random.Random) -> str:
    return ref_of(rng, 240)


# ------------------------------------------------------------------ an independent renderer
def shape(ch: str):
    """(fx, fy) in [0, 1)² of a cell -> dark?, from the character's Unicode name only."""
    name = unicodedata.name(ch)
    if name == "SPACE":
        return lambda fx, fy: False
    if name == "FULL BLOCK":
        return lambda fx, fy: True
    if name == "UPPER HALF BLOCK":
        return lambda fx, fy: fy < 0.5
    if name == "LOWER HALF BLOCK":
        return lambda fx, fy: fy >= 0.5
    if name == "LEFT HALF BLOCK":
        return lambda fx, fy: fx < 0.5
    if name == "RIGHT HALF BLOCK":
        return lambda fx, fy: fx >= 0.5
    prefix = "BLOCK SEXTANT-"
    assert name.startswith(prefix), f"unexpected character {ch!r}: {name}"
    cells = {((int(d) - 1) % 2, (int(d) - 1) // 2) for d in name[len(prefix) :]}  # 1 2 / 3 4 / 5 6
    return lambda fx, fy: (int(fx * 2), int(fy * 3)) in cells


def paint(rows: list[str], cell_w: int = 8, cell_h: int = 16, margin: int = 3):
    """A grayscale PIL image of the drawing: black ink on white cells, `margin` cells of dark
    grey (a dark terminal around the modal) on every side."""
    tiles: dict[str, object] = {}
    width = max(len(r) for r in rows)
    img = Image.new("L", ((width + 2 * margin) * cell_w, (len(rows) + 2 * margin) * cell_h), 40)
    for y, row in enumerate(rows):
        for x, ch in enumerate(row):
            if ch not in tiles:
                dark = shape(ch)
                tile = Image.new("L", (cell_w, cell_h), 255)
                tile.putdata(
                    [
                        0 if dark((px + 0.5) / cell_w, (py + 0.5) / cell_h) else 255
                        for py in range(cell_h)
                        for px in range(cell_w)
                    ]
                )
                tiles[ch] = tile
            img.paste(tiles[ch], ((x + margin) * cell_w, (y + margin) * cell_h))
    return img


def modules(rows: list[str], style: str) -> list[list[bool]]:
    """The module grid the characters show (by name), for the exact comparisons."""
    cw, ch = qrdraw.CELL[style]
    out = [[False] * (len(rows[0]) * cw) for _ in range(len(rows) * ch)]
    for y, row in enumerate(rows):
        for x, c in enumerate(row):
            dark = shape(c)
            for j in range(ch):
                for i in range(cw):
                    out[y * ch + j][x * cw + i] = dark((i + 0.5) / cw, (j + 0.5) / ch)
    return out


def decode(img) -> list[str]:
    return [b.text for b in zxingcpp.read_barcodes(img) if b.format == zxingcpp.BarcodeFormat.QRCode]


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


# ------------------------------------------------------------------ the modal
async def open_modal(pilot, app, screen: QRScreen) -> QRScreen:
    await settle(pilot, app)
    app.push_screen(screen)
    await wait_for(pilot, lambda: app.screen is screen and "with WhatsApp" in screen_text(app), what="the QR modal")
    await pilot.pause()
    return screen


def shows(app, data: str, style: str) -> bool:
    text = screen_text(app)
    return all(row.strip() in text for row in qrdraw.lines(data, style=style) if row.strip())


@aio
async def test_modal_draws_sextants_in_80x24_and_s_cannot_switch_to_half(env: Env) -> None:
    data = ref_240(random.Random(21))
    app = env.app(live=False)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_modal(pilot, app, QRScreen(data, account="sales-2"))
        assert screen.drawn_style == "sextant" and shows(app, data, "sextant")
        text = screen_text(app)
        assert "Account sales-2: scan with WhatsApp" in text and "s: half blocks" in text
        assert "too small" not in text
        await pilot.press("s")  # half blocks need 65×35: stays sextants, says so
        await pilot.pause()
        assert screen.drawn_style == "sextant" and screen.qr_style == "half"
        assert any("65×35" in n.message for n in app._notifications)


@aio
async def test_modal_draws_half_blocks_when_they_fit_and_s_switches(env: Env) -> None:
    data = ref_240(random.Random(22))
    app = env.app(live=False)
    async with app.run_test(size=(120, 50)) as pilot:
        screen = await open_modal(pilot, app, QRScreen(data))
        assert screen.drawn_style == "half" and shows(app, data, "half")
        assert "Scan with WhatsApp on your phone" in screen_text(app)
        await pilot.press("s")
        await wait_for(pilot, lambda: screen.drawn_style == "sextant")
        assert shows(app, data, "sextant") and "s: half blocks" in screen_text(app)
        await pilot.press("s")
        await wait_for(pilot, lambda: screen.drawn_style == "half")
        assert shows(app, data, "half")


@aio
async def test_modal_style_sextant_asked_and_too_small(env: Env) -> None:
    data = ref_240(random.Random(23))
    app = env.app(live=False)
    async with app.run_test(size=(120, 50)) as pilot:
        screen = await open_modal(pilot, app, QRScreen(data, style="sextant"))
        assert screen.drawn_style == "sextant"
    app = env.app(live=False)
    async with app.run_test(size=(60, 20)) as pilot:
        screen = await open_modal(pilot, app, QRScreen(data))
        assert screen.drawn_style is None and screen.needed() == (33, 24)
        assert "need at least 33×24 (now 60×20)" in " ".join(screen_text(app).split())
    with pytest.raises(ValueError):
        QRScreen(data, style="braille")
