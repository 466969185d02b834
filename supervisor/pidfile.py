"""The supervisor's lock and pid file in the run directory.

- ``supervisor.lock`` is held with ``flock(LOCK_EX)`` for the supervisor's whole life:
  that is the real guard against two supervisors on one run directory (the kernel
  drops the lock when the process dies, however it dies).
- ``supervisor.pid`` is for others to find it: JSON with the pid, the process's
  creation time, a marker and the command line. A stale file (process gone) or a
  reused pid (another process, another creation time or command line) is never
  mistaken for a live supervisor.
"""
from __future__ import annotations

import errno
import fcntl
import json
import os
import time
from pathlib import Path
from typing import Any

import psutil

MARKER = "wa-sender-supervisor"
PID_FILE = "supervisor.pid"
LOCK_FILE = "supervisor.lock"
STATE_FILE = "supervisor.json"


class AlreadyRunning(Exception):
    """Another supervisor holds the run directory. The message is shown as is."""


def write_json_atomic(path: Path, data: Any) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=1, default=str)
        fh.write("\n")
    os.replace(tmp, path)


def read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _cmdline(p: psutil.Process) -> list[str]:
    try:
        return p.cmdline()
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return []


def describe_self(run_dir: Path, **extra: Any) -> dict[str, Any]:
    me = psutil.Process()
    return {
        "marker": MARKER,
        "pid": me.pid,
        "create_time": me.create_time(),
        "cmdline": _cmdline(me),
        "run_dir": str(run_dir),
        **extra,
    }


def verify(info: Any) -> psutil.Process | None:
    """The live process a pid-file record describes, or None when it is stale."""
    if not isinstance(info, dict) or info.get("marker") != MARKER:
        return None
    try:
        p = psutil.Process(int(info["pid"]))
        if abs(p.create_time() - float(info["create_time"])) > 0.05:
            return None  # the pid was reused by another process
        if info.get("cmdline") and _cmdline(p) != list(info["cmdline"]):
            return None
        if p.status() == psutil.STATUS_ZOMBIE:
            return None
        return p
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess, KeyError, TypeError, ValueError):
        return None


def read_pidfile(run_dir: Path) -> dict[str, Any] | None:
    data = read_json(Path(run_dir) / PID_FILE)
    return data if isinstance(data, dict) else None


def live_supervisor(run_dir: Path) -> tuple[psutil.Process, dict[str, Any]] | None:
    """The running supervisor on ``run_dir`` (verified through the pid file), or None."""
    info = read_pidfile(run_dir)
    p = verify(info)
    return (p, info) if p is not None and info is not None else None


class RunDirLock:
    """``flock`` on run_dir/supervisor.lock, plus the pid file while held."""

    def __init__(self, run_dir: Path) -> None:
        self.run_dir = Path(run_dir)
        self.fd: int | None = None

    def acquire(self, wait: float = 1.5) -> None:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.run_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                    os.close(fd)
                    raise
                if time.monotonic() >= deadline:  # a short probe by someone else is retried
                    os.close(fd)
                    raise AlreadyRunning(self._busy_message()) from None
                time.sleep(0.05)
        self.fd = fd

    def _busy_message(self) -> str:
        live = live_supervisor(self.run_dir)
        who = f"pid {live[0].pid}" if live else "pid unknown"
        return (f"another supervisor is already running on {self.run_dir} ({who}); "
                f"stop it first (touch {self.run_dir / 'stop'}) or use that one")

    def write_pidfile(self, **extra: Any) -> dict[str, Any]:
        info = describe_self(self.run_dir, **extra)
        write_json_atomic(self.run_dir / PID_FILE, info)
        return info

    def release(self) -> None:
        if self.fd is None:
            return
        info = read_pidfile(self.run_dir)
        if info and info.get("pid") == os.getpid():
            try:
                (self.run_dir / PID_FILE).unlink()
            except FileNotFoundError:
                pass
        fcntl.flock(self.fd, fcntl.LOCK_UN)
        os.close(self.fd)
        self.fd = None
