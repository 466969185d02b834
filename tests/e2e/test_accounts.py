"""Several WhatsApp accounts against one simulator, each browser its own linked device:
each account's login by its own QR, its own daily cap and warm-up (fake clock) while the
others go on, and the chaos run of issue 12 (3 accounts, 150 messages, 10 worker
SIGKILLs, one account logged out mid-job with a message in doubt) with 0 lost and 0
duplicated, the doubtful message verified by the account that clicked it."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import time
from pathlib import Path

import pytest

import settings
from simulator import Simulator
from store import Store
from tests.support.accounts import in_doubt, ledger_accounts, log_in, scan_waiting, sigkill_worker
from tests.support.config import ACCOUNTS_SUPERVISED, write_config
from tests.support.exactly_once import assert_at_most_once, assert_each_sent_once_by_its_account
from tests.support.paths import PY, ROOT
from tests.support.processes import Supervised
from tests.support.qrread import decode, paint
from tests.support.waiting import holds_for, wait_until
from tests.support.workers import WorkerThread
from worker.clock import FakeClock

NUMBERS = {"north": "+15550100011", "south": "+15550100022", "east": "+15550100033"}


@pytest.mark.browser
def test_an_account_at_its_cap_sends_nothing_more_that_day_while_the_other_goes_on(
    tmp_path: Path, no_leftover_browsers: None
) -> None:
    sim = Simulator(port=0, boot_time=0.2, ack_delay=0.05, dblcheck_delay=0.1).start()
    day1 = time.mktime((2030, 5, 6, 10, 0, 0, 0, 0, -1))
    clock = FakeClock(day1)
    numbers = {"north": NUMBERS["north"], "south": NUMBERS["south"]}
    try:
        # north is new: a 5-day warm-up from 3 a day to 10 a day; south has no cap.
        path = write_config(
            tmp_path,
            sim,
            sending__daily_cap=0,
            accounts={"north": {"daily_cap": 10, "warmup_days": 5, "warmup_start": 3}, "south": {}},
        )
        cfg = settings.load(path)
        store = Store(cfg.paths.database)
        workers = [WorkerThread(cfg.for_account(n), clock=clock).start() for n in numbers]

        def north_sent_at_most(n: int) -> None:
            assert store.sent_since(0, account="north") <= n

        try:
            log_in(sim, store, numbers)
            only_north = store.create_job(
                "north only",
                "t",
                [{"phone": f"+1202555{100 + i:04d}", "text": f"n{i}"} for i in range(10)],
                accounts=["north"],
            )
            anyone = store.create_job(
                "anyone", "t", [{"phone": f"+1202556{100 + i:04d}", "text": f"a{i}"} for i in range(12)]
            )
            store.refresh_waiting()
            wait_until(lambda: store.counts(anyone)["sent"] == 12, 90, "the other account finishes the job")
            wait_until(
                lambda: next(r for r in store.workers() if r["account"] == "north")["state"] == "daily_cap",
                30,
                "north at its cap",
            )
            holds_for(1.0, lambda: north_sent_at_most(3))  # north stays at its cap
            north_sent = store.sent_since(0, account="north")
            assert north_sent == 3  # day 1 of its warm-up
            info = next(r for r in store.workers() if r["account"] == "north")["info"]
            assert (info["sent_today"], info["cap_today"]) == (3, 3)
            assert ledger_accounts(sim)[NUMBERS["north"]] == 3
            assert store.counts(only_north)["sent"] == 3 - sum(
                1 for r in store.iter_messages(anyone) if r["account"] == "north"
            )
            # The next day north may send 4 (3 + (10 - 3) * 1 / 4, rounded down) more.
            clock.set(day1 + 86400)
            wait_until(lambda: store.sent_since(day1 + 43200, account="north") == 4, 60, "day 2 of the warm-up")
            holds_for(1.0, lambda: north_sent_at_most(7))
            assert store.sent_since(0, account="north") == 7 and ledger_accounts(sim)[NUMBERS["north"]] == 7
        finally:
            for w in workers:
                w.stop()
        assert_at_most_once(sim.ledger()["messages"])
        store.close()
    finally:
        sim.stop()


# ---------------------------------------------------------------------------- chaos


def supervised_accounts(tmp: Path, sim: Simulator, accounts: dict[str, dict[str, object]], **overrides: object) -> Path:
    """The real supervisor's config with one worker per account, restarted at once when killed."""
    return write_config(tmp, sim, accounts=accounts, **{**ACCOUNTS_SUPERVISED, **overrides})


