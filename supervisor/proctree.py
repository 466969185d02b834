"""The worker's process tree: tracking, measuring and killing it, Chromium included.

Chromium forks helpers (zygote, renderers, GPU) and some of them may leave the
worker's process group or be re-parented when their parent dies. So the tree is
tracked three ways, and every one is used when killing:

- the process group of the worker (it is started with ``start_new_session=True``);
- every descendant ever seen while polling (``psutil.Process`` objects, which carry
  their creation time, so a reused pid is never signalled);
- an environment tag (``WA_SENDER_TAG``) that the worker and everything it starts
  inherit: after the worker is gone, any process still carrying its tag is a leftover.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterable

import psutil

from common.runfiles import TAG_VAR

BROWSER_HINTS = ("chrom", "headless_shell")


def is_browser(p: psutil.Process) -> bool:
    try:
        name = p.name().lower()
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return False
    return any(h in name for h in BROWSER_HINTS)


def gone(p: psutil.Process, *, reap: bool = False) -> bool:
    """Dead, reaped, replaced by another process with the same pid, or a zombie.

    ``reap`` collects a zombie child; never use it on a process owned by a Popen
    object (the worker), or Popen would lose its exit status.
    """
    try:
        if not p.is_running():
            return True
        if p.status() == psutil.STATUS_ZOMBIE:
            if reap:
                _reap(p.pid)
            return True
        return False
    except psutil.NoSuchProcess:
        return True
    except psutil.AccessDenied:
        return False


def _reap(pid: int) -> None:
    """Collect a zombie if it is our child (we may be a sub-reaper); harmless otherwise."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except (ChildProcessError, OSError):
        pass


def _signal(p: psutil.Process, sig: int) -> None:
    try:
        p.send_signal(sig)  # psutil refuses if the pid now belongs to another process
    except (psutil.NoSuchProcess, psutil.AccessDenied, ProcessLookupError):
        pass


def killpg(pgid: int, sig: int) -> None:
    if pgid <= 1 or pgid == os.getpgid(0):
        return
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def own_children() -> list[psutil.Process]:
    """This process's direct children, zombies included.

    Linux lists each thread's children in /proc/self/task/TID/children: a few small reads,
    where psutil's ``children()`` reads the stat file of every process on the machine (on a
    busy host, most of a supervisor's tick). A child that exits while the files are read
    may be missed; the next tick sees its zombie. Without those files (a kernel built
    without them), psutil's way."""
    me = os.getpid()
    if not os.path.exists(f"/proc/{me}/task/{me}/children"):
        try:
            kids: list[psutil.Process] = psutil.Process().children()
        except psutil.Error:
            return []
        return kids
    pids: set[int] = set()
    for tid in os.listdir(f"/proc/{me}/task"):
        try:
            with open(f"/proc/{me}/task/{tid}/children", encoding="ascii") as f:
                pids.update(int(x) for x in f.read().split())
        except OSError:  # the thread ended meanwhile
            continue
    out = []
    for pid in sorted(pids):
        try:
            out.append(psutil.Process(pid))
        except psutil.Error:
            continue
    return out


def tagged(var: str, value: str, *, exclude: Iterable[int] = ()) -> list[psutil.Process]:
    """Processes of this user whose environment has ``var=value`` (reads /proc/PID/environ)."""
    skip = set(exclude) | {os.getpid()}
    found = []
    for p in psutil.process_iter():
        if p.pid in skip:
            continue
        try:
            if p.environ().get(var) == value and p.status() != psutil.STATUS_ZOMBIE:
                found.append(p)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess, OSError):
            continue
    return found


def wait_gone(procs: Iterable[psutil.Process], timeout: float) -> list[psutil.Process]:
    """Wait until every process is gone; returns those still alive at the deadline."""
    procs = list(procs)
    deadline = time.monotonic() + timeout
    while True:
        alive = [p for p in procs if not gone(p)]
        if not alive or time.monotonic() >= deadline:
            return alive
        time.sleep(0.05)


