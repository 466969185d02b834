"""The dashboard with several WhatsApp accounts: the accounts table (worker, login, sent
today / cap), the worker panel following the selected account, `a` pausing one account,
a login QR per account that says whose it is, and jobs that name their accounts."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

import settings
from common import runfiles
from dashboard.components.qr_modal import QRScreen
from store import Store
from tests.support.dashboard import CONFIG_TEXT, NOW, T0, Env, aio, settle
from tests.support.textshot import screen_text
from tests.support.waiting import await_until

pytestmark = pytest.mark.usefixtures("utc")

ACCOUNTS = """
[[accounts]]
name = "north"
daily_cap = 50

[[accounts]]
name = "south"

[[accounts]]
name = "spare"
enabled = false
"""
QR_N = "2@north" + "A" * 80 + ",k1,k2,k3"
QR_S = "2@south" + "B" * 80 + ",k1,k2,k3"


class AccountsEnv(Env):
    def __init__(self, tmp: Path) -> None:
        path = tmp / "config.toml"
        path.write_text(CONFIG_TEXT.replace("daily_cap = 0", "daily_cap = 120") + ACCOUNTS, encoding="utf-8")
        cfg = settings.load(path)
        self.tmp = tmp
        self.cfg = dataclasses.replace(
            cfg,
            paths=dataclasses.replace(
                cfg.paths, database=tmp / "data" / "t.db", run_dir=tmp / "run", log_dir=tmp / "logs"
            ),
        )
        self.store = Store(self.cfg.paths.database)
        self.sup = {
            "pid": 4242,
            "state": "running",
            "alive": True,
            "restarts": 0,
            "workers": {
                "north": {
                    "state": "running",
                    "worker_pid": 11,
                    "uptime": 60.0,
                    "restarts": 2,
                    "cpu_percent": 3.0,
                    "memory_mb": 280.0,
                    "browser_processes": 6,
                },
                "south": {
                    "state": "starting",
                    "worker_pid": 12,
                    "uptime": 5.0,
                    "restarts": 0,
                    "cpu_percent": 1.0,
                    "memory_mb": 120.0,
                    "browser_processes": 3,
                },
            },
        }
        self.demo_logins = 0
        s = self.store
        s.sync_accounts({"north": True, "south": True, "spare": False}, now=T0)
        s.account_seen("north", "logged_in", now=T0)
        s.account_seen("south", "logged_out", now=T0)
        s.create_job("everyone", "Hi", [{"phone": f"+1202555{i:04d}", "text": "Hi"} for i in range(10)], now=T0)
        s.create_job(
            "south only",
            "Yo",
            [{"phone": f"+1202556{i:04d}", "text": "Yo"} for i in range(3)],
            accounts=["south"],
            now=T0 + 1,
        )
        s.refresh_waiting(now=T0 + 1)  # as a worker does every few seconds
        for i in range(4):
            m = s.claim("wn", account="north", now=T0 + 2 + i)
            s.mark_sent(m["id"], now=T0 + 3 + i)
        s.register_worker("wn", 11, account="north", now=T0)
        s.heartbeat("wn", state="waiting", info={"login": "logged_in", "next_send_at": NOW + 30}, now=NOW - 1)
        s.register_worker("ws", 12, account="south", now=T0)
        s.heartbeat("ws", state="waiting_for_login", qr=QR_S, info={"login": "logged_out"}, now=NOW - 1)


@pytest.fixture
def aenv(tmp_path: Path) -> AccountsEnv:
    return AccountsEnv(tmp_path)


@aio
async def test_the_accounts_table_the_worker_panel_follows_it_and_a_pauses_one(aenv: AccountsEnv) -> None:
    app = aenv.app()
    async with app.run_test(size=(110, 36)) as pilot:
        await settle(pilot, app)
        if isinstance(app.screen, QRScreen):  # south waits for a login: its QR opens first
            await pilot.press("escape")
        await settle(pilot, app)
        text = screen_text(app)
        assert "Accounts · 1 to log in (L)" in text
        assert "north" in text and "4/50" in text and "logged in" in text
        assert "south" in text and "0/120" in text and "logged out" in text
        assert "spare" in text and "disabled" in text
        assert "Worker · north" in text and "restarts 2" in text
        assert "everyone" in text and "job 2 (by south)" in text
        assert "login?" in text  # south's job waits for south
        app.query_one("#accounts").focus()
        await pilot.press("down")
        await settle(pilot, app, 2)
        text = screen_text(app)
        assert "Worker · south" in text and "waiting_for_login" in text
        await pilot.press("a")
        own = runfiles.account_dir(aenv.cfg.paths.run_dir, "south")
        await await_until(pilot, lambda: runfiles.is_set(own, runfiles.PAUSE), what="south's pause file")
        assert not runfiles.is_set(aenv.cfg.paths.run_dir, runfiles.PAUSE)  # the others go on
        await settle(pilot, app, 2)
        assert "paused" in screen_text(app)
        await pilot.press("a")
        await await_until(pilot, lambda: not runfiles.is_set(own, runfiles.PAUSE), what="resumed")


@aio
async def test_a_qr_per_account_says_whose_it_is_and_moves_on_to_the_next(aenv: AccountsEnv) -> None:
    s = aenv.store
    s.heartbeat("wn", state="waiting_for_login", qr=QR_N, info={"login": "logged_out"}, now=NOW - 1)
    app = aenv.app()
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot, app)
        await await_until(pilot, lambda: isinstance(app.screen, QRScreen), what="a QR")
        assert app.screen.account_key == "north"
        await await_until(pilot, lambda: "Account north" in screen_text(app), what="its title")
        s.heartbeat("wn", state="waiting", qr=None, info={"login": "logged_in"}, now=NOW - 0.5)
        await await_until(
            pilot,
            lambda: isinstance(app.screen, QRScreen) and app.screen.account_key == "south",
            what="south's QR next",
        )
        await await_until(pilot, lambda: "Account south" in screen_text(app), what="its title")
        await pilot.press("escape")
        await settle(pilot, app)
        assert not isinstance(app.screen, QRScreen)
        await pilot.press("L")
        assert isinstance(app.screen, QRScreen) and app.screen.account_key == "south"


@aio
async def test_the_new_job_wizard_asks_which_accounts_may_send_it(aenv: AccountsEnv) -> None:
    from textual.widgets import SelectionList

    from dashboard.components.new_job import NewJobScreen

    csv = aenv.tmp / "c.csv"
    csv.write_text("phone,name\n+14155550101,Asha\n+14155550102,Ravi\n", encoding="utf-8")
    aenv.store.heartbeat("ws", state="waiting", qr=None, now=NOW - 1)  # no QR in the way
    app = aenv.app()
    async with app.run_test(size=(100, 36)) as pilot:
        await settle(pilot, app)
        await pilot.press("n")
        wiz = app.screen
        assert isinstance(wiz, NewJobScreen)
        wiz.query_one("#file-path").value = str(csv)
        await pilot.press("enter")
        await await_until(pilot, lambda: wiz.step == "columns", what="columns step")
        await pilot.press("enter")
        await await_until(pilot, lambda: wiz.step == "template", what="template step")
        await pilot.press("ctrl+n")
        await await_until(pilot, lambda: wiz.step == "attachment", what="attachment step")
        await pilot.press("enter")
        await await_until(pilot, lambda: wiz.plan is not None, what="the plan")
        picker = wiz.query_one("#job-accounts", SelectionList)
        assert [picker.get_option_at_index(i).value for i in range(picker.option_count)] == ["north", "south"]
        assert "none ticked: any account" in screen_text(app)  # "spare" is disabled: not offered
        picker.focus()
        await pilot.press("down", "space")  # tick south
        wiz.query_one("#job-name").value = "for south"
        wiz.query_one("#job-name").focus()
        await pilot.press("enter")
        await await_until(pilot, lambda: not isinstance(app.screen, NewJobScreen), what="wizard closed")
    job = next(j for j in aenv.store.jobs() if j["name"] == "for south")
    assert job["accounts"] == ["south"]


@aio
async def test_other_hosts_accounts_are_shown_with_their_host_and_a_vanished_one_as_lost(
    aenv: AccountsEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(runfiles.HOST_VAR, "hostA")
    s = aenv.store
    s.heartbeat("ws", state="waiting", qr=None, now=NOW - 1)  # no QR in the way
    s.register_worker("hostB:west:7:1", 7, account="west", host="hostB", now=NOW - 50)
    s.heartbeat("hostB:west:7:1", state="sending", info={"cap_today": 40, "sent_today": 3}, now=NOW - 2)
    s.register_worker("hostC:east:8:1", 8, account="east", host="hostC", now=NOW - 500)
    s.heartbeat("hostC:east:8:1", state="sending", now=NOW - 100)
    app = aenv.app()
    async with app.run_test(size=(110, 40)) as pilot:
        await settle(pilot, app)
        text = screen_text(app)
        assert "@hostB" in text and "lost" in text and "0/40" in text
        assert "Accounts · 1 to log in (L)" in text  # south; not the other hosts' accounts
        table = app.query_one("#accounts")
        table.focus()
        keys = [table.coordinate_to_cell_key((r, 0)).row_key.value for r in range(table.row_count)]
        assert keys == ["north", "south", "spare", "east", "west"]
        for _ in range(3):
            await pilot.press("down")
        await settle(pilot, app, 2)
        text = screen_text(app)
        assert "Worker · east" in text and "hostC  lost" in text and "no heartbeat for 100 s" in text
        assert "w starts the worker" not in text  # nothing to start here for another host's account
        await pilot.press("down")
        await settle(pilot, app, 2)
        assert "hostB  another host" in screen_text(app)
        await pilot.press("a")  # pausing another host's account is done there
        await settle(pilot, app, 2)
        assert not runfiles.account_dir(aenv.cfg.paths.run_dir, "west").exists()
        assert not runfiles.is_set(aenv.cfg.paths.run_dir, runfiles.PAUSE)


@aio
async def test_an_account_limited_by_whatsapp_shows_its_limit_and_the_time_left(aenv: AccountsEnv) -> None:
    aenv.store.set_account_limit(
        "north", "restricted", until=NOW + 2 * 3600 + 30, reason="Your account is restricted.", now=NOW - 5
    )
    app = aenv.app()
    async with app.run_test(size=(110, 36)) as pilot:
        await settle(pilot, app)
        if isinstance(app.screen, QRScreen):
            await pilot.press("escape")
        await settle(pilot, app)
        text = screen_text(app)
        assert "1 limited by WhatsApp" in text
        row = next(line for line in text.splitlines() if "north" in line and "restricted" in line)
        assert "2h00m" in row  # in place of its login; its next send is the restriction's end
