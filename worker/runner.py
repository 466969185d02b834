"""The worker: one browser session that sends the queued messages, at a human pace,
keeping the promise (DESIGN.md): each message at most once, and none forgotten.

This file is the life cycle and the loop; the parts live beside it: `session`
(login, QR, phone), `sending` (one message), `verify` (uncertain messages),
`attention` (stopping the line), `heartbeat` (the worker row), `page` (the DOM).
"""

from __future__ import annotations

import argparse
import ctypes
import logging
import os
import random
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

import settings
from common import runfiles
from common.errors import exit_on_user_error
from store import Store

from . import pacing
from .attention import Attention
from .browser import UserError, browser_pids, kill_pids, start_browser
from .clock import Clock, SystemClock
from .heartbeat import Heartbeat
from .page import Interrupted, WhatsAppPage
from .replies import ReplyReader
from .sending import Sender, StopNow
from .session import Session
from .verify import Verifier

log = logging.getLogger("worker")

EXIT_OK = runfiles.EXIT_OK
EXIT_CRASH = runfiles.EXIT_CRASH
EXIT_USER = runfiles.EXIT_USER
EXIT_RESTART = runfiles.EXIT_RESTART
PR_SET_PDEATHSIG = 1

SLICE = 0.2  # seconds: the longest the worker sleeps between two looks at the signals


class RestartNow(Exception):
    pass


def make_worker_id(account: str, start: float | None = None) -> str:
    """host:account:pid:start; unique per worker (two accounts' workers may share a process in tests)."""
    return f"{runfiles.host_name()}:{account}:{os.getpid()}:{int(start or time.time())}"


