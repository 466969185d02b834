"""The check that fails a test leaving a browser behind (`no_leftover_browsers`) counts
that test's processes only. The tmux server keeps the command line of the client that
started it, so a test's path there must not make every later tmux session (another test's
demo with its Chromium) that test's: it failed a run twice before it was told apart."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import pytest

from tests.support.browsers import our_browser_procs
from tests.support.waiting import wait_until

TMUX = shutil.which("tmux")
SLEEP = shutil.which("sleep") or "/bin/sleep"


def fake_chromium(folder: Path) -> str:
    """A copy of `sleep` named chromium: a process the check takes for a browser."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "chromium"
    shutil.copy(SLEEP, path)
    return str(path)


@pytest.mark.skipif(TMUX is None, reason="tmux is not installed")
def test_a_tmux_server_started_by_this_test_does_not_make_other_sessions_its_own(tmp_path: Path) -> None:
    mine, other = tmp_path / "mine", tmp_path.parent / f"{tmp_path.name}-other"
    socket = tmp_path / "tmux.sock"  # a server of its own, started by this test's client
    tmux = [str(TMUX), "-S", str(socket)]
    ours = fake_chromium(mine / "bin")
    theirs = fake_chromium(other / "bin")
    try:
        # The server's command line is this client's, with this test's path in it.
        subprocess.run([*tmux, "new-session", "-d", "-s", "mine", f"{ours} 61"], check=True)
        subprocess.run([*tmux, "new-session", "-d", "-s", "other", f"{theirs} 62"], check=True)

        def both() -> dict[int, str] | None:
            found = our_browser_procs(mine)
            return found if any(" 61" in c for c in found.values()) else None

        found = wait_until(both, 10, "this test's fake browser")
        assert all(str(mine) in c for c in found.values()), found  # no other session's browser
        assert not any(" 62" in c for c in found.values()), found
        assert our_browser_procs(other) and all(str(other) in c for c in our_browser_procs(other).values())
    finally:
        subprocess.run([*tmux, "kill-server"], check=False, capture_output=True)
        time.sleep(0.1)
        shutil.rmtree(other, ignore_errors=True)
