"""supervisor.proctree.own_children: this process's direct children from Linux's per-thread
children files, the same set psutil finds by reading every process on the machine."""

from __future__ import annotations

import subprocess
import sys
import threading
import time

import psutil
import pytest

from supervisor import proctree


def _spawn_in_thread(out: list[subprocess.Popen[bytes]]) -> None:
    out.append(subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"]))


def test_children_of_every_thread_and_zombies_are_found_as_psutil_finds_them() -> None:
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    exited = subprocess.Popen([sys.executable, "-c", "pass"])
    from_thread: list[subprocess.Popen[bytes]] = []
    t = threading.Thread(target=_spawn_in_thread, args=(from_thread,))
    t.start()
    t.join()
    try:
        deadline = time.monotonic() + 10
        while psutil.Process(exited.pid).status() != psutil.STATUS_ZOMBIE:
            assert time.monotonic() < deadline, "the short child never ended"
            time.sleep(0.02)
        ours = {alive.pid, exited.pid, from_thread[0].pid}
        assert ours <= {p.pid for p in proctree.own_children()}
        assert ours <= {p.pid for p in psutil.Process().children()}
    finally:
        for p in (alive, exited, *from_thread):
            p.kill()
            p.wait()
    assert not {alive.pid, exited.pid, from_thread[0].pid} & {p.pid for p in proctree.own_children()}


def test_without_the_children_files_psutil_is_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        monkeypatch.setattr(proctree.os.path, "exists", lambda path: False)
        assert child.pid in {p.pid for p in proctree.own_children()}
    finally:
        child.kill()
        child.wait()