def kill_all(procs: Iterable[psutil.Process], timeout: float = 5.0) -> list[psutil.Process]:
    """SIGKILL every process and wait for them; returns those still alive at the deadline."""
    procs = list(procs)
    for p in procs:
        _signal(p, signal.SIGKILL)
    return wait_gone(procs, timeout)


class Tree:
    """Everything the worker started, remembered so nothing escapes when it dies."""

    def __init__(self, root_pid: int, tag: str | None = None) -> None:
        self.root_pid = root_pid
        self.pgid = root_pid  # start_new_session=True: group id == session id == pid
        self.tag = tag
        try:
            self.root: psutil.Process | None = psutil.Process(root_pid)
            self.started = self.root.create_time()
        except psutil.NoSuchProcess:
            self.root = None
            self.started = time.time()
        self.known: set[psutil.Process] = set()

    # ------------------------------------------------------------------ tracking
    def refresh(self) -> list[psutil.Process]:
        """Record the current descendants; return the live members (root excluded)."""
        if self.root is not None:
            try:
                self.known.update(self.root.children(recursive=True))
            except (psutil.NoSuchProcess, psutil.ZombieProcess):
                pass
        self.known = {p for p in self.known if not gone(p)}
        return list(self.known)

    def adopt(self, pids: Iterable[int]) -> None:
        """Add browser pids the worker reported, if they really are browsers it started."""
        for pid in pids or ():
            try:
                p = psutil.Process(int(pid))
                if p.create_time() >= self.started - 1 and is_browser(p):
                    self.known.add(p)
            except (psutil.NoSuchProcess, psutil.AccessDenied, ValueError, TypeError):
                continue

    def members(self) -> list[psutil.Process]:
        procs = [p for p in self.known if not gone(p)]
        if self.root is not None and not gone(self.root):
            procs.insert(0, self.root)
        return procs

    def stats(self) -> dict[str, float | int]:
        """Memory (RSS summed over the tree, MB), CPU % (summed) and browser count."""
        rss = 0
        cpu = 0.0
        browsers = 0
        for p in self.members():
            try:
                with p.oneshot():
                    rss += p.memory_info().rss
                    cpu += p.cpu_percent(None)
                    if p is not self.root and is_browser(p):
                        browsers += 1
            except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
                continue
        return {"memory_mb": round(rss / 1048576, 1), "cpu_percent": round(cpu, 1), "browser_processes": browsers}

    def leftovers(self) -> list[psutil.Process]:
        """Live processes of this tree other than the root (after the root has exited)."""
        procs = {p for p in self.known if not gone(p)}
        if self.tag:
            procs.update(tagged(TAG_VAR, self.tag))
        if self.root is not None:
            procs.discard(self.root)
        return list(procs)

    # ------------------------------------------------------------------ killing
    def signal_all(self, sig: int, *, group: bool = True) -> None:
        if group:
            killpg(self.pgid, sig)
        for p in self.members():
            _signal(p, sig)

    def stop(self, timeout: float = 5.0) -> list[psutil.Process]:
        """SIGTERM the root and every descendant, SIGKILL those still alive after
        ``timeout``; returns what outlived even that.

        The descendants are looked up before any signal: once a parent dies its children
        are re-parented and can no longer be found from the root."""
        self.refresh()
        procs = self.members()
        # The group id stays ours only while its leader lives; later a new session may get it.
        group = self.root is not None and not gone(self.root)
        self.signal_all(signal.SIGTERM, group=group)
        alive = wait_gone(procs, timeout)
        if not alive:
            return []
        return kill_all(alive, timeout)

    def kill_leftovers(self, timeout: float = 5.0) -> int:
        """SIGKILL whatever of the tree outlived the root. Returns how many were killed."""
        left = self.leftovers()
        # The group may still hold members we never saw; its leader is gone, so the
        # group id cannot be handed to a new process while members remain.
        killpg(self.pgid, signal.SIGKILL)
        kill_all(left, timeout)
        return len(left)
