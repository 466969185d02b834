"""The supervisor against small fake workers (python scripts that behave like the worker).

Each test writes a config with small timings into tmp_path, runs the supervisor as a
real process (`python -m supervisor`, the code behind `python tui.py worker`) and
watches run_dir/supervisor.json. The fake worker can start "chromium" processes (a
copy of `sleep` by that name): one in its group, one in a new session and one
double-forked orphan, to prove that every way of stopping leaves nothing behind.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import psutil
import pytest

import supervisor
from common import runfiles
from common.runfiles import RUN_DIR_VAR
from store import Store
from supervisor import pidfile
from supervisor.proctree import Tree, gone, kill_all, tagged
from tests.support.browsers import name_of
from tests.support.config import NONE, SUPERVISED, write_config
from tests.support.paths import PY, ROOT
from tests.support.processes import Supervised
from tests.support.waiting import wait_until

FAKE_WORKER = r"""
import os, signal, subprocess, sys, time
from pathlib import Path
sys.path.insert(0, os.getcwd())
mode, run_dir, db, starts, bindir = sys.argv[1], Path(sys.argv[2]), sys.argv[3], sys.argv[4], Path(sys.argv[5])
with open(starts, "a") as f:
    f.write(f"{os.getpid()} {time.time()}\n")
if mode == "crash":
    sys.exit(1)
if mode == "exit75":
    time.sleep(0.3)
    sys.exit(75)
if mode == "usererror":
    print("browser.binary: /nope/chromium not found", flush=True)
    sys.exit(2)
stop = False
def on_term(*_):
    global stop
    stop = True
signal.signal(signal.SIGTERM, signal.SIG_IGN if mode == "hang" else on_term)
browsers = []
if mode in ("browsers", "memory"):
    chromium = str(bindir / "chromium")
    browsers.append(subprocess.Popen([chromium, "300"]))                          # in our group
    browsers.append(subprocess.Popen([chromium, "301"], start_new_session=True))  # escaped the group
    subprocess.run([sys.executable, "-c",                                         # double-forked orphan
                    f"import subprocess; subprocess.Popen([{chromium!r}, '302'], start_new_session=True)"])
ballast = bytearray(120 * 1024 * 1024) if mode == "memory" else b""
for i in range(0, len(ballast), 4096):
    ballast[i] = 1
# Heartbeats go straight through sqlite3 into the workers table the supervisor created:
# importing the store (dataset, SQLAlchemy) would cost most of a second per fake start.
import json, sqlite3
conn = None
if mode != "silent":
    conn = sqlite3.connect(db, timeout=30, isolation_level=None)
    wid, now = f"fake-{os.getpid()}", time.time()
    conn.execute("INSERT INTO workers(id, pid, started_at, heartbeat_at, state, browser_pids) "
                 "VALUES (?, ?, ?, ?, 'running', ?)", (wid, os.getpid(), now, now,
                                                      json.dumps([p.pid for p in browsers])))
t0 = time.time()
while True:
    if conn is not None and mode != "hang":
        conn.execute("UPDATE workers SET heartbeat_at = ? WHERE id = ?", (time.time(), wid))
    if stop or (run_dir / "stop").exists():
        sys.exit(0)
    own = run_dir / "accounts" / os.environ["WA_SENDER_ACCOUNT"]  # the worker's own signal files
    if (own / "restart").exists() and mode != "deaf":
        (own / "restart").unlink()
        sys.exit(75)
    if mode == "crash-late" and time.time() - t0 > 1.5:
        sys.exit(1)
    time.sleep(0.1)
