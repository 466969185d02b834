"""The supervisor's main loop: one worker per enabled account (a `Program` each), each
started, watched, restarted and stopped on its own; one lock, one published state.

One thread, polling every ``poll`` seconds (0.25 by default). Every decision is
logged; the state is published to the database (``kv`` document ``supervisor``) and
to ``run_dir/supervisor.json`` at least once a second and on every change: the
supervisor's own fields, the liveliest worker's state as ``state``, and every
account's worker under ``workers``.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import psutil

from common import dburl, runfiles
from common.runfiles import RUN_DIR_VAR
from store import Store
from store.records import WorkerRow

from . import pidfile
from .proctree import gone, kill_all, own_children, tagged, wait_gone
from .program import Program, exit_label  # noqa: F401  (exit_label: part of this module's API)
from .service import API, ServiceProgram, serve_cmd
from .states import BACKOFF, FATAL, IDLE, PAUSED, RUNNING, STARTING, STATES, STOPPED, overall  # noqa: F401

log = logging.getLogger("supervisor")

PROJECT_DIR = Path(__file__).resolve().parent.parent

PR_SET_CHILD_SUBREAPER = 36


def become_subreaper() -> bool:
    """Orphaned descendants (a dead worker's Chromium) are re-parented to us, not to init."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        return bool(libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0)
    except Exception:  # pragma: no cover - best effort
        return False


def default_worker_cmd(ctx: Any) -> list[str]:
    """`python -m worker` with the supervisor's own run context (config file and database)."""
    return [sys.executable, "-m", "worker", *ctx.argv()]


def as_context(target: Any) -> Any:
    """A RunContext from a RunContext, a Config (its own file and database) or a config path."""
    import settings

    if isinstance(target, settings.RunContext):
        return target
    if isinstance(target, settings.Config):
        path = Path(target.path or settings.DEFAULT_PATH).resolve()
        return settings.RunContext(
            config_path=path, config_source="caller", db_override=target.paths.database, cfg=target
        )
    return settings.resolve(target)


class StartError(Exception):
    """The supervisor cannot start (run directory or database unusable). Shown as one line."""

    user_error = True


class Supervisor:
    """One host's supervisor: owns a `Program` per enabled account (and the API service),
    ticks them, publishes its state (run dir and store), answers the signal files, and
    stops every child with it."""

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
        self.project_dir = PROJECT_DIR
        self.run_dir = Path(cfg.paths.run_dir)
        self.lock = pidfile.RunDirLock(self.run_dir)
        self.store: Store | None = None

        self.state = STARTING
        self.started_at = time.time()
        self.many_accounts = len(cfg.all_accounts()) > 1
        self.programs: dict[str, Program] = {
            a.name: Program(self, a.name, self.worker_cmd) for a in cfg.enabled_accounts()
        }
        # Programs that are not an account's worker: the HTTP API (`[api] enabled`).
        self.services: dict[str, Program] = {}
        self._set_services(cfg)
        self.deliverer: Any = None  # webhooks and the alert command, in a thread of its own
        self._config_mtime = _mtime(self.config_path)
        self.stop_requests = 0
        self._clear_fatal = False
        self._last_publish = 0.0
        self._last_published_key: tuple[object, ...] | None = None
        self._last_slow = 0.0
        self._last_lock_check = 0.0
        self._last_config_check = 0.0
        self._db_warned = False
        self._config_warned: float | None = None

    # ------------------------------------------------------------------ paths
    def _file(self, name: str) -> Path:
        return runfiles.flag(self.run_dir, name)

    def _unlink(self, name: str) -> None:
        runfiles.clear_flag(self.run_dir, name)

    # ------------------------------------------------------------------ requests (signal-safe)
    def request_stop(self) -> None:
        self.stop_requests += 1

    def request_clear_fatal(self) -> None:
        self._clear_fatal = True

    @property
    def stopping(self) -> bool:
        return self.stop_requests > 0 or self._file("stop").exists()

    @property
    def hurry(self) -> bool:
        """A stop by signal (not the stop file): do not wait for workers to end their step."""
        return self.stop_requests > 0

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
                raise StartError(f"cannot open the database {dburl.redact(self.cfg.paths.database)}: {exc}") from None
            self._sync_accounts(self.cfg)
            self._start_deliverer()
            self._kill_orphans_of_dead_supervisor()
            for name in ("stop", "restart"):
                if self._file(name).exists():
                    log.info("removing a stale %s file left from before", name)
                    self._unlink(name)
            self.lock.write_pidfile(
                config=str(self.config_path), db=dburl.redact(self.cfg.paths.database), started_at=self.started_at
            )
            log.info(
                "supervisor %d started (run dir %s, accounts %s, worker: %s)",
                os.getpid(),
                self.run_dir,
                ", ".join(self.programs) or "none enabled",
                " ".join(self.worker_cmd),
            )
            self.publish(force=True)
            while not self.stopping:
                self._tick()
                if self.stopping:
                    break
                time.sleep(self.poll)
            self._shutdown()
            return 0
        finally:
            for p in self.all_programs():  # an exception escaped: never leave a tree behind
                if p.proc is not None:
                    p.stop_worker(graceful=False)
                    p.cleanup_tree()
            if self.deliverer is not None:
                self.deliverer.stop()
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
                self.lock.retake(
                    config=str(self.config_path), db=dburl.redact(self.cfg.paths.database), started_at=self.started_at
                )
                self.publish(force=True)
        if mono - self._last_config_check >= 2.0:
            self._last_config_check = mono
            self._reload_accounts()
        # The global restart is every account's: hand it to each (a worker takes its own).
        if self._unlink_if(runfiles.RESTART):
            for p in self.programs.values():
                runfiles.set_flag(p.own_dir, runfiles.RESTART)
        rows = None
        if mono - self._last_slow >= 1.0:  # worker rows and process scans: once a second
            self._last_slow = mono
            rows = self._worker_rows()
        clear, self._clear_fatal = self._clear_fatal, False
        for p in [*self.programs.values(), *self.services.values()]:
            p.tick(mono, rows, clear)
        self.reap_adopted()
        self.publish()

    def _unlink_if(self, name: str) -> bool:
        return runfiles.clear_flag(self.run_dir, name)

    def _worker_rows(self) -> list[WorkerRow]:
        if self.store is None or not any(p.proc for p in self.programs.values()):
            return []
        try:
            return self.store.workers()
        except Exception as exc:  # a busy or broken database must not kill the supervisor
            self._warn_db(exc)
            return []

    # ------------------------------------------------------------------ accounts
    def _sync_accounts(self, cfg: Any) -> None:
        if self.store is None:
            return
        try:
            self.store.sync_accounts({a.name: a.enabled for a in cfg.all_accounts()})
        except Exception as exc:
            self._warn_db(exc)

    def _reload_accounts(self) -> None:
        """The config file changed: start workers of newly enabled accounts, stop those of
        disabled or removed ones. (A worker whose own settings changed is restarted by
        whoever changed them: the restart file.)"""
        mtime = _mtime(self.config_path)
        if mtime == self._config_mtime:
            return
        import settings
        from common.errors import one_line

        try:
            cfg = settings.load(self.config_path)
        except settings.ConfigError as exc:
            if self._config_warned != mtime:
                self._config_warned = mtime
                log.warning(
                    "the config file changed but cannot be read (%s): keeping the accounts as they are", one_line(exc)
                )
            return
        self._config_mtime = mtime
        if self.ctx.db_override is not None:
            cfg = cfg.with_database(self.ctx.db_override)
        wanted = [a.name for a in cfg.enabled_accounts()]
        self.many_accounts = self.many_accounts or len(cfg.all_accounts()) > 1
        for name in [n for n in self.programs if n not in wanted]:
            log.info("account %s is no longer enabled: stopping its worker", name)
            self.programs.pop(name).shut_down(by_file=False)
        for name in wanted:
            if name not in self.programs:
                log.info("account %s is enabled: starting its worker", name)
                self.programs[name] = Program(self, name, self.worker_cmd)
        self.cfg = dataclasses.replace(
            self.cfg,
            accounts=cfg.accounts,
            api=cfg.api,
            webhooks=cfg.webhooks,
            delivery=cfg.delivery,
            alerts=cfg.alerts,
        )
        self._set_services(self.cfg)
        if self.deliverer is not None:
            self.deliverer.reconfigure(self.cfg)
        self._sync_accounts(cfg)
        self.publish(force=True)

    # ------------------------------------------------------------------ services, webhooks
    def all_programs(self) -> list[Program]:
        return [*self.programs.values(), *self.services.values()]

    def _set_services(self, cfg: Any) -> None:
        """`serve` runs while `[api] enabled` is true (a changed host or port: restarted)."""
        old = self.services.get(API)
        want = cfg.api.enabled
        where = (cfg.api.host, cfg.api.port)
        if old is not None and (not want or getattr(old, "where", None) != where):
            log.info("[api] %s: stopping the API", "disabled" if not want else "host or port changed")
            self.services.pop(API).shut_down(by_file=False)
            old = None
        if want and old is None:
            self.services[API] = ServiceProgram(self, API, serve_cmd(self.ctx, PROJECT_DIR), where=where)

    def _start_deliverer(self) -> None:
        """Webhooks and the alert command: their own thread, so that a slow receiver never
        holds up the watching of the workers. It runs even with no target (it prunes)."""
        from webhooks import Deliverer

        try:
            self.deliverer = Deliverer(
                Store(self.cfg.paths.database), self.cfg, log=logging.getLogger("supervisor.webhooks")
            ).start()
        except Exception as exc:  # never a reason not to supervise the workers
            log.warning("webhooks: cannot start the deliverer: %s", exc)

    def log_fatal(self, account: str | None, reason: str, *, program: str = "worker") -> None:
        """A program went `fatal`: an event for webhooks and the alert command (worker.fatal)."""
        if self.store is None:
            return
        try:
            self.store.log_event(
                "worker_fatal",
                f"{program} of account {account} is fatal: {reason}" if account else f"{program} is fatal: {reason}",
                account=account,
                level="error",
                payload={"program": program, "reason": reason},
            )
        except Exception as exc:
            self._warn_db(exc)

    # ------------------------------------------------------------------ orphans (sub-reaper)
    def adopted_orphans(self) -> list[psutil.Process]:
        """As a sub-reaper, every child but the current workers is a leftover of an old tree."""
        if not self.subreaper:
            return []
        current = {p.proc.pid for p in self.all_programs() if p.proc is not None and p.proc.returncode is None}
        kids = own_children()
        return [k for k in kids if k.pid not in current and not gone(k)]

    def reap_adopted(self) -> None:
        if not self.subreaper:
            return
        current = {p.proc.pid for p in self.all_programs() if p.proc is not None}
        for k in own_children():
            if k.pid not in current:
                gone(k, reap=True)

    def _kill_orphans_of_dead_supervisor(self) -> None:
        """We hold the run dir's lock, so a process tagged with this run dir is an orphan."""
        left = tagged(RUN_DIR_VAR, str(self.run_dir))
        if not left:
            return
        log.warning(
            "found %d process(es) left by a previous supervisor on %s (pids %s): stopping them",
            len(left),
            self.run_dir,
            ", ".join(str(p.pid) for p in left),
        )
        for p in left:
            try:
                p.terminate()
            except psutil.Error:
                pass
        kill_all(wait_gone(left, self.sup.stop_timeout))

    def _shutdown(self) -> None:
        by_file = self._file("stop").exists()
        log.info("stopping (%s)", "stop file" if by_file else "signal")
        # Every account's worker at once: each may take stop_timeout to end its step.
        threads = [
            threading.Thread(target=p.shut_down, kwargs={"by_file": by_file}, daemon=True) for p in self.all_programs()
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if self.deliverer is not None:
            self.deliverer.stop()
        self.state = STOPPED
        self.publish(force=True)
        self._unlink("stop")
        self._unlink("restart")
        log.info("supervisor stopped")

    # ------------------------------------------------------------------ publishing
    def snapshot(self) -> dict[str, Any]:
        """The published state: the supervisor, each program and the services (supervisor.json)."""
        now, mono = time.time(), time.monotonic()
        workers = {name: p.snapshot(mono) for name, p in self.programs.items()}
        live = [w for w in workers.values() if w["worker_pid"] is not None]
        first = live[0] if live else next(iter(workers.values()), {})
        state = STOPPED if self.state == STOPPED else overall([w["state"] for w in workers.values()])
        exits = [w for w in workers.values() if w["last_exit_at"]]
        last = max(exits, key=lambda w: w["last_exit_at"]) if exits else {}
        fatal = [w for w in workers.values() if w["fatal_reason"]]
        waits = [w["next_start_in"] for w in workers.values() if w["next_start_in"] is not None]
        return {
            "pid": os.getpid(),
            "state": state,
            "accounts": list(workers),
            "workers": workers,
            # The fields of one worker, for one account (and summed or the first, for several).
            "worker_pid": first.get("worker_pid"),
            "worker_id": first.get("worker_id"),
            "restarts": sum(w["restarts"] for w in workers.values()),
            "recent_restarts": sum(w["recent_restarts"] for w in workers.values()),
            "recycles": sum(w["recycles"] for w in workers.values()),
            "starts": sum(w["starts"] for w in workers.values()),
            "last_exit": last.get("last_exit"),
            "last_exit_at": last.get("last_exit_at"),
            "started_at": self.started_at,
            "worker_started_at": first.get("worker_started_at"),
            "uptime": first.get("uptime", 0.0),
            "supervisor_uptime": round(now - self.started_at, 1),
            "heartbeat_at": first.get("heartbeat_at"),
            "cpu_percent": round(sum(w["cpu_percent"] for w in workers.values()), 1),
            "memory_mb": round(sum(w["memory_mb"] for w in workers.values()), 1),
            "browser_processes": sum(w["browser_processes"] for w in workers.values()),
            "memory_limit_mb": self.sup.memory_limit_mb,
            "fatal_reason": "; ".join(
                (f"{w['account']}: " if self.many_accounts else "") + w["fatal_reason"] for w in fatal
            )
            or None,
            "next_start_in": min(waits) if waits else None,
            "paused": self._file("pause").exists(),
            "services": {name: p.snapshot(mono) for name, p in self.services.items()},
            "webhooks": self.deliverer.status() if self.deliverer is not None else None,
            "run_dir": str(self.run_dir),
            "config": str(self.config_path),
            "database": dburl.redact(self.cfg.paths.database),
            "updated_at": now,
        }

    def publish(self, force: bool = False) -> None:
        mono = time.monotonic()
        programs = tuple(
            (n, p.state, p.proc.pid if p.proc else None, p.restarts, p.last_exit, p.fatal_reason)
            for n, p in [*self.programs.items(), *self.services.items()]
        )
        key = (*programs, self.state)
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
                self.store.put_doc(runfiles.supervisor_doc(), snap)
            except Exception as exc:
                self._warn_db(exc)

    def _warn_db(self, exc: Exception) -> None:
        if not self._db_warned:
            self._db_warned = True
            log.warning("database unavailable (%s); going on without it", exc)


def _mtime(path: Any) -> float | None:
    try:
        return Path(path).stat().st_mtime
    except OSError:
        return None
