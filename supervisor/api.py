"""What the command line and the dashboard call: run, start detached, stop, status, and
the run directory's signal files (pause all, restart)."""

from __future__ import annotations

import faulthandler
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import psutil

import settings
from common import applog, runfiles, safefiles
from common.errors import one_line
from common.runfiles import RUN_DIR_VAR

from . import pidfile
from .core import PROJECT_DIR, StartError, Supervisor, as_context
from .pidfile import AlreadyRunning
from .proctree import kill_all, tagged
from .states import FATAL, STARTING, STOPPED

log = logging.getLogger("supervisor")

DETACHED_VAR = "WA_SENDER_DETACHED"  # set for a detached supervisor: no logging to stdout
WORKER_CMD_VAR = "WA_SENDER_WORKER_CMD"  # JSON list: another worker command (tests, debugging)
LOG_NAME = "supervisor.log"
STDERR_LOG_NAME = "supervisor.stderr.log"


UNSUPERVISED = "unsupervised"  # status: a worker of this run directory runs with no supervisor


class SupervisorError(Exception):
    """A clear, one-line problem starting or stopping the supervisor."""

    user_error = True


def _cfg(target: Any = None) -> Any:
    if isinstance(target, settings.RunContext):
        return target.cfg
    if target is not None and hasattr(target, "supervisor") and hasattr(target, "paths"):
        return target
    return settings.load(target)


def _install_signals(sup: Supervisor) -> dict[int, Any]:
    if threading.current_thread() is not threading.main_thread():
        return {}
    old: dict[int, Any] = {}

    def stop(signum: int, _frame: Any) -> None:
        log.info("received %s", signal.Signals(signum).name)
        sup.request_stop()

    def clear(_signum: int, _frame: Any) -> None:
        sup.request_clear_fatal()

    wanted: list[tuple[int, Any]] = [(signal.SIGINT, stop), (signal.SIGTERM, stop), (signal.SIGUSR1, clear)]
    # A plain SSH shell going away sends SIGHUP: stop gracefully (unless run under nohup).
    if signal.getsignal(signal.SIGHUP) is not signal.SIG_IGN:
        wanted.append((signal.SIGHUP, stop))
    for signum, handler in wanted:
        old[signum] = signal.signal(signum, handler)
    return old


def run_foreground(target: Any = None, *, worker_cmd: Sequence[str] | None = None) -> int:
    """Supervise the worker until SIGINT/SIGTERM/SIGHUP or the stop file; returns the exit status.

    `target`: a RunContext (or a config path). 0 after a stop; 2 with one clear line on
    stderr when the config is bad or another supervisor runs on the same run directory.
    """
    try:
        ctx = as_context(target)
    except settings.ConfigError as exc:
        print(f"error: {one_line(exc)}", file=sys.stderr)
        return 2
    cfg = ctx.cfg
    if worker_cmd is None and os.environ.get(WORKER_CMD_VAR):
        worker_cmd = json.loads(os.environ[WORKER_CMD_VAR])
    safefiles.private_umask()
    applog.setup("supervisor", Path(cfg.paths.log_dir), stream=None if os.environ.get(DETACHED_VAR) else sys.stdout)
    sup = Supervisor(ctx, worker_cmd=worker_cmd, subreaper=True)
    old = _install_signals(sup)
    if threading.current_thread() is threading.main_thread():
        faulthandler.register(signal.SIGUSR2, all_threads=True)  # `kill -USR2 PID`: where is it stuck?
    try:
        return sup.run()
    except (AlreadyRunning, StartError) as exc:
        print(f"error: {one_line(exc)}", file=sys.stderr)
        return 2
    finally:
        for signum, handler in old.items():
            signal.signal(signum, handler)


def _read_state(cfg: Any, store: Any = None) -> dict[str, Any] | None:
    doc = pidfile.read_json(Path(cfg.paths.run_dir) / pidfile.STATE_FILE)
    if doc is None and store is not None:
        try:
            doc = store.get_doc(runfiles.supervisor_doc())
        except Exception:
            doc = None
    return doc if isinstance(doc, dict) else None


def status(target: Any = None, *, store: Any = None) -> dict[str, Any] | None:
    """The supervisor's published state, with its liveness checked through the pid file.

    ``target`` is a Config or a config path. Returns None when no supervisor ever ran
    on this run directory. ``alive`` says whether the supervisor process really runs;
    when it does not, ``state`` is ``stopped`` and ``stale`` tells whether it died
    without saying so (the published state still named another state).
    """
    cfg = _cfg(target)
    run_dir = Path(cfg.paths.run_dir)
    doc = _read_state(cfg, store)
    live = pidfile.live_supervisor(run_dir)
    orphans = [] if live is not None else tagged(RUN_DIR_VAR, str(run_dir))
    if doc is None and live is None and not orphans:
        return None
    doc = dict(doc or {})
    if live is not None:
        proc, info = live
        if doc.get("pid") != proc.pid:  # alive, has not published yet
            doc = {"pid": proc.pid, "state": STARTING, "worker_pid": None, "started_at": info.get("started_at")}
        doc.update(alive=True, stale=False)
    elif orphans:
        # Its supervisor died (kill -9) but processes it started still run: never "stopped".
        doc.update(
            stale=True, state=UNSUPERVISED, alive=False, worker_pid=None, orphan_pids=sorted(p.pid for p in orphans)
        )
    else:
        doc.update(
            stale=doc.get("state") not in (None, STOPPED),
            state=STOPPED,
            alive=False,
            worker_pid=None,
            browser_processes=0,
            memory_mb=0.0,
            cpu_percent=0.0,
            uptime=0.0,
        )
    doc["age"] = round(time.time() - doc["updated_at"], 1) if doc.get("updated_at") else None
    return doc