"""

BASE = {
    "start_seconds": 0.5,
    "backoff_initial": 0.1,
    "backoff_max": 0.4,
    "max_restarts": 3,
    "restart_period": 60.0,
    "stable_seconds": 60.0,
    "stop_timeout": 1.0,
    "heartbeat_timeout": 30.0,
    "memory_limit_mb": 0,
}


class Harness(Supervised):
    """`python -m supervisor` supervising the fake worker in `mode`, in `tmp`: the config
    (paths relative to it, as a user writes them), the worker's starts (`starts.txt`)."""

    def __init__(self, tmp: Path, mode: str, **sup: Any) -> None:
        self.tmp = tmp
        config = write_config(
            tmp,
            preset=NONE,
            paths__database="data/t.db",
            paths__run_dir="run",
            paths__log_dir="logs",
            **{f"supervisor__{k}": v for k, v in {**BASE, **sup}.items()},
        )
        self.config = config
        self.db = tmp / "data" / "t.db"
        self.starts_file = tmp / "starts.txt"
        bindir = tmp / "bin"
        bindir.mkdir(exist_ok=True)
        if not (bindir / "chromium").exists():
            os.symlink("/bin/sleep", bindir / "chromium")
        fake = tmp / "fake_worker.py"
        fake.write_text(FAKE_WORKER)
        run_dir = tmp / "run"
        self.worker_cmd = [PY, str(fake), mode, str(run_dir), str(self.db), str(self.starts_file), str(bindir)]
        super().__init__(
            config,
            tmp / "supervisor.out",
            entry="module",
            env={"WA_SENDER_WORKER_CMD": json.dumps(self.worker_cmd)},
            start=False,
        )

    def start(self) -> Harness:
        self.t0 = time.monotonic()
        super().start()
        return self

    def starts(self) -> list[tuple[int, float]]:
        if not self.starts_file.exists():
            return []
        return [(int(a), float(b)) for a, b in (line.split() for line in self.starts_file.read_text().splitlines())]

    def leftovers(self) -> list[psutil.Process]:
        return tagged(RUN_DIR_VAR, str(self.run_dir))

    def finish(self) -> int:
        if self.proc is None:
            return 0
        try:
            return self.stop(15)
        finally:
            for p in self.leftovers():
                p.kill()


@pytest.fixture
def harness(tmp_path: Path):
    made: list[Harness] = []

    def make(mode: str, **sup: Any) -> Harness:
        h = Harness(tmp_path, mode, **sup)
        made.append(h)
        return h

    yield make
    for h in made:
        h.finish()


def assert_nothing_left(h: Harness) -> None:
    wait_until(
        lambda: not h.leftovers(),
        3,
        "no process of the tree left",
        seen=lambda: [(p.pid, name_of(p)) for p in h.leftovers()],
    )


# ---------------------------------------------------------------------------- restart policy


def test_crash_at_start_goes_fatal_after_the_budget_not_a_tight_loop(harness) -> None:
    # start_seconds: a worker that dies at once is a failed start, even on a busy machine.
    h = harness("crash", max_restarts=2, backoff_initial=0.2, backoff_max=0.4, start_seconds=5.0).start()
    st = h.wait(lambda s: s["state"] == "fatal", 15, "fatal")
    elapsed = time.monotonic() - h.t0
    time.sleep(0.8)
    starts = h.starts()
    assert len(starts) == 3, starts  # the first start and max_restarts restarts, then no more
    assert elapsed >= 0.2 + 0.4, elapsed  # backoff waited between the starts
    assert st["restarts"] == 2 and st["worker_pid"] is None
    assert "3 times" in st["fatal_reason"] and st["last_exit"] == 1
    assert h.proc.poll() is None  # the supervisor stays, showing fatal
    # published in the database as well, for the dashboard
    doc = Store(h.db).get_doc(runfiles.supervisor_doc())
    assert doc["state"] == "fatal" and doc["fatal_reason"] == st["fatal_reason"]
    # a manual start clears it: the dashboard's start or `touch run/restart`
    (h.run_dir / "restart").touch()
    h.wait(lambda s: s["state"] != "fatal", 5, "fatal cleared")
    h.wait(lambda s: s["state"] == "fatal", 15, "fatal again")
    assert len(h.starts()) == 6
    assert h.finish() == 0


def test_backoff_grows_exponentially_up_to_the_cap(harness) -> None:
    h = harness("crash", max_restarts=4, backoff_initial=0.1, backoff_max=0.4, start_seconds=5.0).start()
    h.wait(lambda s: s["state"] == "fatal", 20, "fatal")
    delays = [float(x) for x in re.findall(r"restarting in ([0-9.]+) s", h.log())]
    assert delays == [0.1, 0.2, 0.4, 0.4]
    times = [t for _, t in h.starts()]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert len(gaps) == 4 and all(g >= d for g, d in zip(gaps, delays)), (gaps, delays)


