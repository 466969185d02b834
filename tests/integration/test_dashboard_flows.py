"""Pilot tests of the new-job wizard, the config editor and the QR login modal."""

from __future__ import annotations

import pytest
from textual.widgets import OptionList, TextArea

import settings
from dashboard import qrdraw
from dashboard.components.config_editor import ConfigScreen, set_values
from dashboard.components.new_job import NewJobScreen
from dashboard.components.qr_modal import QRScreen
from tests.support.dashboard import NOW, QR_DATA, Env, aio, settle, wizard_at_columns, write_csv
from tests.support.textshot import screen_text
from tests.support.waiting import await_until

pytestmark = pytest.mark.usefixtures("utc")


@aio
async def test_new_job_wizard_whole_flow(env: Env) -> None:
    csv = write_csv(env.tmp)
    attachment = env.tmp / "flyer.txt"
    attachment.write_text("hello")
    env.store.add_optout("+14155550199")
    app = env.app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, app)
        await pilot.press("n")
        assert isinstance(app.screen, NewJobScreen)
        wiz = app.screen
        # 1. file: a missing file is refused, then the real one
        wiz.query_one("#file-path").value = "nope.csv"
        await pilot.press("enter")
        assert "file not found" in screen_text(app)
        wiz.query_one("#file-path").value = str(csv)
        await pilot.press("enter")
        await await_until(pilot, lambda: wiz.step == "columns", what="columns step")
        assert wiz.phone_column == "Mobile"
        text = screen_text(app)
        assert "detected phone column" in text and "Asha" in text
        # 2. columns: the detected one is highlighted; Enter keeps it
        assert wiz.query_one(OptionList).highlighted == 1
        await pilot.press("enter")
        await await_until(pilot, lambda: wiz.step == "template", what="template step")
        # 3. template with a placeholder and spintax, live preview
        editor = wiz.query_one("#template-editor", TextArea)
        editor.text = "{Hi|Hello} {Name} from {City}"
        await pilot.press("end", "!")
        await pilot.pause()
        text = screen_text(app)
        assert "+14155550101" in text and "Asha from Pune!" in text
        assert "{Name}, {City}" in text and "spintax" in text
        # an unknown placeholder is an error that blocks Next
        editor.text = editor.text + " {Nope}"
        await pilot.pause()
        assert "no such column" in screen_text(app)
        await pilot.press("ctrl+n")
        assert wiz.step == "template"
        editor.text = editor.text[: -len(" {Nope}")]
        await pilot.pause()
        assert wiz.template_ok
        await pilot.press("ctrl+n")
        assert wiz.step == "attachment"
        # 4. attachment
        wiz.query_one("#attachment-path").value = "missing.png"
        await pilot.press("enter")
        assert "file not found" in screen_text(app)
        wiz.query_one("#attachment-path").value = str(attachment)
        await pilot.press("enter")
        await await_until(pilot, lambda: wiz.plan is not None, what="the import plan")
        text = screen_text(app)
        assert "to send" in text and "invalid" in text and "duplicates" in text and "opted out" in text
        assert "flyer.txt" in text and "row 4: invalid" in text
        s = wiz.plan.summary()
        assert (s["queued"], s["invalid"], s["duplicates"], s["opted_out"]) == (2, 1, 1, 1)
        # back and forth keeps the state
        await pilot.press("ctrl+b")
        assert wiz.step == "attachment"
        await pilot.press("enter")
        await await_until(pilot, lambda: wiz.plan is not None)
        # 5. name and create
        wiz.query_one("#job-name").value = "spring promo"
        await pilot.press("enter")
        await await_until(pilot, lambda: not isinstance(app.screen, NewJobScreen), what="wizard closed")
    jobs = env.store.jobs()
    new = jobs[0]
    # importer.create_job_from_plan (shared with the CLI) made the job: 2 queued messages
    assert new["name"] == "spring promo" and new["counts"]["pending"] == 2
    assert new["attachment"] == str(attachment.resolve())
    texts = {m["phone"]: m["text"] for m in env.store.iter_messages(new["id"]) if m["status"] == "pending"}
    assert texts["+14155550101"].split(" ", 1)[1] == "Asha from Pune!"
    assert texts["+14155550102"].split(" ", 1)[1] == "Ravi from Goa!"
    assert {t.split(" ", 1)[0] for t in texts.values()} <= {"Hi", "Hello"}