class Worker:
    def __init__(self, cfg: Any, store: Store, clock: Clock, stop_event: threading.Event, worker_id: str) -> None:
        if cfg.account is None:  # the whole config: its first account
            cfg = cfg.for_account()
        self.cfg = cfg
        self.account = cfg.account
        self.store = store
        self.clock = clock
        self.stop_event = stop_event
        self.id = worker_id
        self.run_dir = Path(cfg.paths.run_dir)
        # This account's signal files; the global pause and stop act on every account.
        self.own_dir = runfiles.account_dir(self.run_dir, self.account)
        self.driver: Any = None
        self.service: Any = None
        self.page: WhatsAppPage | None = None
        self.pids: list[int] = []
        self.hb = Heartbeat(
            store, worker_id, cfg.worker.heartbeat_interval, self._browser_pids, navigation=cfg.browser.navigation
        )
        self.session = Session(self)
        self.sender = Sender(self)
        self.verifier = Verifier(self)
        self.replies = ReplyReader(self)
        self.due_at = 0.0  # the send time the loop waits for
        self.late_max = 0.0  # the latest a send started after its due time, this run
        self.attention = Attention(self)
        self.next_send_at = 0.0
        self.clicked = False
        self.rng = random.Random()
        self._config_mtime = _mtime(cfg.path)
        # Started by a supervisor: the worker never outlives it (docs/supervisor.md).
        sup = os.environ.get(runfiles.SUPERVISOR_PID_VAR, "")
        self.supervisor_pid = int(sup) if sup.isdigit() else None

    def _browser_pids(self) -> list[int]:
        self.pids = browser_pids(self.service) or self.pids
        return self.pids

    # ------------------------------------------------------------------ signals
    def control(self) -> str | None:
        if self.stop_event.is_set() or self.flag(runfiles.STOP) or self.orphaned():
            return "stop"
        if self.flag(runfiles.PAUSE):
            return "pause"
        return None

    def flag(self, name: str) -> bool:
        return runfiles.is_set(self.own_dir, name) or runfiles.is_set(self.run_dir, name)

    def take_restart(self) -> bool:
        """A restart asked for this account; a worker without a supervisor also takes the
        global one (the supervisor hands that one to every account)."""
        mine = runfiles.clear_flag(self.own_dir, runfiles.RESTART)
        if self.supervisor_pid is None:
            mine = runfiles.clear_flag(self.run_dir, runfiles.RESTART) or mine
        return mine

    def orphaned(self) -> bool:
        """Our supervisor is gone (SIGKILL): nothing watches us any more, so we stop."""
        if self.supervisor_pid is None or os.getppid() == self.supervisor_pid:
            return False
        if not self.stop_event.is_set():
            log.warning("the supervisor (pid %d) is gone: stopping", self.supervisor_pid)
            self.stop_event.set()
        return True

    def step_check(self) -> None:
        """Called inside every browser wait: a stop always ends the step, a pause only before the click."""
        c = self.control()
        if c == "stop" or (c == "pause" and not self.clicked):
            raise Interrupted(c)

    def nap(self, seconds: float = SLICE) -> None:
        """Sleep up to `seconds` in slices, returning early when a signal file appears or goes."""
        start = self.control()
        end = time.monotonic() + seconds
        while True:
            left = end - time.monotonic()
            if left <= 0:
                return
            self.clock.sleep(min(SLICE, left))
            if self.control() != start:
                return

    def browser_alive(self) -> bool:
        try:
            self.driver.execute_script("return 1")
            return True
        except Exception:
            return False

    # ------------------------------------------------------------------ life cycle
    def run(self) -> int:
        self.run_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        # A restart asked for before we started is done: this start reads the config anew.
        self.take_restart()
        self.store.register_worker(self.id, os.getpid(), account=self.account, host=runfiles.host_name())
        self.hb.start()
        code = EXIT_CRASH
        try:
            code = self._run()
        except UserError as exc:
            log.error("%s", exc)
            code = EXIT_USER
        except StopNow:
            code = EXIT_OK
        except RestartNow:
            code = EXIT_RESTART
        except Exception as exc:
            if self.control() == "stop":  # e.g. Ctrl+C reached Chromium too: still a clean stop
                log.info("stopping (%s)", exc.__class__.__name__)
                code = EXIT_OK
            else:
                log.exception("worker crashed: %s", exc)
                try:
                    self.store.log_event(
                        "worker_crash", f"worker {self.id} crashed: {exc.__class__.__name__}", level="error"
                    )
                except Exception:
                    pass
                code = EXIT_CRASH
        finally:
            self.hb.set("stopping", current_message_id=None)
            self.close_browser()
            self.hb.stop()
            try:
                self.store.worker_stopped(self.id)
                self.store.log_event("worker_stopped", f"worker {self.id} stopped (exit {code})")
            except Exception as exc:
                log.warning("could not record the stop: %s", exc)
        log.info("worker %s exits with %d", self.id, code)
        return code

    def close_browser(self) -> None:
        pids = browser_pids(self.service) if self.service is not None else []
        if self.driver is not None:
            try:
                self.driver.quit()
            except Exception as exc:
                log.warning("closing the browser: %s", exc)
        self.driver = None
        time.sleep(0.1)
        kill_pids([p for p in pids if _alive(p)])

    def wait_while_held(self) -> None:
        """The doctor uses the browser profile: wait without a browser until it is done."""
        while runfiles.is_set(self.own_dir, runfiles.HOLD):
            if self.control() == "stop":
                raise StopNow()
            self.hb.set("held", current_message_id=None, detail="the browser is lent to the selector doctor")
            self.nap(0.5)

    def _run(self) -> int:
        cfg = self.cfg
        host = runfiles.host_name()
        other = self.store.account_elsewhere(self.account, host, since=time.time() - runfiles.LOST_AFTER)
        if other is not None:
            raise UserError(
                f"account {self.account} is already sending from host {other['host']} "
                f"(its worker's heartbeat is {time.time() - other['heartbeat_at']:.0f} s old): "
                "an account runs on one host; give this one another name or stop it there"
            )
        self.wait_while_held()
        self.hb.set("booting", detail="starting the browser")
        self.store.log_event(
            "worker_started",
            f"worker {self.id} of account {self.account} started "
            f"(pid {os.getpid()}, navigation {cfg.browser.navigation})",
        )
        self.driver, self.service = start_browser(cfg.browser)
        self.hb.write()
        self.page = WhatsAppPage(self.driver, cfg, check=self.step_check)
        self.session.load()
        self.attention.clear_if_fixed()
        self.verifier.load_at_start()
        return self.loop()

    # ------------------------------------------------------------------ the loop
    def loop(self) -> int:
        cfg, store = self.cfg, self.store
        while True:
            c = self.control()
            if c == "stop":
                return EXIT_OK
            if self.take_restart():
                log.info("restart requested")
                return EXIT_RESTART
            if runfiles.is_set(self.own_dir, runfiles.HOLD):
                log.info("the selector doctor needs the browser: letting go of it until it is done")
                return EXIT_RESTART
            if c == "pause":
                self.hb.set("paused", current_message_id=None)
                self.nap(1.0)
                continue
            if self.wait_for_attention():
                continue
            if not self.session.ensure():
                self.nap()
                continue
            if self.verifier.urgent_pending and self.verifier.run_due(queue_empty=False):
                continue
            now = self.clock.now()
            lt = self.clock.localtime()
            s = cfg.sending
            if not pacing.in_window(s.window_start, s.window_end, lt):
                store.finish_jobs()  # its last message may have been sent (or verified) just now
                self.hb.set(
                    "outside_window", current_message_id=None, next_send_at=pacing.next_window_start(s.window_start, lt)
                )
                self.nap(1.0)
                continue
            if self.at_daily_cap(lt):
                store.finish_jobs()  # the message that reached the cap may have been the job's last
                self.hb.set("daily_cap", current_message_id=None, next_send_at=pacing.next_midnight(lt))
                self.nap(1.0)
                continue
            if now < self.next_send_at:
                self.due_at = self.next_send_at
                if self.verifier.run_due(queue_empty=False):
                    continue
                if self.replies.due(self.next_send_at):
                    self.hb.set("reading_replies", current_message_id=None, next_send_at=self.next_send_at)
                    self.replies.look(self.next_send_at)
                    continue
                self.hb.set("waiting", current_message_id=None, next_send_at=self.next_send_at)
                self.nap(min(self.next_send_at - now, 1.0))
                continue
            msg = store.claim(self.id, account=self.account, now=now)
            if msg is None:
                store.finish_jobs()
                if self.verifier.run_due(queue_empty=True):
                    continue
                nxt = store.next_start_at(now)
                if self.replies.due(nxt):
                    self.hb.set("reading_replies", current_message_id=None, next_send_at=nxt)
                    self.replies.look(nxt)
                    continue
                self.hb.set("idle", current_message_id=None, next_send_at=nxt)
                self.nap(cfg.worker.poll_interval)
                continue
            # How late this send is against the due time it waited for (reading replies
            # must not delay it; bench_replies reads the figure).
            if self.due_at:
                self.late_max = max(self.late_max, now - self.due_at)
                self.due_at = 0.0
                self.hb.note(late_max_s=round(self.late_max, 3))
            self.sender.process(msg)

    def at_daily_cap(self, lt: time.struct_time) -> bool:
        """This account's cap for today (its warm-up day) is reached. Publishes both figures."""
        s = self.cfg.sending
        first = (self.store.account(self.account) or {}).get("first_sent_at")
        cap = s.cap_today(first, self.clock.now())
        sent = self.store.sent_since(pacing.local_midnight(lt), account=self.account)
        self.hb.note(sent_today=sent, cap_today=cap)
        return cap > 0 and sent >= cap

    def wait_for_attention(self) -> bool:
        """True while sending is stopped for a person (the loop then waits). A change of the
        config file restarts the worker, which then reads the new selectors."""
        doc = self.attention.current()
        if doc is None:
            return False
        if _mtime(self.cfg.path) != self._config_mtime:
            log.info("the config file changed: restarting to read it")
            raise RestartNow()
        self.hb.set(
            "needs_attention",
            current_message_id=None,
            key=doc["key"],
            dump=doc.get("dump"),
            detail=self.attention.describe(doc),
        )
        self.nap(1.0)
        return True

    def schedule_next(self) -> None:
        self.hb.sent_this_run += 1
        s = self.cfg.sending
        delay = pacing.delay_after(
            self.hb.sent_this_run,
            delay_min=s.delay_min,
            delay_max=s.delay_max,
            long_pause_every=s.long_pause_every,
            long_pause_min=s.long_pause_min,
            long_pause_max=s.long_pause_max,
            rng=self.rng,
        )
        self.next_send_at = self.clock.now() + delay


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        return True
    except OSError:
        return False