def test_crash_after_a_good_start_restarts_after_initial_backoff_and_stable_run_resets(harness) -> None:
    h = harness("crash-late", max_restarts=2, start_seconds=0.3, stable_seconds=0.4, backoff_initial=0.1).start()
    # crashes 1.5 s after a good start (the supervisor, looking every 0.25 s, sees it run past
    # stable_seconds even on a busy machine); stable_seconds resets the budget each time: never fatal

    def four_starts_never_fatal() -> bool:
        assert h.state().get("state") != "fatal", h.state()
        return len(h.starts()) >= 4

    wait_until(four_starts_never_fatal, 25, "four starts", seen=h.log)
    # The state file is written on the supervisor's next tick, which can come after the
    # fake worker has already logged its start.
    st = h.wait(lambda s: s["restarts"] >= 3, 5, "three restarts counted")
    assert len(h.starts()) >= 4 and st["state"] != "fatal"
    assert st["restarts"] >= 3 and st["recent_restarts"] <= 1


def test_exit_75_restarts_at_once_and_is_not_a_failure(harness) -> None:
    # A backoff would put 5 s between two starts; a restart at once takes well under 4 s,
    # even on a busy machine.
    h = harness("exit75", max_restarts=1, backoff_initial=5.0, backoff_max=5.0, start_seconds=0.2).start()
    wait_until(lambda: len(h.starts()) >= 5, 30, "five starts", seen=h.log)
    times = [t for _, t in h.starts()]
    assert len(times) >= 5, h.log()
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert max(gaps) < 4.0, gaps  # no 5 s backoff
    st = h.wait(lambda s: s["restarts"] >= 4, 5, "four restarts counted")  # its next tick
    assert st["state"] != "fatal" and st["recent_restarts"] == 0 and st["restarts"] >= 4
    assert st["last_exit"] == 75


def test_exit_75_again_and_again_right_after_start_cannot_loop(harness) -> None:
    h = harness("exit75", max_restarts=2, start_seconds=3.0, backoff_initial=0.1).start()
    st = h.wait(lambda s: s["state"] == "fatal", 20, "fatal")
    assert len(h.starts()) == 3 and st["last_exit"] == 75
    assert "counted as a failed start" in h.log()


def test_user_error_goes_fatal_at_once_with_the_reason(harness) -> None:
    h = harness("usererror", max_restarts=5).start()
    st = h.wait(lambda s: s["state"] == "fatal", 10, "fatal")
    time.sleep(0.5)
    assert len(h.starts()) == 1
    assert "status 2" in st["fatal_reason"] and "/nope/chromium not found" in st["fatal_reason"]
    assert "/nope/chromium not found" in h.log()  # the worker's output reaches the supervisor's log


def test_hung_worker_is_killed_and_restarted(harness) -> None:
    # "hang": registers, then no heartbeat any more, and ignores SIGTERM
    h = harness("hang", heartbeat_timeout=1.0, stop_timeout=0.5, start_seconds=0.3).start()
    st = h.wait(lambda s: len(h.starts()) >= 2 and s["state"] in ("starting", "running"), 10, "restart")
    first_pid = h.starts()[0][0]
    assert not psutil.pid_exists(first_pid) or psutil.Process(first_pid).status() == psutil.STATUS_ZOMBIE
    assert st["last_exit"] == "SIGKILL"
    assert "hangs" in h.log()


def test_worker_that_never_writes_a_heartbeat_is_killed_after_the_grace(harness) -> None:
    h = harness("silent", heartbeat_timeout=0.8, start_seconds=0.3, stop_timeout=0.5).start()
    h.wait(lambda s: len(h.starts()) >= 2, 10, "restart")
    assert "no heartbeat" in h.log()


