"""Private by default, checked as another local user would try it (`setpriv` as nobody).

With the usual umask 022: the database (and its -wal/-shm), the logs, the failure dumps,
the run files, the exports and the browser profile are owner-only; another user cannot
read them, and cannot reach the logged-in browser: DevTools is on a pipe (no port at all),
and ChromeDriver's port answers nothing without its secret URL base."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import psutil
import pytest

from simulator import Simulator
from store import Store
from tests.support.config import write_config
from tests.support.paths import PY, ROOT
from tests.support.processes import Supervised
from tests.support.waiting import wait_until

AS_NOBODY = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"]


def as_nobody(*cmd: str) -> subprocess.CompletedProcess:
    return subprocess.run([*AS_NOBODY, *cmd], capture_output=True, text=True, timeout=60, cwd="/")


def mode(p: Path) -> int:
    return stat.S_IMODE(p.lstat().st_mode)


@pytest.fixture
def home() -> Any:
    """A folder other users may enter (pytest's own tmp is 0700 for root), like a home."""
    d = Path(tempfile.mkdtemp(prefix="wa-privacy-", dir="/tmp"))
    d.chmod(0o755)
    yield d
    shutil.rmtree(d, ignore_errors=True)


def listening_ports(pids: set[int]) -> set[int]:
    return {c.laddr.port for c in psutil.net_connections("tcp") if c.status == "LISTEN" and c.pid in pids}


def tree(pid: int) -> set[int]:
    try:
        p = psutil.Process(pid)
        return {pid} | {c.pid for c in p.children(recursive=True)}
    except psutil.Error:
        return set()


def commands(pids: set[int]) -> dict[int, tuple[str, list[str]]]:
    """Name and command line of each live process; Chromium's short-lived helpers may
    exit (or be a zombie) between listing and reading, and are left out."""
    out = {}
    for pid in pids:
        try:
            p = psutil.Process(pid)
            out[pid] = (p.name(), p.cmdline())
        except psutil.Error:
            continue
    return out


@pytest.mark.browser
def test_files_are_owner_only_and_another_user_reaches_neither_data_nor_browser(home: Path) -> None:
    sim = Simulator(port=0, boot_time=0.2, ack_delay=0.05, dblcheck_delay=0.1, dom="2026").start()
    sim.login()
    old_umask = os.umask(0o022)  # the usual one: everything would be world-readable
    worker: Supervised | None = None
    try:
        cfg_path = write_config(home, sim, browser__chat_timeout=2)
        cfg_path.chmod(0o644)
        contacts = home / "contacts.csv"
        contacts.write_text("Name,Phone\nAna,+12025550101\nBob,+12025550102\n", encoding="utf-8")
        tui = [PY, str(ROOT / "tui.py"), "--config", str(cfg_path)]
        assert (
            subprocess.run(
                [*tui, "import", str(contacts), "--template", "Hi {name}"], capture_output=True, timeout=60
            ).returncode
            == 0
        )
        worker = Supervised(cfg_path, home / "supervisor.out")  # `python tui.py worker`
        store = Store(home / "db.sqlite")
        wait_until(lambda: store.counts(1)["sent"] >= 2, 60, "both messages sent", interval=0.2)
        assert store.counts(1)["sent"] == 2
        # The live browser: what can another user reach?
        state = worker.state()
        pids = tree(state["worker_pid"])
        procs = commands(pids)
        browser = [p for p, (name, _) in procs.items() if "chrom" in name and "driver" not in name]
        main = [p for p in browser if not any(a.startswith("--type=") for a in procs[p][1])]
        assert len(main) == 1 and "--remote-debugging-pipe" in procs[main[0]][1]
        assert not any(a.startswith("--remote-debugging-port") for a in procs[main[0]][1])
        # Chromium's log: fatal lines only, into ChromeDriver's /dev/null; no log file in the
        # profile (its INFO lines name the pages it opened).
        args = procs[main[0]][1]
        assert "--log-level=3" in args and "--log-level=0" not in args, args
        assert not list((home / "profile").rglob("chrome_debug.log"))
        assert (home / "profile").is_dir()
        ports = listening_ports(pids)
        chromium_ports = listening_ports(set(browser))
        assert chromium_ports == set(), "Chromium listens on a port: DevTools would be reachable"
        for port in ports:  # ChromeDriver's: nothing without the secret base
            for path in ("/json/list", "/status", "/sessions"):
                probe = as_nobody(
                    PY,
                    "-c",
                    "import sys, urllib.request as u\n"
                    "try:\n"
                    f"    r = u.urlopen('http://127.0.0.1:{port}{path}', timeout=5)\n"
                    "    print(r.status, r.read()[:200])\n"
                    "except Exception as e:\n"
                    "    print('refused', e)\n",
                )
                assert probe.stdout.startswith("refused"), (port, path, probe.stdout)
            new_session = as_nobody(
                PY,
                "-c",
                "import urllib.request as u\n"
                "try:\n"
                f"    u.urlopen(u.Request('http://127.0.0.1:{port}/session', data=b'{{}}',"
                " headers={'Content-Type': 'application/json'}), timeout=5); print('created')\n"
                "except Exception as e:\n"
                "    print('refused', e)\n",
            )
            assert new_session.stdout.startswith("refused"), new_session.stdout
        out = home / "results.csv"
        assert subprocess.run([*tui, "export", "1", "-o", str(out)], capture_output=True, timeout=60).returncode == 0
        store.close()
    finally:
        os.umask(old_umask)
        if worker is not None:
            worker.close()
        sim.stop()
    db = home / "db.sqlite"
    private = [db, out, home / "logs" / "supervisor.log", home / "logs" / "worker.log"]
    private += [p for p in (Path(f"{db}-wal"), Path(f"{db}-shm")) if p.exists()]
    private += [p for p in (home / "run").iterdir() if p.is_file()]
    for p in private:
        assert mode(p) == 0o600, (p, oct(mode(p)))
    for d in (home / "logs", home / "run", home / "profile"):
        assert mode(d) == 0o700, (d, oct(mode(d)))
    for p in (db, out, home / "logs" / "worker.log"):
        denied = as_nobody("cat", str(p))
        assert denied.returncode != 0 and "Permission denied" in denied.stderr, p
    assert as_nobody("ls", str(home / "profile")).returncode != 0
    # The tool says when existing files are readable by others, and how to fix it.
    db.chmod(0o644)
    proc = subprocess.run(
        [PY, str(ROOT / "tui.py"), "--config", str(cfg_path), "jobs"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    warnings = [ln for ln in proc.stderr.splitlines() if ln.startswith("warning:")]
    assert len(warnings) == 1 and str(db) in warnings[0] and "chmod -R go-rwx" in warnings[0]
