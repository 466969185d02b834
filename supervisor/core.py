"""The supervisor's main loop: start the worker, watch it, restart it, stop it.

One thread, polling every ``poll`` seconds (0.25 by default). Every decision is
logged; the state is published to the database (``kv`` document ``supervisor``) and
to ``run_dir/supervisor.json`` at least once a second and on every change.
"""
from __future__ import annotations

import collections
import logging
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any, Sequence

import psutil

import runfiles
from store import Store

from . import pidfile
from .proctree import RUN_DIR_VAR, TAG_VAR, Tree, gone, kill_all, tagged, wait_gone

log = logging.getLogger("supervisor")
wlog = logging.getLogger("supervisor.worker")

PROJECT_DIR = Path(__file__).resolve().parent.parent

# Worker exit codes (the contract with worker/, in runfiles).
EXIT_OK = runfiles.EXIT_OK
EXIT_USER_ERROR = runfiles.EXIT_USER
EXIT_RESTART = runfiles.EXIT_RESTART

STARTING, RUNNING, BACKOFF, PAUSED, FATAL, STOPPED = "starting", "running", "backoff", "paused", "fatal", "stopped"
STATES = (STARTING, RUNNING, BACKOFF, PAUSED, FATAL, STOPPED)

PR_SET_CHILD_SUBREAPER = 36


def become_subreaper() -> bool:
    """Orphaned descendants (a dead worker's Chromium) are re-parented to us, not to init."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    except Exception:  # pragma: no cover - best effort
        return False


def exit_label(rc: int) -> int | str:
    """An exit status as shown to people: the code, or the signal's name (``SIGKILL``)."""
    if rc < 0:
        try:
            return signal.Signals(-rc).name
        except ValueError:
            return f"signal {-rc}"
    return rc


def default_worker_cmd(ctx: Any) -> list[str]:
    """`python -m worker` with the supervisor's own run context (config file and database)."""
    return [sys.executable, "-m", "worker", *ctx.argv()]


def as_context(target: Any) -> Any:
    """A RunContext from a RunContext, a Config (its own file and database) or a config path."""
    import config as configmod

    if isinstance(target, configmod.RunContext):
        return target
    if isinstance(target, configmod.Config):
        path = Path(target.path or configmod.DEFAULT_PATH).resolve()
        return configmod.RunContext(config_path=path, config_source="caller",
                                    db_override=Path(target.paths.database), cfg=target)
    return configmod.resolve(target)


class StartError(Exception):
    """The supervisor cannot start (run directory or database unusable). Shown as one line."""

    user_error = True


