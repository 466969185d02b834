"""Pilot tests of the dashboard: the main screen, every key, paging and the live refresh."""

from __future__ import annotations

import sys
import types

import pytest

from dashboard.components.confirm import ConfirmScreen
from dashboard.components.export_modal import ExportScreen
from dashboard.components.help_screen import HelpScreen
from dashboard.components.log_screen import LogScreen
from dashboard.components.messages_table import MessagesTable, parse_filter
from tests.support.dashboard import NOW, SUP_STOPPED, T0, Env, aio, settle
from tests.support.textshot import screen_text
from tests.support.waiting import await_until

pytestmark = pytest.mark.usefixtures("utc")


@aio
async def test_main_screen_shows_jobs_messages_worker_and_events(env: Env) -> None:
    app = env.app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, app)
        text = screen_text(app)
        assert "campaign 2" in text and "campaign 0" in text
        assert "paused" in text and "running" in text
        # the newest job is selected: its first messages are listed
        assert "+15552000000" in text
        assert "Supervisor running" in text and "pid 4242" in text
        assert "restarts 1" in text and "12.5%" in text and "logged in" in text
        assert "in 40s" in text  # next send
        assert "message 319 sent" in text  # the newest event, at the bottom
        for key in (
            "n New",
            "p Pause",
            "s Stop",
            "w Worker",
            "P All",
            "e Export",
            "c Config",
            "l Log",
            "/ Find",
            "? Help",
            "q Quit",
        ):
            assert key in text


@aio
async def test_messages_show_sent_time_and_error_and_eta(env: Env) -> None:
    app = env.app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, app)
        await pilot.press("down")  # job 2: the one that sent
        await await_until(pilot, lambda: "+15551000000" in screen_text(app), what="job 2's messages")
        text = screen_text(app)
        assert "20:26:51" in text  # sent_at of the first message (UTC)
        assert "chat did not open" in text
        job2 = app.jobs.get_row("2")
        assert job2[4] == "18" and str(job2[5]) == "1"
        assert job2[10] != "-"  # an ETA from the pace of the last sends


@aio
async def test_cells_update_in_place_cursor_stays(env: Env) -> None:
    app = env.app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, app)
        await pilot.press("down")
        await await_until(pilot, lambda: app.view.job_id == 2)
        await settle(pilot, app)
        table = app.query_one(MessagesTable)
        table.focus()
        for _ in range(5):
            await pilot.press("down")
        assert table.cursor_row == 5
        keys_before = table.keys
        # the worker sends one more message of job 2
        m = env.store.claim("w1", now=T0 + 40)
        env.store.mark_sent(m["id"], now=T0 + 41)
        await settle(pilot, app, 2)
        assert table.keys == keys_before  # no rebuild
        assert table.cursor_row == 5
        assert str(table.get_row(str(m["id"]))[2]) == "sent"
        assert str(app.jobs.get_row("2")[4]) == "19"


@aio
async def test_keyset_paging_never_loads_everything(env: Env) -> None:
    app = env.app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, app)
        table = app.query_one(MessagesTable)
        table.focus()
        assert table.row_count == 100  # one page of the 300 messages
        first_page = table.keys
        await pilot.press("pagedown")
        await await_until(pilot, lambda: table.keys != first_page, what="next page")
        assert table.row_count == 100 and int(table.keys[0]) == int(first_page[-1]) + 1
        assert table.cursor_row == 0
        await pilot.press("end")
        await await_until(pilot, lambda: table.keys[-1] == "900", what="last page")
        assert table.cursor_row == table.row_count - 1
        # down past the last row of the last page: stays
        await pilot.press("down")
        await settle(pilot, app)
        assert table.keys[-1] == "900"
        # up past the first row loads the previous page, cursor on its last row
        await pilot.press("home")
        await await_until(pilot, lambda: table.keys == first_page, what="first page")
        await pilot.press("pagedown")
        await await_until(pilot, lambda: table.keys != first_page)
        await pilot.press("up")
        await await_until(pilot, lambda: table.keys == first_page, what="previous page")
        assert table.cursor_row == table.row_count - 1


@aio
async def test_filter_by_status_and_search(env: Env) -> None:
    app = env.app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, app)
        await pilot.press("down")
        await await_until(pilot, lambda: app.view.job_id == 2)
        await pilot.press("slash")
        await pilot.press(*"failed")
        table = app.query_one(MessagesTable)
        await await_until(pilot, lambda: table.row_count == 1, what="the failed message")
        assert "status=failed" in screen_text(app)
        await pilot.press("enter")
        assert table.has_focus
        await pilot.press("escape")
        await await_until(pilot, lambda: table.row_count == 100, what="filter cleared")
        await pilot.press("slash", *"Person 29")
        await await_until(pilot, lambda: table.row_count == 11, what="search")  # 29, 290..299
        await pilot.press("escape")
        await pilot.press("f")  # status filter cycles: pending
        await await_until(pilot, lambda: app.view.status == "pending")
        await pilot.press("f", "f", "f")  # sending, sent
        await await_until(pilot, lambda: app.view.status == "retrying")


