"""The real terminal: `python tui.py demo` in tmux at 100x30, driven with keys.

Starts the demo, logs in from the QR modal (Enter, as if scanned), creates a second
job with the wizard, waits for both jobs to complete by reading the screen, quits
keeping the worker, checks the worker (supervisor) still runs, then stops it.

And the terminal closed under the demo (tmux's kill-session: SIGHUP), while it runs, while
its quit question is up and while it stops: nothing of its process tree (simulator,
supervisor, worker, chromedriver, Chromium) may outlive it. The plain dashboard on SIGHUP
and SIGTERM: it quits as with `q`, and does not hang on a terminal that is gone.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import psutil
import pytest

from supervisor.proctree import gone, kill_all
from tests.support.browsers import name_of
from tests.support.config import NONE, write_config
from tests.support.paths import PY, ROOT
from tests.support.waiting import wait_until

TMUX = shutil.which("tmux")

pytestmark = [pytest.mark.slow, pytest.mark.skipif(TMUX is None, reason="tmux is not installed")]


def tmux(*args: str) -> str:
    return subprocess.run([TMUX, *args], check=True, capture_output=True, text=True).stdout


def screen(session: str) -> str:
    return tmux("capture-pane", "-p", "-t", session)


def wait_screen(session: str, pred, timeout: float, what: str) -> str:
    """The screen once `pred(screen)` holds."""
    last = [""]

    def shown() -> str | None:
        last[0] = screen(session)
        return last[0] if pred(last[0]) else None

    return wait_until(shown, timeout, what, interval=0.3, seen=lambda: "screen:\n" + last[0])


def keys(session: str, *k: str) -> None:
    for key in k:
        tmux("send-keys", "-t", session, key)
        time.sleep(0.15)


def test_demo_in_tmux(tmp_path: Path) -> None:
    session = f"wa-demo-test-{os.getpid()}"
    root = tmp_path / "demo"
    contacts = tmp_path / "more.csv"
    contacts.write_text("Name,Phone\nZed One,+1 415 555 0201\nZed Two,+1 415 555 0202\n", encoding="utf-8")
    cmd = (
        f"cd {ROOT} && {PY} -c 'import sys; from dashboard.demo import run_demo; "
        f'sys.exit(run_demo("{root}"))\'; sleep 30'
    )
    tmux("new-session", "-d", "-s", session, "-x", "100", "-y", "30", cmd)
    info: dict = {}
    try:
        # the QR modal (too small at 100x30: it says the size it needs), then log in as if scanned
        wait_screen(session, lambda s: "Scan with WhatsApp" in s, 60, "the QR modal")
        info = json.loads((root / "demo.json").read_text())
        keys(session, "Enter")
        wait_screen(session, lambda s: "Scan with WhatsApp" not in s, 20, "login")
        # a new job with keys: n, file path, Enter, Enter (detected phone column), template, Ctrl+N,
        # Enter (no attachment), name, Enter
        keys(session, "n")
        wait_screen(session, lambda s: "1/5 Contact file" in s, 10, "the wizard")
        tmux("send-keys", "-t", session, "-l", str(contacts))
        keys(session, "Enter")
        wait_screen(session, lambda s: "detected phone column" in s, 10, "the columns step")
        keys(session, "Enter")
        wait_screen(session, lambda s: "3/5 Message template" in s, 10, "the template step")
        tmux("send-keys", "-t", session, "-l", "{name}: second job")
        wait_screen(session, lambda s: "second job" in s and "Zed One" in s, 10, "the preview")
        keys(session, "C-n")
        wait_screen(session, lambda s: "4/5 Attachment" in s, 10, "the attachment step")
        keys(session, "Enter")
        wait_screen(session, lambda s: "to send" in s, 20, "the summary")
        keys(session, "C-u")
        tmux("send-keys", "-t", session, "-l", "tmux job")
        # as a person does: Enter once the name is seen in its field
        wait_screen(session, lambda s: "tmux job" in s, 10, "the job's name typed")
        keys(session, "Enter")
        wait_screen(session, lambda s: "2 jobs" in s and "tmux job" in s, 15, "the new job in the table")
        # both jobs complete
        wait_screen(session, lambda s: s.count("completed") >= 2, 120, "both jobs completed")
        # quit, keeping the worker running
        keys(session, "q")
        wait_screen(session, lambda s: "Quit the demo" in s, 10, "the quit question")
        keys(session, "n")
        text = wait_screen(session, lambda s: "keeps running in the background" in s, 20, "the exit note")
        assert "supervisor pid" in text
        pid = info["supervisor_pid"]
        assert pid and psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    finally:
        try:
            tmux("kill-session", "-t", session)
        except subprocess.CalledProcessError:
            pass
        if (root / "config.toml").exists():
            import supervisor

            supervisor.stop(str(root / "config.toml"), timeout=30)
        if info.get("simulator_pid"):
            try:
                os.kill(info["simulator_pid"], signal.SIGTERM)
            except ProcessLookupError:
                pass


def pane_tree(session: str) -> list[psutil.Process]:
    """The process in the session's pane and all its descendants (each pinned by its start
    time, so a pid reused after it is gone does not count as it)."""
    root = psutil.Process(int(tmux("list-panes", "-t", session, "-F", "#{pane_pid}").split()[0]))
    return [root, *root.children(recursive=True)]


def describe(procs: list[psutil.Process]) -> str:
    out = []
    for p in procs:
        try:
            out.append(f"{p.pid} {' '.join(p.cmdline())[:100]}")
        except psutil.Error:
            out.append(f"{p.pid} (gone)")
    return "; ".join(out)


@pytest.mark.parametrize("when", ["running", "asking", "stopping"])
def test_closing_the_demos_terminal_stops_everything_it_started(
    tmp_path: Path, when: str, no_leftover_browsers: None
) -> None:
    """The terminal closes while the dashboard runs, while its quit question is up (`q`),
    or after `y`, while the demo stops its processes."""
    session = f"wa-demo-hup-{os.getpid()}-{when}"
    root = tmp_path / "demo"
    # exec: the pane's process is the demo itself. tmux sends SIGHUP to the pane's whole
    # process group, so under `make demo` the demo gets it all the same.
    cmd = f"cd {ROOT} && exec {PY} -c 'import sys; from dashboard.demo import run_demo; sys.exit(run_demo(\"{root}\"))'"
    tmux("new-session", "-d", "-s", session, "-x", "100", "-y", "30", cmd)
    tree: list[psutil.Process] = []
    try:
        # the QR modal: the simulator answers and the worker's Chromium shows its page
        wait_screen(session, lambda s: "Scan with WhatsApp" in s, 60, "the QR modal")
        info = json.loads((root / "demo.json").read_text())
        tree = pane_tree(session)
        assert {info["simulator_pid"], info["supervisor_pid"]} <= {p.pid for p in tree}
        assert any("chrom" in name_of(p) for p in tree), describe(tree)
        if when in ("asking", "stopping"):
            keys(session, "Escape")  # hide the QR modal
            wait_screen(session, lambda s: "Scan with WhatsApp" not in s, 10, "the QR modal hidden")
            keys(session, "q")
            wait_screen(session, lambda s: "Quit the demo" in s, 10, "the quit question")
        if when == "stopping":
            keys(session, "y")
            wait_screen(session, lambda s: "Quit" not in s, 10, "the dashboard closed")
        tmux("kill-session", "-t", session)
        wait_until(
            lambda: all(gone(p) for p in tree),
            20,
            "every process of the demo to end",
            interval=0.2,
            seen=lambda: describe([p for p in tree if not gone(p)]),
        )
    finally:
        try:
            tmux("kill-session", "-t", session)
        except subprocess.CalledProcessError:
            pass
        kill_all([p for p in tree if not gone(p)])


@pytest.mark.parametrize("sig", ["SIGHUP", "SIGTERM"])
def test_the_dashboard_quits_on_sighup_and_sigterm(tmp_path: Path, sig: str) -> None:
    """The plain dashboard starts its worker detached, to outlive it (README): here only
    the dashboard itself must end, through its quit (SIGTERM: the terminal restored, the
    note printed), and not hang on a terminal that is gone (SIGHUP)."""
    cfg = write_config(tmp_path, "http://127.0.0.1:9", preset=NONE)  # no worker: nothing is contacted
    session = f"wa-dash-{os.getpid()}-{sig}"
    # After the dashboard, the shell shows its exit status in the same terminal.
    cmd = f"cd {ROOT} && {PY} tui.py --config {cfg}; echo exit status $?; sleep 30"
    tmux("new-session", "-d", "-s", session, "-x", "100", "-y", "30", cmd)
    dashboard: psutil.Process | None = None
    try:
        wait_screen(session, lambda s: "q Quit" in s, 30, "the dashboard")
        dashboard = pane_tree(session)[1]
        if sig == "SIGTERM":
            dashboard.send_signal(signal.SIGTERM)
            text = wait_screen(session, lambda s: "exit status" in s, 15, "the dashboard's exit")
            assert "Dashboard closed. The worker is not running." in text and "exit status 0" in text
        else:
            tmux("kill-session", "-t", session)
        wait_until(lambda: gone(dashboard), 15, "the dashboard to end", interval=0.2)
    finally:
        try:
            tmux("kill-session", "-t", session)
        except subprocess.CalledProcessError:
            pass
        if dashboard is not None:
            kill_all([dashboard])