class Supervisor:
    def __init__(
        self,
        ctx: Any,
        *,
        worker_cmd: Sequence[str] | None = None,
        poll: float = 0.25,
        recycle_margin: float = 30.0,
        subreaper: bool = False,
    ) -> None:
        self.ctx = as_context(ctx)
        cfg = self.ctx.cfg
        self.cfg = cfg
        self.sup = cfg.supervisor
        self.config_path = self.ctx.config_path
        self.worker_cmd = list(worker_cmd) if worker_cmd else default_worker_cmd(self.ctx)
        self.poll = poll
        self.recycle_margin = recycle_margin
        self.subreaper = subreaper
        self.run_dir = Path(cfg.paths.run_dir)
        self.lock = pidfile.RunDirLock(self.run_dir)
        self.store: Store | None = None

        self.state = STARTING
        self.started_at = time.time()
        self.proc: subprocess.Popen | None = None
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
        self.stats = {"memory_mb": 0.0, "cpu_percent": 0.0, "browser_processes": 0}
        self.output_tail: collections.deque[str] = collections.deque(maxlen=20)
        self._reader: threading.Thread | None = None
        self._stop_requests = 0
        self._clear_fatal = False
        self._last_publish = 0.0
        self._last_published_key: tuple | None = None
        self._last_slow = 0.0
        self._last_lock_check = 0.0
        self._db_warned = False

    # ------------------------------------------------------------------ paths
    def _file(self, name: str) -> Path:
        return runfiles.flag(self.run_dir, name)

    def _unlink(self, name: str) -> None:
        runfiles.clear_flag(self.run_dir, name)

    # ------------------------------------------------------------------ requests (signal-safe)
    def request_stop(self) -> None:
        self._stop_requests += 1

    def request_clear_fatal(self) -> None:
        self._clear_fatal = True

    @property
    def stopping(self) -> bool:
        return self._stop_requests > 0 or self._file("stop").exists()

    # ------------------------------------------------------------------ life
    def run(self) -> int:
        """Run until a stop request (signal or stop file). Raises AlreadyRunning."""
        try:
            self.lock.acquire()
        except OSError as exc:
            raise StartError(f"cannot use the run directory {self.run_dir}: {exc}") from None
        try:
            if self.subreaper and become_subreaper():
                log.debug("supervisor is a child sub-reaper")
            try:
                self.store = Store(self.cfg.paths.database)
            except Exception as exc:
                raise StartError(f"cannot open the database {self.cfg.paths.database}: {exc}") from None
            self._kill_orphans_of_dead_supervisor()
            for name in ("stop", "restart"):
                if self._file(name).exists():
                    log.info("removing a stale %s file left from before", name)
                    self._unlink(name)
            self.lock.write_pidfile(config=str(self.config_path), db=str(self.cfg.paths.database),
                                    started_at=self.started_at)
            log.info("supervisor %d started (run dir %s, worker: %s)", os.getpid(), self.run_dir,
                     " ".join(self.worker_cmd))
            self._publish(force=True)
            while not self.stopping:
                self._tick()
                if self.stopping:
                    break
                time.sleep(self.poll)
            self._shutdown()
            return 0
        finally:
            if self.proc is not None:  # an exception escaped: never leave the tree behind
                self._stop_worker(graceful=False)
                self._cleanup_tree()
            self.lock.release()
            if self.store is not None:
                self.store.close()

    def _tick(self) -> None:
        mono = time.monotonic()
        self.lock.drain()
        if mono - self._last_lock_check >= 1.0:
            self._last_lock_check = mono
            if not self.lock.still_mine():
                # `rm -rf run/`: the abstract socket still keeps a second supervisor out;
                # put the files back so that everyone else finds us again.
                log.warning("the run directory %s or its lock was removed: recreating it", self.run_dir)
                self.lock.retake(config=str(self.config_path), db=str(self.cfg.paths.database),
                                 started_at=self.started_at)
                self._publish(force=True)
        if self.state == FATAL:
            if self._clear_fatal or self._file("restart").exists():
                self._unlink("restart")
                log.info("fatal state cleared by a manual start")
                self._reset_counters()
                self.fatal_reason = None
                self._spawn()
            self._clear_fatal = False
        elif self.proc is None:
            self._clear_fatal = False
            if mono >= self.next_start:
                self._spawn()
        else:
            self._clear_fatal = False
            rc = self.proc.poll()
            if rc is not None:
                self._on_exit(rc)
            else:
                self._watch(mono)
        self._reap_adopted()
        self._publish()

    # ------------------------------------------------------------------ worker start
    def _spawn(self) -> None:
        self._unlink("restart")  # a request meant for the previous worker
        tag = f"{os.getpid()}-{uuid.uuid4().hex[:12]}"
        env = dict(os.environ, PYTHONUNBUFFERED="1", **{TAG_VAR: tag, RUN_DIR_VAR: str(self.run_dir),
                                                         runfiles.SUPERVISOR_PID_VAR: str(os.getpid())})
        self.starts += 1
        try:
            self.proc = subprocess.Popen(
                self.worker_cmd, cwd=PROJECT_DIR, env=env, stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True, close_fds=True,
            )
        except OSError as exc:
            self._fatal(f"cannot start the worker ({' '.join(self.worker_cmd)}): {exc}")
            return
        self.tree = Tree(self.proc.pid, tag)
        self.worker_started_at = time.time()
        self.worker_started_mono = time.monotonic()
        self.worker_id = None
        self.heartbeat_at = None
        self.stable_reached = False
        self.recycle_at = None
        self.expected = None
        self.state = STARTING
        self.output_tail.clear()
        self._reader = threading.Thread(target=self._forward_output, args=(self.proc,), daemon=True,
                                        name=f"worker-output-{self.proc.pid}")
        self._reader.start()
        log.info("worker started (pid %d, start #%d)", self.proc.pid, self.starts)
        self._publish(force=True)

    def _forward_output(self, proc: subprocess.Popen) -> None:
        assert proc.stdout is not None
        for raw in iter(proc.stdout.readline, b""):
            line = raw.decode("utf-8", "replace").rstrip()
            if line:
                self.output_tail.append(line)
                wlog.info("[worker %d] %s", proc.pid, line)
        proc.stdout.close()

    # ------------------------------------------------------------------ watching
    def _heartbeat_row(self) -> dict | None:
        if self.store is None or self.proc is None:
            return None
        try:
            rows = self.store.workers()
        except Exception as exc:  # a busy or broken database must not kill the supervisor
            self._warn_db(exc)
            return None
        for row in rows:
            if row.get("pid") == self.proc.pid and (row.get("started_at") or 0) >= (self.worker_started_at or 0) - 5:
                return row
        return None

    def _watch(self, mono: float) -> None:
        assert self.proc is not None and self.tree is not None
        sup = self.sup
        now = time.time()
        age = mono - self.worker_started_mono
        if mono - self._last_slow >= 1.0:  # a scan of all processes: once a second is enough
            self._last_slow = mono
            self.tree.refresh()
            if self.subreaper:  # escaped descendants were re-parented to us
                self.tree.known.update(self._adopted_orphans())
            row = self._heartbeat_row()
            if row is not None:
                self.worker_id = row.get("id")
                self.heartbeat_at = row.get("heartbeat_at")
                self.tree.adopt(row.get("browser_pids") or [])
            self.stats = self.tree.stats()

        # state shown: starting until start_seconds have passed and the worker wrote a heartbeat
        if age < sup.start_seconds or self.heartbeat_at is None:
            self.state = STARTING
        else:
            self.state = PAUSED if self._file("pause").exists() else RUNNING

        # a stable run resets the restart budget and the backoff
        if not self.stable_reached and age >= sup.stable_seconds:
            self.stable_reached = True
            if self.restart_times or self.failed_starts:
                log.info("worker stable for %.0f s: restart counters reset", age)
            self._reset_counters()

        # heartbeat watchdog
        if self.heartbeat_at is None:
            if age > sup.start_seconds + sup.heartbeat_timeout:
                self._hung(f"no heartbeat {age:.0f} s after start")
                return
        elif age >= sup.start_seconds and now - self.heartbeat_at > sup.heartbeat_timeout:
            self._hung(f"last heartbeat {now - self.heartbeat_at:.0f} s ago (limit {sup.heartbeat_timeout:g} s)")
            return

        # browser recycling
        limit = sup.memory_limit_mb
        if self.recycle_at is None:
            if limit > 0 and self.state in (RUNNING, PAUSED) and self.stats["memory_mb"] > limit:
                log.info("worker tree uses %.0f MB (limit %d MB): asking for a restart between messages",
                         self.stats["memory_mb"], limit)
                runfiles.set_flag(self.run_dir, runfiles.RESTART)
                self.recycle_at = mono
        elif mono - self.recycle_at > sup.stop_timeout + self.recycle_margin:
            log.warning("worker did not restart within %.0f s of the request: stopping it the hard way",
                        mono - self.recycle_at)
            self.expected = "recycle"
            rc = self._stop_worker(graceful=True)
            self._on_exit(rc)

    def _hung(self, why: str) -> None:
        log.warning("worker %d hangs (%s): killing it", self.proc.pid if self.proc else -1, why)
        self.expected = "hung"
        rc = self._stop_worker(graceful=True)
        self._on_exit(rc)

    # ------------------------------------------------------------------ exits and restarts
    def _on_exit(self, rc: int) -> None:
        assert self.proc is not None
        now, mono = time.time(), time.monotonic()
        ran = mono - self.worker_started_mono
        pid = self.proc.pid
        self._cleanup_tree()
        if self._reader is not None:  # its last words (the reason of an exit 2) are in the pipe
            self._reader.join(timeout=1.0)
            self._reader = None
        self.proc = None
        self.stats = {"memory_mb": 0.0, "cpu_percent": 0.0, "browser_processes": 0}
        self.last_exit, self.last_exit_at = exit_label(rc), now
        recycling = self.recycle_at is not None or self.expected == "recycle"
        expected, self.expected, self.recycle_at = self.expected, None, None
        log.info("worker %d exited (%s) after %.1f s%s", pid, self._exit_text(rc), ran,
                 f" [{expected}]" if expected else "")

        if self.stopping:
            return
        sup = self.sup
        quick_restart = rc == EXIT_RESTART and ran < sup.start_seconds and not recycling
        if quick_restart:
            log.warning("restart requested again within start_seconds: counted as a failed start (no loop)")
        elif rc == EXIT_RESTART or expected == "recycle":
            self.restarts += 1
            self.recycles += recycling
            log.info("%s: starting the worker again now (not counted as a failure)",
                     "browser recycling" if recycling else "restart requested")
            self._unlink("restart")
            self.state = STARTING
            self.next_start = mono
            self._spawn()
            return
        if rc == EXIT_USER_ERROR:
            detail = self.output_tail[-1] if self.output_tail else "see the log"
            self._fatal(f"worker exited with status 2 (a user error; restarting will not help): {detail}")
            return

        if ran < sup.start_seconds:
            self.failed_starts += 1
            kind = f"failed start #{self.failed_starts} (exited within {sup.start_seconds:g} s)"
        else:
            self.failed_starts = 0
            kind = ("hung" if expected == "hung" else
                    "exited 0 without a stop request" if rc == EXIT_OK else "crash")
        self._prune(mono)
        if len(self.restart_times) >= sup.max_restarts:
            self._fatal(f"worker failed {len(self.restart_times) + 1} times within {sup.restart_period:g} s "
                        f"(max_restarts {sup.max_restarts}); last exit {self.last_exit}")
            return
        delay = min(sup.backoff_max, sup.backoff_initial * 2 ** max(self.failed_starts - 1, 0))
        self.restart_times.append(mono)
        self.restarts += 1
        self.state = BACKOFF
        self.next_start = mono + delay
        log.warning("%s: restarting in %.1f s (%d of %d restarts within %g s)", kind, delay,
                    len(self.restart_times), sup.max_restarts, sup.restart_period)
        self._publish(force=True)

    def _exit_text(self, rc: int) -> str:
        if rc < 0:
            return f"killed by {exit_label(rc)}"
        meaning = {0: "graceful stop", 2: "user error", 75: "restart requested"}.get(rc, "crash")
        return f"status {rc}: {meaning}"

    def _fatal(self, reason: str) -> None:
        self.state = FATAL
        self.fatal_reason = reason
        self._unlink("restart")
        log.error("FATAL: %s. The worker stays stopped until started by hand "
                  "(dashboard start, `touch %s`, or restart the supervisor).", reason, self._file("restart"))
        self._publish(force=True)

    def _prune(self, mono: float) -> None:
        while self.restart_times and mono - self.restart_times[0] > self.sup.restart_period:
            self.restart_times.popleft()

    def _reset_counters(self) -> None:
        self.restart_times.clear()
        self.failed_starts = 0

    # ------------------------------------------------------------------ stopping and cleaning
    def _stop_worker(self, *, graceful: bool) -> int:
        """SIGTERM the group (and every known member), wait stop_timeout, SIGKILL. Returns the status."""
        assert self.proc is not None and self.tree is not None
        proc, tree = self.proc, self.tree
        tree.refresh()
        if graceful and proc.poll() is None:
            log.info("stopping worker %d: SIGTERM to its process group", proc.pid)
            tree.signal_all(signal.SIGTERM)
            seen_requests = self._stop_requests
            deadline = time.monotonic() + self.sup.stop_timeout
            while time.monotonic() < deadline:
                if proc.poll() is not None and not wait_gone(tree.members(), 0):
                    break
                if self._stop_requests > max(seen_requests, 1):  # a second Ctrl-C: no more waiting
                    log.info("second stop request: killing now")
                    break
                time.sleep(0.05)
        members = tree.refresh() + ([tree.root] if tree.root is not None else [])
        if proc.poll() is None or wait_gone(members, 0):  # anyone of the tree still alive
            if graceful:
                log.warning("worker tree still alive after %g s: SIGKILL", self.sup.stop_timeout)
            tree.signal_all(signal.SIGKILL)
            wait_gone(members, 5.0)
        try:
            return proc.wait(timeout=5)
        except subprocess.TimeoutExpired:  # pragma: no cover - SIGKILL cannot be ignored
            return proc.poll() or -9

    def _cleanup_tree(self) -> None:
        """After the worker is gone: kill anything of its tree that outlived it."""
        if self.tree is None:
            return
        killed = self.tree.kill_leftovers()
        orphans = self._adopted_orphans()
        kill_all(orphans)
        if killed or orphans:
            log.info("killed %d leftover process(es) of the worker's tree", killed + len(orphans))
        self.tree = None
        self._reap_adopted()

    def _adopted_orphans(self) -> list[psutil.Process]:
        """As a sub-reaper, every child but the current worker is a leftover of an old tree."""
        if not self.subreaper:
            return []
        current = self.proc.pid if self.proc is not None and self.proc.returncode is None else None
        try:
            kids = psutil.Process().children()
        except psutil.Error:
            return []
        return [k for k in kids if k.pid != current and not gone(k)]

    def _reap_adopted(self) -> None:
        if not self.subreaper:
            return
        current = self.proc.pid if self.proc is not None else None
        try:
            kids = psutil.Process().children()
        except psutil.Error:
            return
        for k in kids:
            if k.pid != current:
                gone(k, reap=True)

    def _kill_orphans_of_dead_supervisor(self) -> None:
        """We hold the run dir's lock, so a process tagged with this run dir is an orphan."""
        left = tagged(RUN_DIR_VAR, str(self.run_dir))
        if not left:
            return
        log.warning("found %d process(es) left by a previous supervisor on %s (pids %s): stopping them",
                    len(left), self.run_dir, ", ".join(str(p.pid) for p in left))
        for p in left:
            try:
                p.terminate()
            except psutil.Error:
                pass
        kill_all(wait_gone(left, self.sup.stop_timeout))

    def _shutdown(self) -> None:
        by_file = self._file("stop").exists()
        log.info("stopping (%s)", "stop file" if by_file else "signal")
        if self.proc is not None:
            if by_file and self.proc.poll() is None:
                # The worker watches the stop file too: give it the time to finish its step.
                deadline = time.monotonic() + self.sup.stop_timeout
                while self.proc.poll() is None and time.monotonic() < deadline and self._stop_requests == 0:
                    time.sleep(0.05)
            rc = self._stop_worker(graceful=True)
            self._on_exit(rc)
        self.state = STOPPED
        self._publish(force=True)
        self._unlink("stop")
        self._unlink("restart")
        log.info("supervisor stopped")

    # ------------------------------------------------------------------ publishing
    def snapshot(self) -> dict[str, Any]:
        now, mono = time.time(), time.monotonic()
        self._prune(mono)
        running = self.proc is not None
        return {
            "pid": os.getpid(),
            "worker_pid": self.proc.pid if running else None,
            "worker_id": self.worker_id if running else None,
            "state": self.state,
            "restarts": self.restarts,
            "recent_restarts": len(self.restart_times),
            "recycles": self.recycles,
            "starts": self.starts,
            "last_exit": self.last_exit,
            "last_exit_at": self.last_exit_at,
            "started_at": self.started_at,
            "worker_started_at": self.worker_started_at if running else None,
            "uptime": round(mono - self.worker_started_mono, 1) if running else 0.0,
            "supervisor_uptime": round(now - self.started_at, 1),
            "heartbeat_at": self.heartbeat_at if running else None,
            "cpu_percent": self.stats["cpu_percent"],
            "memory_mb": self.stats["memory_mb"],
            "browser_processes": self.stats["browser_processes"],
            "memory_limit_mb": self.sup.memory_limit_mb,
            "fatal_reason": self.fatal_reason,
            "next_start_in": round(max(0.0, self.next_start - mono), 1) if self.state == BACKOFF else None,
            "paused": self._file("pause").exists(),
            "run_dir": str(self.run_dir),
            "config": str(self.config_path),
            "database": str(self.cfg.paths.database),
            "updated_at": now,
        }

    def _publish(self, force: bool = False) -> None:
        mono = time.monotonic()
        key = (self.state, self.proc.pid if self.proc else None, self.restarts, self.last_exit, self.fatal_reason)
        if not force and key == self._last_published_key and mono - self._last_publish < 1.0:
            return
        self._last_publish, self._last_published_key = mono, key
        snap = self.snapshot()
        state_file = self.run_dir / runfiles.STATE_FILE
        try:
            pidfile.write_json_atomic(state_file, snap)
        except Exception as exc:  # the run directory may be gone for a moment (rm -rf run/)
            log.warning("cannot write %s: %s", state_file, exc)
        if self.store is not None:
            try:
                self.store.put_doc("supervisor", snap)
            except Exception as exc:
                self._warn_db(exc)

    def _warn_db(self, exc: Exception) -> None:
        if not self._db_warned:
            self._db_warned = True
            log.warning("database unavailable (%s); going on without it", exc)