def test_parse_filter() -> None:
    assert parse_filter("failed alice") == ("failed", "alice")
    assert parse_filter("is:sent +1555") == ("sent", "+1555")
    assert parse_filter("Bob") == (None, "Bob")


@aio
async def test_p_pauses_and_resumes_the_selected_job(env: Env) -> None:
    app = env.app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, app)
        assert app.jobs.selected_job_id() == 3
        await pilot.press("p")
        await await_until(pilot, lambda: env.store.get_job(3)["status"] == "paused")
        await await_until(pilot, lambda: "paused" in str(app.jobs.get_row("3")[2]), what="row updated")
        await pilot.press("p")
        await await_until(pilot, lambda: env.store.get_job(3)["status"] == "running")


@aio
async def test_s_asks_then_stops(env: Env) -> None:
    app = env.app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, app)
        await pilot.press("s")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        await pilot.pause()
        assert env.store.get_job(3)["status"] == "running"
        await pilot.press("s")
        await pilot.press("y")
        await await_until(pilot, lambda: env.store.get_job(3)["status"] == "stopped")


@aio
async def test_r_retries_failed(env: Env) -> None:
    app = env.app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, app)
        await pilot.press("down")
        await await_until(pilot, lambda: app.jobs.selected_job_id() == 2)
        await pilot.press("r")
        await await_until(pilot, lambda: env.store.counts(2)["failed"] == 0)


@aio
async def test_w_starts_the_worker_when_stopped_and_asks_before_stopping(env: Env, monkeypatch) -> None:
    calls: list[tuple] = []
    fake = types.ModuleType("supervisor")

    class AlreadyRunning(Exception):
        pass

    fake.AlreadyRunning = AlreadyRunning
    fake.start_detached = lambda ctx: calls.append(("start", ctx.config_path, ctx.db_override)) or 777
    fake.stop = lambda cfg, timeout=None: calls.append(("stop",)) or True
    monkeypatch.setitem(sys.modules, "supervisor", fake)
    env.sup = dict(SUP_STOPPED)
    app = env.app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, app)
        assert "not running" in screen_text(app)
        await pilot.press("w")
        # The supervisor gets the dashboard's own run context: its config file and database.
        await await_until(
            pilot, lambda: calls == [("start", env.cfg.path, env.cfg.paths.database)], what="start_detached"
        )
        from tests.support.dashboard import SUP_RUNNING

        env.sup = dict(SUP_RUNNING)
        await settle(pilot, app, 2)
        await pilot.press("w")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await await_until(pilot, lambda: calls[-1] == ("stop",), what="supervisor.stop")


@aio
async def test_shift_p_toggles_the_pause_signal_file(env: Env) -> None:
    flag = env.cfg.paths.run_dir / "pause"
    app = env.app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, app)
        await pilot.press("P")
        await await_until(pilot, flag.exists, what="run/pause")
        await await_until(pilot, lambda: "PAUSED (all)" in screen_text(app))
        await pilot.press("P")
        await await_until(pilot, lambda: not flag.exists(), what="run/pause removed")


@aio
async def test_e_exports_with_the_shared_exporter(env: Env) -> None:
    app = env.app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, app)
        await pilot.press("down")
        await await_until(pilot, lambda: app.jobs.selected_job_id() == 2)
        await pilot.press("e")
        assert isinstance(app.screen, ExportScreen)
        box = app.screen.query_one("#export-path")
        assert box.value.endswith("campaign_1-2-results.csv")
        out = env.tmp / "out.csv"
        box.value = str(out)
        await pilot.press("enter")
        await await_until(pilot, out.exists, what="the CSV")
        lines = out.read_text(encoding="utf-8-sig").splitlines()
        assert (
            lines[0]
            == "phone,name,status,attempts,sent_at,error,review,replies,last_reply,last_reply_at,opted_out_by_reply"
            and len(lines) == 301
        )


@aio
async def test_e_rejects_a_missing_directory(env: Env) -> None:
    app = env.app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, app)
        await pilot.press("e")
        app.screen.query_one("#export-path").value = str(env.tmp / "nope" / "x.csv")
        await pilot.press("enter")
        assert isinstance(app.screen, ExportScreen)
        assert "directory not found" in screen_text(app)
        await pilot.press("escape")
        assert not isinstance(app.screen, ExportScreen)