def _mtime(path: Any) -> float | None:
    try:
        return Path(path).stat().st_mtime if path else None
    except OSError:
        return None


def run_worker(
    cfg: Any,
    *,
    store: Store | None = None,
    clock: Clock | None = None,
    stop_event: threading.Event | None = None,
    worker_id: str | None = None,
) -> int:
    """Run one worker until stopped. Returns the exit code (0 stop, 1 crash, 2 user error, 75 restart)."""
    own_store = store is None
    st = store or Store(cfg.paths.database)
    try:
        if cfg.account is None:
            cfg = cfg.for_account()
        w = Worker(
            cfg, st, clock or SystemClock(), stop_event or threading.Event(), worker_id or make_worker_id(cfg.account)
        )
        return w.run()
    finally:
        if own_store:
            st.close()


def die_with_parent() -> None:
    """Linux: SIGTERM when the process that started us dies (the supervisor's SIGKILL)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    except (OSError, AttributeError):  # pragma: no cover - not Linux: the parent watch remains
        pass


def main(argv: list[str] | None = None) -> int:
    from common import safefiles

    ap = argparse.ArgumentParser(
        prog="python -m worker", description="Send the queued WhatsApp messages through one browser session."
    )
    ap.add_argument("--config", help="config file (default: $WA_SENDER_CONFIG or ./config.toml)")
    ap.add_argument("--db", help="database file (default: paths.database of the config)")
    ap.add_argument(
        "--account", help=f"the account to send for (default: the config's first account; also ${runfiles.ACCOUNT_VAR})"
    )
    ap.add_argument("--verbose", "-v", action="store_true", help="debug logging")
    args = ap.parse_args(argv)
    safefiles.private_umask()
    if os.environ.get(runfiles.SUPERVISOR_PID_VAR):
        die_with_parent()
    return _main(args)


@exit_on_user_error
def _main(args: argparse.Namespace) -> int:
    from common import applog

    ctx = settings.resolve(args.config, args.db)
    cfg = ctx.cfg.for_account(args.account or os.environ.get(runfiles.ACCOUNT_VAR) or None)
    level = logging.DEBUG if args.verbose else logging.INFO
    # stderr carries what a person must see; the log file has everything.
    applog.setup(
        "worker",
        Path(cfg.paths.log_dir),
        stream=sys.stderr,
        stream_format="worker: %(message)s",
        stream_level=level if args.verbose else logging.WARNING,
        level=level,
    )
    stop = threading.Event()

    def on_signal(signum: int, _frame: Any) -> None:
        log.info("signal %s: stopping", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    return run_worker(cfg, stop_event=stop)
