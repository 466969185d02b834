"""The login QR modal of the dashboard (Textual pilot): sextants in 80x24, half blocks when
they fit, `s` switches, too small says the size it needs. The drawing is checked row by
row against dashboard/qrdraw.py; that the drawing itself decodes is tests/unit/test_qr.py."""

from __future__ import annotations

import random

import pytest

from dashboard import qrdraw
from dashboard.components.qr_modal import QRScreen
from tests.support.dashboard import Env, aio, settle
from tests.support.qrread import ref_240
from tests.support.textshot import screen_text
from tests.support.waiting import await_until

pytestmark = pytest.mark.usefixtures("utc")


# ------------------------------------------------------------------ the modal
async def open_modal(pilot, app, screen: QRScreen) -> QRScreen:
    await settle(pilot, app)
    app.push_screen(screen)
    await await_until(pilot, lambda: app.screen is screen and "with WhatsApp" in screen_text(app), what="the QR modal")
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
        await await_until(pilot, lambda: screen.drawn_style == "sextant")
        assert shows(app, data, "sextant") and "s: half blocks" in screen_text(app)
        await pilot.press("s")
        await await_until(pilot, lambda: screen.drawn_style == "half")
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