@aio
async def test_l_shows_the_full_log(env: Env) -> None:
    (env.cfg.paths.log_dir).mkdir(parents=True)
    (env.cfg.paths.log_dir / "worker.log").write_text("line one\nline two of the worker log\n")
    app = env.app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, app)
        await pilot.press("l")
        assert isinstance(app.screen, LogScreen)
        await await_until(pilot, lambda: "line two of the worker log" in screen_text(app))
        assert "chat did not open" in screen_text(app) or "events" in screen_text(app)
        await pilot.press("escape")
        assert not isinstance(app.screen, LogScreen)


@aio
async def test_help_lists_every_key(env: Env) -> None:
    app = env.app()
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot, app)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        text = screen_text(app)
        for key in ("n ", "p ", "s ", "w ", "P ", "e ", "c ", "l ", "/ ", "? ", "q "):
            assert f" {key}" in text
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)


@aio
async def test_command_palette_lists_the_actions(env: Env) -> None:
    app = env.app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, app)
        titles = [c.title for c in app.get_system_commands(app.screen)]
        for t in (
            "New job",
            "Pause / resume job",
            "Stop job",
            "Start / stop worker",
            "Pause / resume all sending",
            "Export results",
            "Edit config",
            "Full log",
            "Keys",
        ):
            assert t in titles
        await pilot.press("ctrl+p")
        await pilot.press(*"full log")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await await_until(pilot, lambda: isinstance(app.screen, LogScreen), what="log from the palette")


@aio
async def test_q_quits_and_says_the_worker_keeps_running(env: Env) -> None:
    app = env.app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, app)
        await pilot.press("q")
        await pilot.pause()
    assert app.return_code == 0
    assert "keeps running" in app.exit_note and "4242" in app.exit_note


@aio
async def test_empty_database_says_how_to_start(empty_env: Env) -> None:
    empty_env.sup = None
    app = empty_env.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        text = screen_text(app)
        assert "0 jobs" in text and "no job selected" in text and "w starts the worker" in text
        assert "no jobs yet: n creates one" in text
        await pilot.press("p")  # nothing selected: a warning, no crash
        await pilot.press("e")
        await pilot.pause()
        assert app.screen is app.screen_stack[0]


@aio
async def test_a_broken_database_read_is_reported_not_fatal(env: Env, monkeypatch) -> None:
    app = env.app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, app)
        calls = {"n": 0}
        original = env.store.jobs

        def flaky():
            calls["n"] += 1
            if calls["n"] == 1:
                raise RuntimeError("database is locked")
            return original()

        monkeypatch.setattr(env.store, "jobs", flaky)
        app.refresh_now()
        # (a snapshot read before the patch may land first: wait for the read after the failure)
        await await_until(pilot, lambda: calls["n"] >= 2, 8, "a read after the failed one")
        await settle(pilot, app, 1, timeout=8)  # and the dashboard goes on applying snapshots


@aio
async def test_v_decides_on_an_unknown_message_and_the_job_counts_them(env: Env) -> None:
    from dashboard.components.review_modal import ReviewScreen

    m = env.store.claim("w1", now=NOW - 30)
    env.store.mark_clicking(m["id"], worker_id="w1", now=NOW - 29)
    env.store.mark_unknown(m["id"], "no tick within 60 s", worker_id="w1", now=NOW - 20)
    env.store.note_undetermined(m["id"], "a bubble with this text has no readable time", now=NOW - 10)
    app = env.app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, app)
        await pilot.press("down")
        await await_until(pilot, lambda: app.jobs.selected_job_id() == m["job_id"])
        header = screen_text(app).splitlines()[1]
        assert "Unk" in header
        await pilot.press("tab", "slash", *"unknown", "enter")
        table = app.query_one(MessagesTable)
        await await_until(pilot, lambda: table.row_count == 1, what="the unknown message")
        await pilot.press("v")
        await await_until(pilot, lambda: isinstance(app.screen, ReviewScreen))
        text = "\n".join(str(w.render()) for w in app.screen.query("Static"))
        assert "was it sent?" in text and "no readable time" in text
        await pilot.press("s")
        await await_until(pilot, lambda: env.store.message(m["id"])["status"] == "sent", what="marked sent")
        assert env.store.message(m["id"])["last_error"] == "marked sent by a person"


@aio
async def test_a_selector_stop_shows_in_the_worker_panel_and_A_sends_again(env: Env) -> None:
    env.store.heartbeat(
        "w1",
        state="needs_attention",
        info={"login": "logged_in", "key": "send_button", "detail": "selector 'send_button' failed"},
        now=NOW - 1,
    )
    env.store.put_attention("default", {"key": "send_button", "messages": [1, 2, 3]})
    app = env.app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, app)
        text = screen_text(app)
        assert "needs_attention" in text and "selector send_button" in text
        assert "D: doctor" in text and "A: try again" in text
        await pilot.press("A")
        await await_until(pilot, lambda: env.store.get_attention("default") is None, what="attention cleared")