def test_memory_above_the_limit_asks_for_a_graceful_restart(harness) -> None:
    h = harness("memory", memory_limit_mb=100).start()
    st = h.wait(lambda s: s.get("recycles", 0) >= 1, 15, "a recycle")
    assert st["recent_restarts"] == 0 and st["last_exit"] == 75  # graceful, between messages
    assert "asking for a restart" in h.log()
    assert h.finish() == 0
    assert_nothing_left(h)


def test_worker_deaf_to_the_restart_request_is_stopped_the_hard_way(tmp_path: Path, caplog) -> None:
    # In process, to shorten the margin after stop_timeout.
    import settings

    h = Harness(tmp_path, "deaf", memory_limit_mb=1, stop_timeout=0.3)
    sup = supervisor.Supervisor(settings.load(h.config), worker_cmd=h.worker_cmd, recycle_margin=0.5, poll=0.05)
    import threading

    t = threading.Thread(target=sup.run, daemon=True)
    t.start()
    try:
        h.wait(lambda s: s.get("recycles", 0) >= 1, 15, "a hard recycle")
        h.wait(lambda s: len(h.starts()) >= 2, 15, "the second start")
        assert "did not restart within" in caplog.text
    finally:
        sup.request_stop()
        t.join(10)
    assert not t.is_alive()
    assert_nothing_left(h)


# ---------------------------------------------------------------------------- stopping, nothing left


@pytest.mark.parametrize("how", ["SIGTERM", "SIGINT", "SIGHUP", "stop file"])
def test_every_way_of_stopping_stops_the_whole_tree_and_exits_0(harness, how: str) -> None:
    h = harness("browsers").start()
    st = h.wait(lambda s: s["state"] == "running" and s["browser_processes"] >= 3, 10, "running with browsers")
    assert st["memory_mb"] > 0 and st["worker_pid"]
    worker = psutil.Process(st["worker_pid"])
    assert os.getpgid(worker.pid) == worker.pid  # its own process group
    assert len(h.leftovers()) >= 4  # worker + 3 "chromium"
    t0 = time.monotonic()
    if how == "stop file":
        (h.run_dir / "stop").touch()
    else:
        h.proc.send_signal(getattr(signal, how))
    assert h.proc.wait(10) == 0
    assert time.monotonic() - t0 < 4
    assert_nothing_left(h)
    st = h.state()
    assert st["state"] == "stopped" and st["worker_pid"] is None
    assert not (h.run_dir / "stop").exists()
    assert not (h.run_dir / "supervisor.pid").exists()
    assert supervisor.status(h.config)["state"] == "stopped"


def test_worker_that_ignores_sigterm_is_killed_after_stop_timeout(harness) -> None:
    h = harness("hang", stop_timeout=0.5, heartbeat_timeout=60.0).start()
    h.wait(lambda s: s["state"] == "running", 10, "running")
    h.proc.send_signal(signal.SIGTERM)
    assert h.proc.wait(10) == 0
    assert h.state()["last_exit"] == "SIGKILL"
    assert_nothing_left(h)


def test_sigkilled_worker_leaves_no_browser_and_is_restarted(harness) -> None:
    h = harness("browsers").start()
    st = h.wait(lambda s: s["state"] == "running" and s["browser_processes"] >= 3, 10, "running")
    first = st["worker_pid"]
    browsers = [p for p in h.leftovers() if name_of(p) == "chromium"]
    assert len(browsers) == 3
    os.kill(first, signal.SIGKILL)
    st = h.wait(lambda s: s["worker_pid"] not in (None, first) and s["browser_processes"] >= 3, 10, "restarted")
    assert st["last_exit"] == "SIGKILL" and st["restarts"] == 1
    assert all(not p.is_running() or p.status() == psutil.STATUS_ZOMBIE for p in browsers)
    assert h.finish() == 0
    assert_nothing_left(h)


def test_pause_file_is_shown_as_paused(harness) -> None:
    h = harness("browsers").start()
    h.wait(lambda s: s["state"] == "running", 10, "running")
    (h.run_dir / "pause").touch()
    h.wait(lambda s: s["state"] == "paused" and s["paused"], 3, "paused")
    (h.run_dir / "pause").unlink()
    h.wait(lambda s: s["state"] == "running", 3, "running again")


