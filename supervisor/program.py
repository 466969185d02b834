"""One supervised worker: the worker of one account, in its own process group with its
own browser, start-seconds, backoff, restart budget, `fatal`, heartbeat watchdog and
memory limit (supervisord's "program"). The Supervisor owns one per enabled account
and calls `tick` on each; every state change goes through the table in `states`.
"""

from __future__ import annotations

import collections
import logging
import os
import signal
import subprocess
import threading
import time
import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from common import runfiles
from common.runfiles import RUN_DIR_VAR, TAG_VAR
from store.records import WorkerRow

from .proctree import Tree, kill_all, wait_gone
from .states import BACKOFF, FATAL, PAUSED, RUNNING, STARTING, STOPPED, check

if TYPE_CHECKING:
    from .core import Supervisor

log = logging.getLogger("supervisor")
wlog = logging.getLogger("supervisor.worker")

EXIT_OK = runfiles.EXIT_OK
EXIT_USER_ERROR = runfiles.EXIT_USER
EXIT_RESTART = runfiles.EXIT_RESTART
NO_STATS = {"memory_mb": 0.0, "cpu_percent": 0.0, "browser_processes": 0}


def exit_label(rc: int) -> int | str:
    """An exit status as shown to people: the code, or the signal's name (``SIGKILL``)."""
    if rc < 0:
        try:
            return signal.Signals(-rc).name
        except ValueError:
            return f"signal {-rc}"
    return rc


