"""Several WhatsApp accounts against one simulator, each browser its own linked device:
each account's login by its own QR, its own daily cap and warm-up (fake clock) while the
others go on, and the chaos run of issue 12 (3 accounts, 150 messages, 10 worker
SIGKILLs, one account logged out mid-job with a message in doubt) with 0 lost and 0
duplicated, the doubtful message verified by the account that clicked it."""

from __future__ import annotations

import collections
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import tomlkit

import settings
from simulator import Simulator
from store import Store
from tests.worker_helpers import ROOT, WorkerThread, no_leftover_browsers, wait_until, write_config  # noqa: F401
from worker.clock import FakeClock

NUMBERS = {"north": "+15550100011", "south": "+15550100022", "east": "+15550100033"}


def with_accounts(path: Path, tmp: Path, accounts: dict[str, dict[str, Any]]) -> Path:
    doc = tomlkit.parse(path.read_text(encoding="utf-8"))
    aot = tomlkit.aot()
    for name, extra in accounts.items():
        t = tomlkit.table()
        t["name"] = name
        t["profile_dir"] = str(tmp / f"profile-{name}")
        for k, v in extra.items():
            t[k] = v
        aot.append(t)
    doc.append("accounts", aot)
    path.write_text(tomlkit.dumps(doc), encoding="utf-8")
    return path


def scan_waiting(sim: Simulator, store: Store, numbers: dict[str, str]) -> set[str]:
    """Scan, with its own phone, the QR of every account whose worker shows one."""
    done = set()
    for row in store.workers():
        acc = row.get("account")
        if acc in numbers and row.get("qr") and row.get("state") == "waiting_for_login":
            try:
                sim.scan(row["qr"], numbers[acc])
                done.add(acc)
            except Exception:  # the code rotated since the row was written
                pass
    return done