@aio
async def test_the_summary_appears_once_the_name_field_has_the_focus(env: Env) -> None:
    """What a person types on seeing the summary goes to the job's name (focus() takes
    effect later: keys typed at once used to reach the attachment step's field)."""
    csv = write_csv(env.tmp)
    app = env.app()
    async with app.run_test(size=(100, 30)) as pilot:
        wiz = await wizard_at_columns(pilot, app, csv)
        await pilot.press("enter")
        await await_until(pilot, lambda: wiz.step == "template", what="template step")
        wiz.query_one("#template-editor", TextArea).text = "Hi {Name}"
        await pilot.pause()
        await pilot.press("ctrl+n")
        assert wiz.step == "attachment"
        summary = wiz.query_one("#summary-text")
        focused_when_shown: list[str | None] = []
        shown = summary.update

        def update(content: object = "", **kw: object) -> None:
            if "to send" in str(content):
                focused_when_shown.append(app.focused.id if app.focused else None)
            shown(content, **kw)  # type: ignore[arg-type]

        summary.update = update  # type: ignore[method-assign]
        await pilot.press("enter")  # no attachment
        await await_until(pilot, lambda: bool(focused_when_shown), what="the summary")
        assert focused_when_shown == ["job-name"]
        await pilot.press(*"quick")
        assert wiz.query_one("#job-name").value == "quick"


@aio
async def test_new_job_wizard_can_change_the_phone_column_and_cancel(env: Env) -> None:
    csv = write_csv(env.tmp)
    app = env.app()
    async with app.run_test(size=(100, 30)) as pilot:
        wiz = await wizard_at_columns(pilot, app, csv)
        await pilot.press("down", "enter")  # City: no phone numbers in it
        await await_until(
            pilot,
            lambda: wiz.step == "template" or "phone" in str(wiz.query_one("#columns-error").render()),
            what="column change",
        )
        assert wiz.table.phone_column == "City"
        await pilot.press("escape")
        assert not isinstance(app.screen, NewJobScreen)
    assert len(env.store.jobs()) == 3


@aio
async def test_config_editor_validates_saves_atomically_and_restarts(env: Env) -> None:
    path = env.cfg.path
    original = path.read_text()
    app = env.app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, app)
        await pilot.press("c")
        assert isinstance(app.screen, ConfigScreen)
        screen = app.screen
        editor = screen.query_one("#config-editor", TextArea)
        await await_until(pilot, lambda: editor.text == original, what="config loaded")
        assert editor.language == "toml" or editor.language is None
        # a bad value: error names key and line, nothing written
        editor.text = original.replace("delay_max = 8.0", 'delay_max = "soon"')
        await pilot.press("ctrl+s")
        await await_until(pilot, lambda: "sending.delay_max" in screen_text(app), what="the error")
        text = screen_text(app)
        assert "Not saved" in text and "line" in text
        assert path.read_text() == original
        assert not (env.cfg.paths.run_dir / "restart").exists()
        assert editor.cursor_location[0] == original.splitlines().index("delay_max = 8.0")
        # a good change: written, comments kept, restart requested
        editor.text = original.replace("delay_max = 8.0", "delay_max = 9.5")
        await pilot.press("ctrl+s")
        await await_until(pilot, lambda: (env.cfg.paths.run_dir / "restart").exists(), what="run/restart")
        assert "delay_max = 9.5" in path.read_text()
        assert "# Random delay between two messages" in path.read_text()
        assert settings.load(path).sending.delay_max == 9.5
        assert not list(path.parent.glob(".config.toml.*"))  # no temporary file left
        # the form changes values through tomlkit, keeping the comments
        (env.cfg.paths.run_dir / "restart").unlink()
        screen.query_one("#form-daily_cap").value = "250"
        screen.query_one("#form-daily_cap").focus()
        await pilot.press("enter")
        await await_until(pilot, lambda: (env.cfg.paths.run_dir / "restart").exists(), what="form save")
        saved = path.read_text()
        assert "daily_cap = 250" in saved and "# Most messages sent per local calendar day" in saved
        # unsaved changes: Esc asks
        editor.text = editor.text + "\n# scratch\n"
        await pilot.press("escape")
        await pilot.press("y")
        await pilot.pause()
        assert app.screen is app.screen_stack[0]