@pytest.mark.browser
@pytest.mark.xdist_group("chaos-fleet")
def test_chaos_three_accounts_kills_and_a_logout_lose_nothing_and_send_nothing_twice(
    tmp_path: Path, no_leftover_browsers: None, chaos_seed: int
) -> None:
    rng = random.Random(chaos_seed)
    jitter = lambda: rng.uniform(0.0, 0.5)  # noqa: E731 (a kill comes a random moment after its worker runs)
    sim = Simulator(port=0, boot_time=0.2, ack_delay=0.8, dblcheck_delay=0.2, seed=chaos_seed).start()
    cfg_path = supervised_accounts(tmp_path, sim, {name: {} for name in NUMBERS})
    cfg = settings.load(cfg_path)
    store = Store(cfg.paths.database)
    kills: list[tuple[str, int]] = []
    try:
        with Supervised(cfg_path, tmp_path / "supervisor.out", entry="module") as run:
            log_in(sim, store, NUMBERS, timeout=90)
            job = store.create_job(
                "chaos", "Hi", [{"phone": f"+1202557{i:04d}", "text": f"chaos {i} 👋"} for i in range(150)]
            )
            store.refresh_waiting()
            sent = lambda: store.counts(job)["sent"]  # noqa: E731

            def kill(target: str) -> None:
                sigkill_worker(run, target, jitter=jitter())
                kills.append((target, sent()))

            for target in ("north", "east", "north"):  # three kills before the logout
                wait_until(lambda: sent() >= 8 * (len(kills) + 1), 120, "progress")
                kill(target)

            # south clicks a message (the server has it, no tick yet): kill its worker and log
            # the account out. Nobody else may touch that message; south verifies it later.
            doubt = wait_until(
                lambda: in_doubt(sim, store, "south", NUMBERS["south"]), 120, "south with a clicked message in doubt"
            )
            pid = run.worker_pid("south")
            assert pid is not None
            os.kill(pid, signal.SIGKILL)
            sim.logout(NUMBERS["south"])
            kills.append(("south", sent()))
            at_logout = sent()
            # The others go on: more kills meanwhile, spread over north and east.
            for target in ("east", "north", "east", "north", "east"):
                wait_until(lambda: sent() >= at_logout + 6 * (len(kills) - 3), 180, "progress without south")
                kill(target)
            wait_until(lambda: sent() >= at_logout + 40, 180, "north and east go on")
            row = store.message(doubt["id"])
            assert row["status"] in ("sending", "unknown") and row["account"] == "south"
            assert [m["account"] for m in sim.ledger()["messages"] if m["phone"] == doubt["phone"]] == [
                NUMBERS["south"]
            ]
            # south logs in again (a new QR on its device) and verifies its own message.
            wait_until(lambda: scan_waiting(sim, store, {"south": NUMBERS["south"]}), 90, "south's new QR scanned")
            wait_until(lambda: store.message(doubt["id"])["status"] == "sent", 90, "south verified its message")
            row = store.message(doubt["id"])
            assert row["account"] == "south" and row["last_error"] == "verified in the chat of account south"
            kill("south")  # the tenth kill
            assert len(kills) == 10
            wait_until(lambda: store.get_job(job)["status"] == "completed", 300, "the job completes")
    finally:
        store.close()
        sim.stop()
    final = Store(cfg.paths.database)
    rows = list(final.iter_messages(job))
    assert len(rows) == 150
    assert_each_sent_once_by_its_account(
        sim.ledger()["messages"], rows, NUMBERS, note=f"seed {chaos_seed}, kills {kills}"
    )
    final.close()


@pytest.mark.browser
def test_login_prints_that_accounts_qr_in_the_terminal_until_the_phone_scans_it(
    tmp_path: Path, no_leftover_browsers: None
) -> None:
    """`python tui.py login south` as a user runs it on a server: it starts the supervisor,
    prints south's QR (an 80x24 terminal: sextants), and returns once that code is
    scanned. The code is read back from the printed characters, as a phone would."""
    sim = Simulator(port=0, boot_time=0.2).start()
    path = write_config(tmp_path, sim, accounts={"north": {}, "south": {}})
    proc = subprocess.Popen(
        [PY, "tui.py", "--config", str(path), "login", "south", "--timeout", "120"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        lines: list[str] = []
        for line in proc.stdout:
            lines.append(line.rstrip("\n"))
            if line.startswith("The code changes"):
                break
        start = next(i for i, ln in enumerate(lines) if ln.startswith("Account south: scan"))
        drawing = lines[start + 1 : -1]
        assert 20 <= len(drawing) <= 22 and max(len(r) for r in drawing) <= 80  # fits 80x24
        [ref] = decode(paint(drawing))
        assert ref.startswith("2@")
        sim.scan(ref, NUMBERS["south"])
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        assert "Account south is logged in." in out
        linked = {s["account"] for s in sim.sessions() if s["account"]}
        assert linked == {NUMBERS["south"]}  # north still waits for its own scan
    finally:
        if proc.poll() is None:
            proc.kill()
        subprocess.run(
            [PY, "-m", "supervisor", "stop", "--config", str(path)], cwd=ROOT, capture_output=True, timeout=60
        )
        sim.stop()