def _doctor_report() -> dict:
    def key(name, state, status, fallback=None, count=0, visible=False, note="", proposal=()):
        return {
            "key": name,
            "state": state,
            "status": status,
            "fallback": fallback,
            "count": count,
            "visible": visible,
            "note": note,
            "proposal": list(proposal),
        }

    return {
        "source": "live",
        "seconds": 2.4,
        "number": "+15550100000",
        "written": False,
        "backup": None,
        "keys": [
            key("chat_list", "chat list", "ok", 1, 1, True),
            key(
                "send_button",
                "compose with text",
                "failed",
                note="found by role and label",
                proposal=["#main footer div[role='button'][aria-label='{Send}']"],
            ),
            key("outgoing_message", "bubble", "ok", 2, 3, True),
            key("qr_code", "login page", "not checkable", note="logged in"),
        ],
    }


@aio
async def test_D_opens_the_doctor_and_w_writes_its_finding_and_restarts_the_worker(env: Env) -> None:
    import settings
    from common import runfiles

    env.store.heartbeat(
        "w1",
        state="needs_attention",
        info={"login": "logged_in", "key": "send_button", "detail": "selector 'send_button' failed"},
        now=NOW - 1,
    )
    env.store.put_attention("default", {"key": "send_button", "messages": [1]})
    calls = []

    def fake_doctor(ctx):
        calls.append(ctx.config_path)
        return _doctor_report()

    app = env.app(doctor=fake_doctor)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, app)
        await pilot.press("D")
        await await_until(pilot, lambda: app.screen.query("#doctor-tail"), what="doctor report")
        text = screen_text(app)
        assert "send_button" in text and "FAIL" in text and "Found: send_button" in text
        assert "nothing was sent" in text
        assert calls == [env.cfg.path.resolve()]
        await pilot.press("w")
        await await_until(pilot, lambda: env.store.get_attention("default") is None, what="attention cleared")
        await await_until(
            pilot, lambda: runfiles.flag(env.cfg.paths.run_dir, runfiles.RESTART).exists(), what="restart asked"
        )
    cfg = settings.load(env.cfg.path)
    assert cfg.selectors["send_button"][0] == "#main footer div[role='button'][aria-label='{Send}']"
    assert len(cfg.selectors["send_button"]) > 1  # the old ones stay after it
    assert list(env.cfg.path.parent.glob("config.toml.bak-*"))


@aio
async def test_the_doctor_screen_says_when_the_doctor_could_not_run(env: Env) -> None:
    def failing(ctx):
        raise RuntimeError("the browser profile is in use: stop the worker first")

    app = env.app(doctor=failing)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, app)
        await pilot.press("D")
        await await_until(pilot, lambda: "could not run" in screen_text(app), what="error shown")
        assert "profile is in use" in screen_text(app)
        await pilot.press("w")  # nothing to write: no file changes
        await pilot.pause()
    assert not list(env.cfg.path.parent.glob("config.toml.bak-*"))


@aio
async def test_rep_column_and_a_contacts_replies_view(env: Env) -> None:
    from dashboard.components.replies_modal import RepliesScreen

    job2 = [m for m in env.store.iter_messages(2) if m.status == "sent"]
    a, b = job2[0], job2[1]
    env.store.add_replies(
        "default",
        a.phone,
        {"id": a.id, "job_id": 2},
        [
            {"wa_id": "x1", "text": "Thanks! Which sizes?", "at": T0 + 100},
            {"wa_id": "x2", "text": "STOP", "at": T0 + 160, "flag": "optout"},
        ],
        now=T0 + 170,
    )
    env.store.add_replies(
        "default",
        b.phone,
        {"id": b.id, "job_id": 2},
        [{"wa_id": "y1", "text": "stop sending me offers pls", "flag": "unclear"}],
        now=T0 + 180,
    )
    app = env.app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, app)
        await pilot.press("down")
        await await_until(pilot, lambda: app.view.job_id == 2)
        await settle(pilot, app)
        assert str(app.jobs.get_row("2")[9]) == "2"  # two numbers replied
        table = app.query_one(MessagesTable)
        table.focus()
        table.move_cursor(row=table.keys.index(str(a.id)))
        await pilot.press("R")
        await await_until(pilot, lambda: isinstance(app.screen, RepliesScreen), what="the replies view")
        text = screen_text(app)
        assert "2 replies" in text and "Thanks! Which sizes?" in text and "STOP" in text and "opted out" in text
        assert a.text[:20] in text  # our message first
        await pilot.press("escape")
        await await_until(pilot, lambda: not isinstance(app.screen, RepliesScreen), what="closed")