def test_set_values_keeps_comments() -> None:
    text = "# top\n[sending]\n# the delay\ndelay_min = 4.0 # inline\n"
    out = set_values(text, {("sending", "delay_min"): 1.5, ("sending", "daily_cap"): 10})
    assert "# top" in out and "# the delay" in out and "delay_min = 1.5" in out and "daily_cap = 10" in out


def test_qr_half_blocks_black_on_white_with_quiet_zone() -> None:
    import segno

    lines = qrdraw.lines("hello")
    n = segno.make_qr("hello", error="l").symbol_size(border=0)[0]
    assert len(lines[0]) == n + 8 and len(lines) == (n + 8 + 1) // 2
    assert set("".join(lines)) <= set(" ▀▄█")
    assert lines[0].strip() == "" and lines[1].strip() == ""  # quiet zone rows
    assert all(line[:4] == "    " for line in lines)
    # round trip: the drawing decodes back to the module matrix
    m = qrdraw.matrix("hello")
    for y, line in enumerate(lines):
        for x, ch in enumerate(line):
            assert (ch in "▀█") == m[2 * y][x]
            if 2 * y + 1 < len(m):
                assert (ch in "▄█") == m[2 * y + 1][x]
    text = qrdraw.render("hello")
    assert (
        all(
            str(span.style.color.triplet.hex) == "#000000" and span.style.bgcolor.triplet.hex == "#ffffff"
            for span in text.spans
        )
        or str(text.style) == ""
    )
    styles = {str(s.style) for s in text.spans}
    assert styles == {"#000000 on #ffffff"}


@aio
async def test_qr_modal_opens_redraws_and_closes_on_login(env: Env) -> None:
    logins: list[int] = []

    class Demo:
        def login(self) -> None:
            logins.append(1)

    env.store.heartbeat("w1", state="waiting_for_login", qr=QR_DATA, info={"login": "waiting for QR scan"}, now=NOW - 1)
    app = env.app(demo=Demo())
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, app)
        await await_until(pilot, lambda: isinstance(app.screen, QRScreen), what="the QR modal")
        first = screen_text(app)
        assert "Scan with WhatsApp" in first and "▀" in first
        env.store.heartbeat("w1", qr=QR_DATA.replace("A", "Z"), now=NOW - 1)
        await await_until(pilot, lambda: app.screen.data.startswith("2@Z"), what="redraw")
        assert screen_text(app) != first
        await pilot.press("enter")  # demo: as if scanned
        await await_until(pilot, lambda: logins == [1], what="demo login")
        env.store.heartbeat("w1", state="ready", qr=None, info={"login": "logged_in"}, now=NOW - 1)
        await await_until(pilot, lambda: not isinstance(app.screen, QRScreen), what="modal closed on login")


@aio
async def test_qr_modal_too_small_says_the_size_and_can_be_hidden(env: Env) -> None:
    env.store.heartbeat("w1", state="waiting_for_login", qr=QR_DATA, now=NOW - 1)
    app = env.app()
    async with app.run_test(size=(60, 20)) as pilot:
        await settle(pilot, app)
        await await_until(pilot, lambda: isinstance(app.screen, QRScreen))
        w, h = app.screen.needed()
        assert f"need at least {w}×{h}" in screen_text(app)
        await pilot.press("escape")
        await settle(pilot, app, 2)
        assert not isinstance(app.screen, QRScreen)  # hidden stays hidden
        await pilot.press("L")
        assert isinstance(app.screen, QRScreen)