class Program:
    """One supervised worker (one account): its process group, start seconds, backoff,
    restart budget and `fatal`, heartbeat watchdog and memory limit; every state change
    goes through the table in `states`."""

    def __init__(self, owner: Supervisor, account: str, cmd: Sequence[str]) -> None:
        self.owner = owner
        self.account = account
        self.cmd = list(cmd)
        self.sup = owner.sup
        self.run_dir = owner.run_dir
        self.own_dir = runfiles.account_dir(self.run_dir, account)
        self.prefix = f"[{account}] " if owner.many_accounts else ""

        self.state = STARTING  # its first start is due
        self.proc: subprocess.Popen[bytes] | None = None
        self.tree: Tree | None = None
        self.worker_started_at: float | None = None
        self.worker_started_mono = 0.0
        self.worker_id: str | None = None
        self.heartbeat_at: float | None = None
        self.starts = 0
        self.restarts = 0
        self.recycles = 0
        self.restart_times: collections.deque[float] = collections.deque()
        self.failed_starts = 0
        self.stable_reached = False
        self.last_exit: int | str | None = None
        self.last_exit_at: float | None = None
        self.fatal_reason: str | None = None
        self.next_start = 0.0
        self.recycle_at: float | None = None
        self.expected: str | None = None
        self.stats = dict(NO_STATS)
        self.output_tail: collections.deque[str] = collections.deque(maxlen=20)
        self._reader: threading.Thread | None = None

    # ------------------------------------------------------------------ state
    def move(self, new: str) -> None:
        check(self.state, new)
        self.state = new

    def flag(self, name: str) -> bool:
        return runfiles.is_set(self.own_dir, name)

    @property
    def paused(self) -> bool:
        return self.flag(runfiles.PAUSE) or runfiles.is_set(self.run_dir, runfiles.PAUSE)

    @property
    def stopped_by_file(self) -> bool:
        """`run/accounts/NAME/stop`: this account's worker stays stopped while it is there."""
        return self.flag(runfiles.STOP)

    def info(self, msg: str, *args: Any) -> None:
        log.info(self.prefix + msg, *args)

    def warn(self, msg: str, *args: Any) -> None:
        log.warning(self.prefix + msg, *args)

    # ------------------------------------------------------------------ one step
    def tick(self, mono: float, rows: list[WorkerRow] | None, clear_fatal: bool) -> None:
        if self.state == FATAL:
            if clear_fatal or self.flag(runfiles.RESTART):
                runfiles.clear_flag(self.own_dir, runfiles.RESTART)
                self.info("fatal state cleared by a manual start")
                self.reset_counters()
                self.fatal_reason = None
                self.spawn()
        elif self.proc is None:
            if self.stopped_by_file:
                if self.state != STOPPED:
                    self.info("stopped by %s", runfiles.flag(self.own_dir, runfiles.STOP))
                    self.move(STOPPED)
            elif mono >= self.next_start:
                self.spawn()
        else:
            rc = self.proc.poll()
            if rc is not None:
                self.on_exit(rc)
            else:
                self.watch(mono, rows)

    # ------------------------------------------------------------------ start
    def spawn(self) -> None:
        """Start the worker in its own process group, tagged so that nothing of it outlives us."""
        runfiles.clear_flag(self.own_dir, runfiles.RESTART)  # a request meant for the previous worker
        tag = f"{os.getpid()}-{uuid.uuid4().hex[:12]}"
        env = dict(
            os.environ,
            PYTHONUNBUFFERED="1",
            **{
                TAG_VAR: tag,
                RUN_DIR_VAR: str(self.run_dir),
                runfiles.ACCOUNT_VAR: self.account,
                runfiles.SUPERVISOR_PID_VAR: str(os.getpid()),
            },
        )
        self.starts += 1
        self.move(STARTING)
        try:
            self.proc = subprocess.Popen(
                self.cmd,
                cwd=self.owner.project_dir,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                close_fds=True,
            )
        except OSError as exc:
            self.fatal(f"cannot start the worker ({' '.join(self.cmd)}): {exc}")
            return
        self.tree = Tree(self.proc.pid, tag)
        self.worker_started_at = time.time()
        self.worker_started_mono = time.monotonic()
        self.worker_id = None
        self.heartbeat_at = None
        self.stable_reached = False
        self.recycle_at = None
        self.expected = None
        self.output_tail.clear()
        self._reader = threading.Thread(
            target=self._forward_output, args=(self.proc,), daemon=True, name=f"worker-output-{self.proc.pid}"
        )
        self._reader.start()
        self.info("worker started (pid %d, start #%d)", self.proc.pid, self.starts)
        self.owner.publish(force=True)

    def _forward_output(self, proc: subprocess.Popen[bytes]) -> None:
        assert proc.stdout is not None
        for raw in iter(proc.stdout.readline, b""):
            line = raw.decode("utf-8", "replace").rstrip()
            if line:
                self.output_tail.append(line)
                wlog.info("%s[worker %d] %s", self.prefix, proc.pid, line)
        proc.stdout.close()

    # ------------------------------------------------------------------ watching
    def _heartbeat_row(self, rows: list[WorkerRow]) -> WorkerRow | None:
        assert self.proc is not None
        for row in rows:
            if row.get("pid") == self.proc.pid and (row.get("started_at") or 0) >= (self.worker_started_at or 0) - 5:
                return row
        return None

    def watch(self, mono: float, rows: list[WorkerRow] | None) -> None:
        """`rows`: the worker rows read this second (None: not this tick, or no database)."""
        assert self.proc is not None and self.tree is not None
        sup = self.sup
        now = time.time()
        age = mono - self.worker_started_mono
        if rows is not None:  # once a second: a scan of all processes
            self.tree.refresh()
            if self.owner.subreaper:  # escaped descendants were re-parented to the supervisor
                self.tree.known.update(self.owner.adopted_orphans())
            row = self._heartbeat_row(rows)
            if row is not None:
                self.worker_id = row.get("id")
                self.heartbeat_at = row.get("heartbeat_at")
                self.tree.adopt(row.get("browser_pids") or [])
            self.stats = self.tree.stats()

        # shown as starting until start_seconds have passed and the worker wrote a heartbeat
        if age < sup.start_seconds or self.heartbeat_at is None:
            self.move(STARTING)
        else:
            self.move(PAUSED if self.paused else RUNNING)

        # a stable run resets the restart budget and the backoff
        if not self.stable_reached and age >= sup.stable_seconds:
            self.stable_reached = True
            if self.restart_times or self.failed_starts:
                self.info("worker stable for %.0f s: restart counters reset", age)
            self.reset_counters()

        # heartbeat watchdog
        if self.heartbeat_at is None:
            if age > sup.start_seconds + sup.heartbeat_timeout:
                self.hung(f"no heartbeat {age:.0f} s after start")
                return
        elif age >= sup.start_seconds and now - self.heartbeat_at > sup.heartbeat_timeout:
            self.hung(f"last heartbeat {now - self.heartbeat_at:.0f} s ago (limit {sup.heartbeat_timeout:g} s)")
            return

        # browser recycling
        limit = sup.memory_limit_mb
        if self.recycle_at is None:
            if limit > 0 and self.state in (RUNNING, PAUSED) and self.stats["memory_mb"] > limit:
                self.info(
                    "worker tree uses %.0f MB (limit %d MB): asking for a restart between messages",
                    self.stats["memory_mb"],
                    limit,
                )
                runfiles.set_flag(self.own_dir, runfiles.RESTART)
                self.recycle_at = mono
        elif mono - self.recycle_at > sup.stop_timeout + self.owner.recycle_margin:
            self.warn(
                "worker did not restart within %.0f s of the request: stopping it the hard way", mono - self.recycle_at
            )
            self.expected = "recycle"
            self.on_exit(self.stop_worker(graceful=True))

    def hung(self, why: str) -> None:
        self.warn("worker %d hangs (%s): killing it", self.proc.pid if self.proc else -1, why)
        self.expected = "hung"
        self.on_exit(self.stop_worker(graceful=True))

    # ------------------------------------------------------------------ exits and restarts
    def on_exit(self, rc: int) -> None:
        """The worker ended: decide from its exit code and uptime whether to restart now, back
        off, or go `fatal`, and say why."""
        assert self.proc is not None
        now, mono = time.time(), time.monotonic()
        ran = mono - self.worker_started_mono
        pid = self.proc.pid
        self.cleanup_tree()
        if self._reader is not None:  # its last words (the reason of an exit 2) are in the pipe
            self._reader.join(timeout=1.0)
            self._reader = None
        self.proc = None
        self.stats = dict(NO_STATS)
        self.last_exit, self.last_exit_at = exit_label(rc), now
        recycling = self.recycle_at is not None or self.expected == "recycle"
        expected, self.expected, self.recycle_at = self.expected, None, None
        self.info(
            "worker %d exited (%s) after %.1f s%s", pid, self._exit_text(rc), ran, f" [{expected}]" if expected else ""
        )

        if self.owner.stopping or expected == "stop":
            return
        if self.stopped_by_file:
            self.info("stopped by %s", runfiles.flag(self.own_dir, runfiles.STOP))
            self.move(STOPPED)
            self.owner.publish(force=True)
            return
        sup = self.sup
        quick_restart = rc == EXIT_RESTART and ran < sup.start_seconds and not recycling
        if quick_restart:
            self.warn("restart requested again within start_seconds: counted as a failed start (no loop)")
        elif rc == EXIT_RESTART or expected == "recycle":
            self.restarts += 1
            self.recycles += recycling
            self.info(
                "%s: starting the worker again now (not counted as a failure)",
                "browser recycling" if recycling else "restart requested",
            )
            runfiles.clear_flag(self.own_dir, runfiles.RESTART)
            self.next_start = mono
            self.spawn()
            return
        if rc == EXIT_USER_ERROR:
            detail = self.output_tail[-1] if self.output_tail else "see the log"
            self.fatal(f"worker exited with status 2 (a user error; restarting will not help): {detail}")
            return

        if ran < sup.start_seconds:
            self.failed_starts += 1
            kind = f"failed start #{self.failed_starts} (exited within {sup.start_seconds:g} s)"
        else:
            self.failed_starts = 0
            kind = "hung" if expected == "hung" else "exited 0 without a stop request" if rc == EXIT_OK else "crash"
        self.prune(mono)
        if len(self.restart_times) >= sup.max_restarts:
            self.fatal(
                f"worker failed {len(self.restart_times) + 1} times within {sup.restart_period:g} s "
                f"(max_restarts {sup.max_restarts}); last exit {self.last_exit}"
            )
            return
        delay = min(sup.backoff_max, sup.backoff_initial * 2 ** max(self.failed_starts - 1, 0))
        self.restart_times.append(mono)
        self.restarts += 1
        self.move(BACKOFF)
        self.next_start = mono + delay
        self.warn(
            "%s: restarting in %.1f s (%d of %d restarts within %g s)",
            kind,
            delay,
            len(self.restart_times),
            sup.max_restarts,
            sup.restart_period,
        )
        self.owner.publish(force=True)

    @staticmethod
    def _exit_text(rc: int) -> str:
        if rc < 0:
            return f"killed by {exit_label(rc)}"
        meaning = {0: "graceful stop", 2: "user error", 75: "restart requested"}.get(rc, "crash")
        return f"status {rc}: {meaning}"

    def fatal(self, reason: str) -> None:
        self.move(FATAL)
        self.fatal_reason = reason
        self.fatal_event(reason)
        runfiles.clear_flag(self.own_dir, runfiles.RESTART)
        log.error(
            "%sFATAL: %s. The worker stays stopped until started by hand "
            "(dashboard start, `touch %s`, or restart the supervisor).",
            self.prefix,
            reason,
            runfiles.flag(self.run_dir, runfiles.RESTART),
        )
        self.owner.publish(force=True)

    def fatal_event(self, reason: str) -> None:
        """Other systems hear of it (webhooks, the alert command): an event in the store."""
        self.owner.log_fatal(self.account, reason)

    def prune(self, mono: float) -> None:
        while self.restart_times and mono - self.restart_times[0] > self.sup.restart_period:
            self.restart_times.popleft()

    def reset_counters(self) -> None:
        self.restart_times.clear()
        self.failed_starts = 0

    # ------------------------------------------------------------------ stopping and cleaning
    def stop_worker(self, *, graceful: bool, give_time: bool = False) -> int:
        """SIGTERM the group (and every known member), wait stop_timeout, SIGKILL. Returns
        the status. `give_time`: first let the worker end its step by itself (it saw the
        stop file)."""
        assert self.proc is not None and self.tree is not None
        proc, tree = self.proc, self.tree
        if give_time and proc.poll() is None:
            deadline = time.monotonic() + self.sup.stop_timeout
            while proc.poll() is None and time.monotonic() < deadline and not self.owner.hurry:
                time.sleep(0.05)
        tree.refresh()
        if graceful and proc.poll() is None:
            self.info("stopping worker %d: SIGTERM to its process group", proc.pid)
            tree.signal_all(signal.SIGTERM)
            seen = self.owner.stop_requests
            deadline = time.monotonic() + self.sup.stop_timeout
            while time.monotonic() < deadline:
                if proc.poll() is not None and not wait_gone(tree.members(), 0):
                    break
                if self.owner.stop_requests > max(seen, 1):  # a second Ctrl-C: no more waiting
                    self.info("second stop request: killing now")
                    break
                time.sleep(0.05)
        members = tree.refresh() + ([tree.root] if tree.root is not None else [])
        if proc.poll() is None or wait_gone(members, 0):  # anyone of the tree still alive
            if graceful:
                self.warn("worker tree still alive after %g s: SIGKILL", self.sup.stop_timeout)
            tree.signal_all(signal.SIGKILL)
            wait_gone(members, 5.0)
        try:
            return proc.wait(timeout=5)
        except subprocess.TimeoutExpired:  # pragma: no cover - SIGKILL cannot be ignored
            return proc.poll() or -9

    def shut_down(self, *, by_file: bool) -> None:
        """The supervisor stops (or this account was disabled): stop the worker for good."""
        if self.proc is not None:
            self.expected = "stop"
            self.on_exit(self.stop_worker(graceful=True, give_time=by_file))
        if self.state != STOPPED:
            self.move(STOPPED)

    def cleanup_tree(self) -> None:
        """After the worker is gone: kill anything of its tree that outlived it."""
        if self.tree is None:
            return
        killed = self.tree.kill_leftovers()
        orphans = self.owner.adopted_orphans()
        kill_all(orphans)
        if killed or orphans:
            self.info("killed %d leftover process(es) of the worker's tree", killed + len(orphans))
        self.tree = None
        self.owner.reap_adopted()

    # ------------------------------------------------------------------ publishing
    def snapshot(self, mono: float) -> dict[str, Any]:
        """This program as the published state shows it."""
        self.prune(mono)
        proc = self.proc
        running = proc is not None
        return {
            "account": self.account,
            "state": self.state,
            "worker_pid": proc.pid if proc is not None else None,
            "worker_id": self.worker_id if running else None,
            "restarts": self.restarts,
            "recent_restarts": len(self.restart_times),
            "recycles": self.recycles,
            "starts": self.starts,
            "last_exit": self.last_exit,
            "last_exit_at": self.last_exit_at,
            "worker_started_at": self.worker_started_at if running else None,
            "uptime": round(mono - self.worker_started_mono, 1) if running else 0.0,
            "heartbeat_at": self.heartbeat_at if running else None,
            **self.stats,
            "fatal_reason": self.fatal_reason,
            "next_start_in": round(max(0.0, self.next_start - mono), 1) if self.state == BACKOFF else None,
            "paused": self.paused,
            "stopped_by_file": self.stopped_by_file,
        }
