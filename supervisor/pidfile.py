"""The supervisor's locks and pid file.

- An abstract Unix socket named after the run directory's path (and the user) is bound
  for the supervisor's whole life: it lives in no folder, so `rm -rf run/` cannot take
  it away, and the kernel frees it when the process dies, however it dies. A second
  supervisor for the same run directory cannot bind it and is refused; anyone can
  connect to it to learn the live supervisor's pid (SO_PEERCRED).
- ``supervisor.lock`` in the run directory is held with ``flock(LOCK_EX)`` as well.
- ``supervisor.pid`` is for others to find it: JSON with the pid, the process's
  creation time, a marker and the command line. A stale file (process gone) or a
  reused pid (another process, another creation time or command line) is never
  mistaken for a live supervisor.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import os
import socket
import struct
import time
from pathlib import Path
from typing import Any

import psutil

from common import runfiles, safefiles

MARKER = "wa-sender-supervisor"
PID_FILE = runfiles.PID_FILE
LOCK_FILE = runfiles.LOCK_FILE
STATE_FILE = runfiles.STATE_FILE


class AlreadyRunning(Exception):
    """Another supervisor holds the run directory. The message is shown as is."""

    user_error = True


def write_json_atomic(path: Path, data: Any) -> None:
    safefiles.write_atomic(path, json.dumps(data, indent=1, default=str) + "\n", what="state file")


def socket_name(run_dir: Path) -> bytes:
    """The abstract socket of the supervisor of `run_dir` (per user and resolved path)."""
    digest = hashlib.sha256(str(Path(run_dir).resolve()).encode()).hexdigest()[:32]
    return f"\0wa-sender-supervisor-{os.getuid()}-{digest}".encode()


def socket_holder(run_dir: Path) -> int | None:
    """The pid of the live supervisor of `run_dir` by its abstract socket, or None."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.settimeout(1.0)
        sock.connect(socket_name(run_dir))
        creds = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
        pid, _uid, _gid = struct.unpack("3i", creds)
        return pid if pid > 0 else None
    except OSError:
        return None
    finally:
        sock.close()


def read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _cmdline(p: psutil.Process) -> list[str]:
    try:
        return list(p.cmdline())
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
    """The running supervisor on ``run_dir`` (verified through the pid file, or found by
    its abstract socket when the run directory was removed), or None."""
    info = read_pidfile(run_dir)
    p = verify(info)
    if p is not None and info is not None:
        return p, info
    pid = socket_holder(run_dir)
    if pid is None:
        return None
    try:
        proc = psutil.Process(pid)
        return proc, {"pid": pid, "create_time": proc.create_time(), "run_dir": str(run_dir)}
    except psutil.Error:
        return None


class RunDirLock:
    """The abstract socket and ``flock`` on run_dir/supervisor.lock, plus the pid file while held."""

    def __init__(self, run_dir: Path) -> None:
        self.run_dir = Path(run_dir)
        self.fd: int | None = None
        self.sock: socket.socket | None = None

    def acquire(self, wait: float = 1.5) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.bind(socket_name(self.run_dir))
            sock.listen(64)
            sock.setblocking(False)
        except OSError as exc:
            sock.close()
            if exc.errno == errno.EADDRINUSE:
                raise AlreadyRunning(self._busy_message()) from None
            raise
        sock.set_inheritable(False)
        self.sock = sock
        try:
            self._acquire_file(wait)
        except BaseException:
            self.sock.close()
            self.sock = None
            raise

    def _acquire_file(self, wait: float) -> None:
        safefiles.private_dir(self.run_dir)
        fd = os.open(self.run_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
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
        return (
            f"another supervisor is already running on {self.run_dir} ({who}); "
            f"stop it first (touch {self.run_dir / 'stop'}) or use that one"
        )

    def write_pidfile(self, **extra: Any) -> dict[str, Any]:
        info = describe_self(self.run_dir, **extra)
        write_json_atomic(self.run_dir / PID_FILE, info)
        return info

    def drain(self) -> None:
        """Close the connections of those who asked who we are (their answer was the connect)."""
        if self.sock is None:
            return
        while True:
            try:
                conn, _ = self.sock.accept()
            except (BlockingIOError, OSError):
                return
            conn.close()

    def still_mine(self) -> bool:
        """The run directory still holds our lock and pid file (someone may have removed it)."""
        info = read_pidfile(self.run_dir)
        return bool(info and info.get("pid") == os.getpid() and (self.run_dir / LOCK_FILE).exists())

    def retake(self, **extra: Any) -> None:
        """Recreate the run directory, its lock file and pid file after they were removed."""
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None
        self._acquire_file(0.1)
        self.write_pidfile(**extra)

    def release(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None
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