# ---------------------------------------------------------------------------- one supervisor per run dir


def test_second_supervisor_is_refused_with_a_clear_message(harness) -> None:
    h = harness("browsers").start()
    st = h.wait(lambda s: s["state"] == "running", 10, "running")
    second = subprocess.run(
        [PY, "-m", "supervisor", "--config", str(h.config)],
        cwd=ROOT,
        env=h.env,
        capture_output=True,
        text=True,
        timeout=20,
    )
    assert second.returncode == 2
    lines = second.stderr.strip().splitlines()
    assert len(lines) == 1 and "already running" in lines[0] and str(st["pid"]) in lines[0], second.stderr
    assert h.state()["worker_pid"] == st["worker_pid"]  # the first one is untouched
    with pytest.raises(supervisor.AlreadyRunning):
        supervisor.start_detached(h.config)


def test_two_supervisors_starting_at_once_one_wins(harness) -> None:
    h = harness("browsers")
    procs = [
        subprocess.Popen(
            [PY, "-m", "supervisor", "--config", str(h.config)],
            cwd=ROOT,
            env=h.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    try:
        h.wait(lambda s: s["state"] == "running", 15, "running")
        wait_until(lambda: sum(p.poll() is not None for p in procs) >= 2, 10, "two of the three to leave")
        running = [p for p in procs if p.poll() is None]
        refused = [p for p in procs if p.poll() == 2]
        assert len(running) == 1 and len(refused) == 2
        assert all("already running" in p.stderr.read() for p in refused)
    finally:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        assert all(p.wait(15) in (0, 2) for p in procs)
    assert_nothing_left(h)


def test_stale_pid_file_and_reused_pid_are_not_mistaken_for_a_live_supervisor(harness) -> None:
    h = harness("browsers")
    h.run_dir.mkdir(parents=True)
    dead = subprocess.Popen([PY, "-c", "pass"])
    dead.wait()
    me = psutil.Process()
    cases = [
        {"marker": pidfile.MARKER, "pid": dead.pid, "create_time": time.time() - 5, "cmdline": ["x"]},  # gone
        {
            "marker": pidfile.MARKER,
            "pid": me.pid,
            "create_time": me.create_time() - 100,  # reused pid
            "cmdline": me.cmdline(),
        },
        {
            "marker": pidfile.MARKER,
            "pid": me.pid,
            "create_time": me.create_time(),  # another program
            "cmdline": ["python", "tui.py", "worker"],
        },
        {"marker": "something-else", "pid": me.pid, "create_time": me.create_time(), "cmdline": me.cmdline()},
    ]
    for info in cases:
        pidfile.write_json_atomic(h.run_dir / "supervisor.pid", info)
        assert pidfile.live_supervisor(h.run_dir) is None, info
    # and a published state left by a supervisor that died shows as stopped (stale)
    pidfile.write_json_atomic(
        h.run_dir / "supervisor.json",
        {"pid": dead.pid, "state": "running", "worker_pid": 1234, "updated_at": time.time()},
    )
    st = supervisor.status(h.config)
    assert st["state"] == "stopped" and st["stale"] and not st["alive"] and st["worker_pid"] is None
    assert supervisor.stop(h.config, timeout=1) is True  # nothing to stop
    h.start()  # the stale file does not block a start
    h.wait(lambda s: s["pid"] == h.proc.pid and s["state"] == "running", 15, "running")
    info = pidfile.read_pidfile(h.run_dir)
    assert info["pid"] == h.proc.pid and pidfile.live_supervisor(h.run_dir)[0].pid == h.proc.pid


def test_orphans_of_a_killed_supervisor_are_cleaned_by_the_next_one(harness) -> None:
    h = harness("browsers").start()
    st = h.wait(lambda s: s["state"] == "running" and s["browser_processes"] >= 3, 10, "running")
    h.proc.send_signal(signal.SIGKILL)  # the supervisor dies without a word: worker and browsers orphaned
    h.proc.wait(5)
    assert psutil.pid_exists(st["worker_pid"])
    # (this stand-in worker does not watch its parent, as the real one does.) Its processes
    # run with no supervisor: status says so, never "stopped".
    orphaned = supervisor.status(h.config)
    assert orphaned["state"] == "unsupervised" and not orphaned["alive"]
    assert st["worker_pid"] in orphaned["orphan_pids"]
    h.start()
    h.wait(lambda s: s["pid"] == h.proc.pid and s["state"] == "running", 15, "second supervisor running")
    assert not psutil.pid_exists(st["worker_pid"]) or psutil.Process(st["worker_pid"]).status() == "zombie"
    assert len(h.leftovers()) == 4  # only the new worker and its three browsers
    assert "left by a previous supervisor" in h.log()
    assert h.finish() == 0
    assert_nothing_left(h)


# A root that dies on SIGTERM, over a child in a session of its own (as a supervisor over
# its worker) that ignores SIGTERM, as does the grandchild it starts (SIG_IGN is inherited).
DEAF_TREE = r"""
import subprocess, sys, time
child = "import signal, subprocess, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); " \
        "subprocess.Popen(['sleep', '60']); time.sleep(60)"
subprocess.Popen([sys.executable, "-c", child], start_new_session=True)
time.sleep(60)
"""


def test_tree_stop_reaches_descendants_deaf_to_sigterm_after_their_parent_died() -> None:
    """`Tree.stop`, what the demo falls back on for its simulator and supervisor: the
    descendants are looked up before the root dies and re-parents them, and what ignores
    SIGTERM gets SIGKILL."""
    root = subprocess.Popen([PY, "-c", DEAF_TREE], start_new_session=True)
    members: list[psutil.Process] = []
    try:

        def both() -> list[psutil.Process] | None:
            found = psutil.Process(root.pid).children(recursive=True)
            return found if len(found) == 2 and not any(gone(p) for p in found) else None

        members = wait_until(both, 15, "the child and the grandchild", proc=root)
        assert Tree(root.pid).stop(timeout=1.0) == []
        assert root.wait(5) == -signal.SIGTERM
        assert all(gone(p) for p in members)
    finally:
        if root.poll() is None:
            root.kill()
        kill_all(members)
        root.wait(5)


# ---------------------------------------------------------------------------- the dashboard's API


def test_start_detached_status_and_stop(harness, monkeypatch) -> None:
    h = harness("browsers")
    monkeypatch.setenv("WA_SENDER_WORKER_CMD", json.dumps(h.worker_cmd))
    pid = supervisor.start_detached(h.config)
    try:
        assert os.getsid(pid) == pid  # a new session: survives the dashboard and the SSH connection
        wait_until(lambda: (supervisor.status(h.config) or {}).get("state") == "running", 10, "running")
        st = supervisor.status(h.config)
        assert st["alive"] and st["pid"] == pid and st["state"] == "running", st
        for key in (
            "pid",
            "worker_pid",
            "state",
            "restarts",
            "last_exit",
            "uptime",
            "cpu_percent",
            "memory_mb",
            "browser_processes",
            "fatal_reason",
            "updated_at",
        ):
            assert key in st
        assert "tui.py" in " ".join(psutil.Process(pid).cmdline())
        with pytest.raises(supervisor.AlreadyRunning, match="already running"):
            supervisor.start_detached(h.config)
    finally:
        assert supervisor.stop(h.config, timeout=15) is True
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    st = supervisor.status(h.config)
    assert st["state"] == "stopped" and not st["alive"] and not st["stale"]
    assert_nothing_left(h)
    assert "supervisor stopped" in (h.tmp / "logs" / "supervisor.log").read_text()


def test_start_detached_clears_fatal(harness, monkeypatch) -> None:
    h = harness("crash", max_restarts=1)
    monkeypatch.setenv("WA_SENDER_WORKER_CMD", json.dumps(h.worker_cmd))
    pid = supervisor.start_detached(h.config)
    try:
        wait_until(lambda: (supervisor.status(h.config) or {}).get("state") == "fatal", 10, "fatal")
        assert supervisor.status(h.config)["state"] == "fatal"
        assert len(h.starts()) == 2
        assert supervisor.start_detached(h.config) == pid  # the same supervisor, fatal cleared
        wait_until(lambda: len(h.starts()) >= 4, 10, "two more starts")
        assert len(h.starts()) == 4
    finally:
        assert supervisor.stop(h.config, timeout=15)


def test_bad_config_is_one_line_and_status_2(tmp_path: Path) -> None:
    bad = tmp_path / "config.toml"
    bad.write_text("[supervisor]\nmax_restarts = 'many'\n")
    r = subprocess.run(
        [PY, "-m", "supervisor", "--config", str(bad)], cwd=ROOT, capture_output=True, text=True, timeout=20
    )
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1 and "supervisor.max_restarts" in r.stderr and "Traceback" not in r.stderr


def test_unusable_database_is_one_line_and_status_2(tmp_path: Path) -> None:
    cfg = tmp_path / "config.toml"
    cfg.write_text(
        f'[paths]\ndatabase = "/proc/nope/x.db"\nrun_dir = "{tmp_path / "run"}"\nlog_dir = "{tmp_path / "logs"}"\n'
    )
    r = subprocess.run(
        [PY, "-m", "supervisor", "--config", str(cfg)], cwd=ROOT, capture_output=True, text=True, timeout=20
    )
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1 and "cannot open the database /proc/nope/x.db" in r.stderr
    assert not (tmp_path / "run" / "supervisor.pid").exists()


def test_one_run_context_reaches_the_detached_supervisor_and_its_worker(harness, monkeypatch) -> None:
    """`python tui.py --db other.db`, then `w` in the dashboard: the supervisor it starts and
    the worker that supervisor starts work on other.db, not on the config's database."""
    import settings

    h = harness("browsers")
    other = h.tmp / "other.db"
    ctx = settings.resolve(h.config, other)
    assert ctx.config_source == "--config" and ctx.db_source == "--db" and ctx.cfg.paths.database == other
    worker_cmd = supervisor.Supervisor(ctx).worker_cmd
    assert worker_cmd[-4:] == ["--config", str(Path(h.config).resolve()), "--db", str(other)]
    monkeypatch.setenv("WA_SENDER_WORKER_CMD", json.dumps(h.worker_cmd))
    pid = supervisor.start_detached(ctx)
    try:
        assert "--db" in psutil.Process(pid).cmdline() and str(other) in psutil.Process(pid).cmdline()
        wait_until(lambda: (supervisor.status(ctx) or {}).get("database") == str(other), 10, "the database published")
        assert supervisor.status(ctx)["database"] == str(other)
        assert Store(other).get_doc(runfiles.supervisor_doc())["database"] == str(other)
    finally:
        assert supervisor.stop(ctx, timeout=15) is True


# ---------------------------------------------------------------------------- `python tui.py worker`


def test_worker_crashing_at_start_goes_fatal_after_the_budget_not_a_tight_loop(tmp_path: Path) -> None:
    """Through `python tui.py worker`, with a worker that dies at once: fatal after max_restarts."""
    cfg_path = write_config(
        tmp_path,
        "http://127.0.0.1:9",
        preset=SUPERVISED,
        supervisor__max_restarts=4,
        supervisor__backoff_initial=0.2,
        supervisor__backoff_max=0.4,
        supervisor__start_seconds=5.0,  # a worker that dies at once is a failed start, even on a busy machine
    )
    env = {"WA_SENDER_WORKER_CMD": json.dumps([PY, "-c", "import sys; sys.exit(1)"])}
    t0 = time.monotonic()
    with Supervised(cfg_path, tmp_path / "supervisor.out", env=env) as sup:
        st = sup.wait(lambda s: s.get("state") == "fatal", 30, "fatal")
        elapsed = time.monotonic() - t0
        time.sleep(1.5)  # and it stays there: no more starts
        assert sup.state()["starts"] == 5 and sup.state()["state"] == "fatal"
        assert elapsed >= 0.2 + 0.4 + 0.4 + 0.4
        assert sup.stop(10) == 0
    output = sup.log()
    assert output.count("worker started") == 5 and "FATAL" in output
    print(f"\ncrash at start: {st['starts']} starts, fatal after {elapsed:.1f} s: {st['fatal_reason']}")
