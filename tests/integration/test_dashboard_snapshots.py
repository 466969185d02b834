"""Snapshot tests (pytest-textual-snapshot): the main screen, the QR modal and the wizard.

Deterministic: fixed clock and timestamps, TZ=UTC, a fake supervisor status.
Update after an intended change with: pytest tests/integration/test_dashboard_snapshots.py --snapshot-update
(and look at every SVG that changed before committing it).
"""

from __future__ import annotations

import pytest
from textual.widgets import TextArea

from tests.support.dashboard import NOW, QR_DATA, Env, settle, wizard_at_columns, write_csv
from tests.support.waiting import await_until

pytestmark = pytest.mark.usefixtures("utc")


def main_screen_ready():
    async def run_before(pilot) -> None:
        await settle(pilot, pilot.app)
        await pilot.pause()

    return run_before


def test_main_screen_80x24(env: Env, snap_compare) -> None:
    assert snap_compare(env.app(live=False), terminal_size=(80, 24), run_before=main_screen_ready())


def test_main_screen_120x40(env: Env, snap_compare) -> None:
    assert snap_compare(env.app(live=False), terminal_size=(120, 40), run_before=main_screen_ready())


def test_qr_modal_120x40(env: Env, snap_compare) -> None:
    env.store.heartbeat(
        "w1", state="waiting_for_login", qr=QR_DATA, info={"login": "logged_out"}, current_message_id=None, now=NOW - 1
    )

    async def run_before(pilot) -> None:
        from dashboard.components.qr_modal import QRScreen

        await settle(pilot, pilot.app)
        await await_until(pilot, lambda: isinstance(pilot.app.screen, QRScreen))
        await pilot.pause()

    assert snap_compare(env.app(live=False), terminal_size=(120, 40), run_before=run_before)


def test_wizard_template_step_100x30(env: Env, snap_compare) -> None:
    csv = write_csv(env.tmp)

    async def run_before(pilot) -> None:
        wiz = await wizard_at_columns(pilot, pilot.app, csv)
        await pilot.press("enter")
        await await_until(pilot, lambda: wiz.step == "template")
        editor = wiz.query_one("#template-editor", TextArea)
        editor.cursor_blink = False
        editor.text = "{Hi|Hello} {Name}, see you in {City}!"
        await pilot.pause()

    assert snap_compare(env.app(live=False), terminal_size=(100, 30), run_before=run_before)
