"""Reading a login QR back as a phone would: login strings shaped like WhatsApp's, and a
renderer that knows nothing of dashboard/qrdraw.py's tables (each character's shape
comes from its Unicode NAME: "UPPER HALF BLOCK", "BLOCK SEXTANT-1345", ...), painted into
terminal-sized cells and decoded by zxing-cpp."""

from __future__ import annotations

import base64
import random
import unicodedata

import zxingcpp
from PIL import Image

from dashboard import qrdraw


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