def clear_fatal(target: Any = None) -> bool:
    """Ask a supervisor in the ``fatal`` state to start the worker again (a manual start)."""
    cfg = _cfg(target)
    live = pidfile.live_supervisor(Path(cfg.paths.run_dir))
    if live is None:
        return False
    try:
        live[0].send_signal(signal.SIGUSR1)
    except psutil.AccessDenied:  # another user's supervisor: the file works for everyone
        runfiles.set_flag(cfg.paths.run_dir, runfiles.RESTART)
    except psutil.NoSuchProcess:
        return False
    return True


def start_detached(target: Any = None, *, wait: float = 10.0) -> int:
    """Start ``python tui.py worker`` with this run context in a new session (survives the
    dashboard and SSH).

    Returns the supervisor's pid. A manual start clears ``fatal``: when the running
    supervisor is fatal it is told to start the worker again and its pid is returned.
    Raises AlreadyRunning when one already runs, SupervisorError when it fails to start.
    """
    ctx = as_context(target)
    cfg = ctx.cfg
    run_dir = Path(cfg.paths.run_dir)
    live = pidfile.live_supervisor(run_dir)
    if live is not None:
        state = (status(cfg) or {}).get("state")
        if state == FATAL and clear_fatal(cfg):
            return int(live[0].pid)
        raise AlreadyRunning(f"a supervisor is already running on {run_dir} (pid {live[0].pid}, state {state})")
    cmd = [sys.executable, str(PROJECT_DIR / "tui.py"), "worker", *ctx.argv()]
    log_dir = safefiles.private_dir(cfg.paths.log_dir)
    err_path = log_dir / STDERR_LOG_NAME
    with open(os.open(err_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600), "ab") as err:
        start = err.tell()
        proc = subprocess.Popen(
            cmd,
            cwd=PROJECT_DIR,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=err,
            start_new_session=True,
            close_fds=True,
            env=dict(os.environ, **{DETACHED_VAR: "1"}),
        )
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        rc = proc.poll()
        if rc is not None:
            try:
                with open(err_path, "rb") as fh:
                    fh.seek(start)
                    lines = fh.read().decode("utf-8", "replace").strip().splitlines()
            except OSError:
                lines = []
            why = lines[-1] if lines else f"see {log_dir / LOG_NAME}"
            if rc == 2 and "already running" in why:
                raise AlreadyRunning(why.removeprefix("error: "))
            raise SupervisorError(f"the supervisor exited at once (status {rc}): {why}")
        live = pidfile.live_supervisor(run_dir)
        if live is not None and live[0].pid == proc.pid:
            break
        time.sleep(0.05)
    return proc.pid


def stop(target: Any = None, *, timeout: float | None = None) -> bool:
    """Stop the supervisor of this run directory (it stops the worker first); wait for it.

    True when no supervisor runs any more (or none ran), False when it is still alive
    after ``timeout`` seconds (default: twice stop_timeout plus 10 s).
    """
    cfg = _cfg(target)
    run_dir = Path(cfg.paths.run_dir)
    if timeout is None:
        timeout = 2 * cfg.supervisor.stop_timeout + 10
    live = pidfile.live_supervisor(run_dir)
    if live is None:
        # No supervisor: anything still carrying this run dir's tag is an orphan.
        kill_all(tagged(RUN_DIR_VAR, str(run_dir)))
        return True
    proc = live[0]
    try:
        proc.send_signal(signal.SIGTERM)
    except psutil.AccessDenied:
        runfiles.set_flag(run_dir, runfiles.STOP)
    except psutil.NoSuchProcess:
        return True
    try:
        proc.wait(timeout)  # reaps it if it is our child (started detached by us)
    except psutil.TimeoutExpired:
        return False
    return True


def paused(target: Any = None) -> bool:
    """Whether all sending of this run directory is paused (the `pause` signal file)."""
    return runfiles.is_set(_cfg(target).paths.run_dir, runfiles.PAUSE)


def pause_all(target: Any = None, on: bool = True) -> bool:
    """Pause (or resume) all sending of this run directory; returns the new state."""
    run_dir = _cfg(target).paths.run_dir
    if on:
        runfiles.set_flag(run_dir, runfiles.PAUSE)
    else:
        runfiles.clear_flag(run_dir, runfiles.PAUSE)
    return on


def account_paused(target: Any, account: str) -> bool:
    """Whether one account's sending is paused (its own `pause` file, or the global one)."""
    run_dir = _cfg(target).paths.run_dir
    return runfiles.is_set(runfiles.account_dir(run_dir, account), runfiles.PAUSE) or runfiles.is_set(
        run_dir, runfiles.PAUSE
    )


def pause_account(target: Any, account: str, on: bool = True) -> bool:
    """Pause (or resume) one account's sending (`run/accounts/NAME/pause`); the new state."""
    own = runfiles.account_dir(_cfg(target).paths.run_dir, account)
    if on:
        runfiles.set_flag(own, runfiles.PAUSE)
    else:
        runfiles.clear_flag(own, runfiles.PAUSE)
    return on


def request_restart(target: Any = None) -> None:
    """The worker restarts between two messages (a new config); also clears `fatal`."""
    runfiles.set_flag(_cfg(target).paths.run_dir, runfiles.RESTART)