def log_in(sim: Simulator, store: Store, numbers: dict[str, str], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    left = set(numbers)
    while left:
        left -= scan_waiting(sim, store, {n: numbers[n] for n in left})
        assert time.monotonic() < deadline, f"no QR to scan for {left}"
        time.sleep(0.1)
    wait_until(
        lambda: all((store.account(n) or {}).get("login") == "logged_in" for n in numbers),
        timeout,
        "the workers see their login",
    )


def ledger_accounts(sim: Simulator) -> collections.Counter:
    return collections.Counter(m["account"] for m in sim.ledger()["messages"])


@pytest.mark.browser
def test_an_account_at_its_cap_sends_nothing_more_that_day_while_the_other_goes_on(
    tmp_path: Path, no_leftover_browsers: None
) -> None:
    sim = Simulator(port=0, boot_time=0.2, ack_delay=0.05, dblcheck_delay=0.1).start()
    day1 = time.mktime((2030, 5, 6, 10, 0, 0, 0, 0, -1))
    clock = FakeClock(day1)
    numbers = {"north": NUMBERS["north"], "south": NUMBERS["south"]}
    try:
        path = write_config(tmp_path, sim, sending__daily_cap=0)
        # north is new: a 5-day warm-up from 3 a day to 10 a day; south has no cap.
        with_accounts(path, tmp_path, {"north": {"daily_cap": 10, "warmup_days": 5, "warmup_start": 3}, "south": {}})
        cfg = settings.load(path)
        store = Store(cfg.paths.database)
        workers = [WorkerThread(cfg.for_account(n), clock=clock).start() for n in numbers]
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
            time.sleep(1.0)  # north stays at its cap
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
            time.sleep(1.0)
            assert store.sent_since(0, account="north") == 7 and ledger_accounts(sim)[NUMBERS["north"]] == 7
        finally:
            for w in workers:
                w.stop()
        per_phone = collections.Counter(m["phone"] for m in sim.ledger()["messages"])
        assert max(per_phone.values()) == 1
        store.close()
    finally:
        sim.stop()


# ---------------------------------------------------------------------------- chaos


class Run:
    """The real supervisor (`python -m supervisor`) with one worker process per account."""

    def __init__(self, tmp: Path, sim: Simulator, accounts: dict[str, dict[str, Any]]) -> None:
        path = write_config(
            tmp,
            sim,
            sending__daily_cap=0,
            sending__delay_min=0.1,
            sending__delay_max=0.4,
            supervisor__start_seconds=1.0,
            supervisor__backoff_initial=0.2,
            supervisor__backoff_max=1.0,
            supervisor__max_restarts=20,
            supervisor__stop_timeout=5.0,
        )
        self.cfg_path = with_accounts(path, tmp, accounts)
        self.cfg = settings.load(self.cfg_path)
        self.store = Store(self.cfg.paths.database)
        self.out = open(tmp / "supervisor.out", "wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "supervisor", "--config", str(self.cfg_path)],
            cwd=ROOT,
            stdout=self.out,
            stderr=subprocess.STDOUT,
        )

    def worker_pid(self, account: str) -> int | None:
        import supervisor

        st = supervisor.status(self.cfg) or {}
        w = (st.get("workers") or {}).get(account) or {}
        return w.get("worker_pid") if w.get("state") in ("running", "paused") else None

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.out.close()
        self.store.close()


def in_doubt(sim: Simulator, store: Store, account: str, number: str) -> Any:
    """A message `account` clicked that the server has, still unconfirmed in the store."""
    in_ledger = {m["phone"] for m in sim.ledger()["messages"] if m["account"] == number}
    for r in store.in_flight(account=account):
        if r["clicked_at"] and r["phone"] in in_ledger:
            return r
    return None


def assert_each_sent_once_by_its_account(
    sim: Simulator, store: Store, job: int, n: int, numbers: dict[str, str]
) -> None:
    """0 lost, 0 twice (the ledger); every message sent, by the account the store names,
    and every account took part."""
    ledger = sim.ledger()["messages"]
    per_phone = collections.Counter(m["phone"] for m in ledger)
    assert len(per_phone) == n, "lost"
    assert max(per_phone.values()) == 1, [p for p, c in per_phone.items() if c > 1]
    rows = list(store.iter_messages(job))
    assert all(r["status"] == "sent" for r in rows)
    by_phone = {m["phone"]: m["account"] for m in ledger}
    assert all(numbers[r["account"]] == by_phone[r["phone"]] for r in rows)
    assert {r["account"] for r in rows} == set(numbers)


def sigkill_worker(run: Run, account: str, timeout: float = 60) -> None:
    pid = wait_until(lambda: run.worker_pid(account), timeout, f"a running worker of {account}")
    os.kill(pid, signal.SIGKILL)
    wait_until(lambda: run.worker_pid(account) != pid, timeout, f"{account}'s worker replaced")


@pytest.mark.browser
def test_chaos_three_accounts_kills_and_a_logout_lose_nothing_and_send_nothing_twice(
    tmp_path: Path, no_leftover_browsers: None
) -> None:
    sim = Simulator(port=0, boot_time=0.2, ack_delay=0.8, dblcheck_delay=0.2).start()
    run = Run(tmp_path, sim, {name: {} for name in NUMBERS})
    store = run.store
    try:
        log_in(sim, store, NUMBERS, timeout=90)
        job = store.create_job(
            "chaos", "Hi", [{"phone": f"+1202557{i:04d}", "text": f"chaos {i} 👋"} for i in range(150)]
        )
        store.refresh_waiting()
        sent = lambda: store.counts(job)["sent"]  # noqa: E731
        kills = 0
        for target in ("north", "east", "north"):  # three kills before the logout
            wait_until(lambda: sent() >= 8 * (kills + 1), 120, "progress")
            sigkill_worker(run, target)
            kills += 1

        # south clicks a message (the server has it, no tick yet): kill its worker and log
        # the account out. Nobody else may touch that message; south verifies it later.
        doubt = wait_until(
            lambda: in_doubt(sim, store, "south", NUMBERS["south"]), 120, "south with a clicked message in doubt"
        )
        pid = run.worker_pid("south")
        os.kill(pid, signal.SIGKILL)
        sim.logout(NUMBERS["south"])
        kills += 1
        at_logout = sent()
        # The others go on: more kills meanwhile, spread over north and east.
        for target in ("east", "north", "east", "north", "east"):
            wait_until(lambda: sent() >= at_logout + 6 * (kills - 3), 180, "progress without south")
            sigkill_worker(run, target)
            kills += 1
        wait_until(lambda: sent() >= at_logout + 40, 180, "north and east go on")
        row = store.message(doubt["id"])
        assert row["status"] in ("sending", "unknown") and row["account"] == "south"
        assert [m["account"] for m in sim.ledger()["messages"] if m["phone"] == doubt["phone"]] == [NUMBERS["south"]]
        # south logs in again (a new QR on its device) and verifies its own message.
        wait_until(lambda: scan_waiting(sim, store, {"south": NUMBERS["south"]}), 90, "south's new QR scanned")
        wait_until(lambda: store.message(doubt["id"])["status"] == "sent", 90, "south verified its message")
        row = store.message(doubt["id"])
        assert row["account"] == "south" and row["last_error"] == "verified in the chat of account south"
        sigkill_worker(run, "south")  # the tenth kill
        kills += 1
        assert kills == 10
        wait_until(lambda: store.get_job(job)["status"] == "completed", 300, "the job completes")
    finally:
        run.stop()
        sim.stop()
    final = Store(run.cfg.paths.database)
    assert_each_sent_once_by_its_account(sim, final, job, 150, NUMBERS)
    final.close()


@pytest.mark.browser
def test_login_prints_that_accounts_qr_in_the_terminal_until_the_phone_scans_it(
    tmp_path: Path, no_leftover_browsers: None
) -> None:
    """`python tui.py login south` as a user runs it on a server: it starts the supervisor,
    prints south's QR (an 80x24 terminal: sextants), and returns once that code is
    scanned. The code is read back from the printed characters, as a phone would."""
    from tests.test_qr import decode, paint

    sim = Simulator(port=0, boot_time=0.2).start()
    path = with_accounts(write_config(tmp_path, sim), tmp_path, {"north": {}, "south": {}})
    proc = subprocess.Popen(
        [sys.executable, "tui.py", "--config", str(path), "login", "south", "--timeout", "120"],
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
            [sys.executable, "-m", "supervisor", "stop", "--config", str(path)],
            cwd=ROOT,
            capture_output=True,
            timeout=60,
        )
        sim.stop()
