"""The worker: one browser session that sends the queued messages of one account, at a
human pace, keeping the promise (docs/design.md): each message at most once, and none forgotten.

This file is the life cycle and the loop; the parts live beside it and share one narrow
`WorkerContext`: `session` (login, QR, phone, who we are), `sending` (one message: an
outcome the loop acts on), `verify` (messages in doubt), `attention` (stopping the line),
`heal` (repairing the selectors by itself), `replies` (reading answers), `heartbeat` (the
worker row), `page` (the DOM, by selectors and by meaning).
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
from settings import Config
from store import Store
from store import states as S
from store.records import Claim
from store.states import WorkerState as W

from . import pacing, typist
from .attention import Attention
from .browser import browser_pids, kill_pids, start_browser
from .clock import Clock, SystemClock
from .context import Controls, WorkerContext
from .errors import BrowserDied, RestartNow, StopNow, WorkerUserError
from .heal import Healer
from .health import AccountWatch
from .heartbeat import Heartbeat
from .page import WhatsAppPage
from .replies import ReplyReader
from .sending import Result, Sender, SendOutcome
from .session import Session
from .verify import Verifier

log = logging.getLogger("worker")

EXIT_OK = runfiles.EXIT_OK
EXIT_CRASH = runfiles.EXIT_CRASH
EXIT_USER = runfiles.EXIT_USER
EXIT_RESTART = runfiles.EXIT_RESTART
PR_SET_PDEATHSIG = 1
CONFIG_LOOK = 2.0  # seconds between two looks at the config file's modification time


def make_worker_id(account: str, start: float | None = None) -> str:
    """host:account:pid:start; unique per worker (two accounts' workers may share a process in tests)."""
    return f"{runfiles.host_name()}:{account}:{os.getpid()}:{int(start or time.time())}"


class Worker:
    """One account's worker: its browser, its session and the loop that sends, verifies,
    reads replies, stops the line and repairs itself. Everything it decides about a
    message goes through the store; everything it does on the page goes through `page`."""

    def __init__(self, cfg: Config, store: Store, clock: Clock, stop_event: threading.Event, worker_id: str) -> None:
        if cfg.account is None:  # the whole config: its first account
            cfg = cfg.for_account()
        self.account = cfg.account_name
        self.id = worker_id
        self.run_dir = Path(cfg.paths.run_dir)
        # Started by a supervisor: the worker never outlives it (docs/supervisor.md).
        sup = os.environ.get(runfiles.SUPERVISOR_PID_VAR, "")
        self.controls = Controls(self.run_dir, self.account, stop_event, clock, int(sup) if sup.isdigit() else None)
        self.driver: Any = None
        self.service: Any = None
        self.pids: list[int] = []
        self._pids_read: tuple[Any, float] = (None, 0.0)  # (the service, when) of `pids`
        hb = Heartbeat(
            store, worker_id, cfg.worker.heartbeat_interval, self._browser_pids, navigation=cfg.browser.navigation
        )
        self.ctx = WorkerContext(store=store, cfg=cfg, clock=clock, hb=hb, controls=self.controls, worker_id=worker_id)
        self.session = Session(self.ctx)
        self.watch = AccountWatch(self.ctx)
        self.sender = Sender(self.ctx, self.session, self.watch)
        self.verifier = Verifier(self.ctx)
        self.replies = ReplyReader(self.ctx, self.watch)
        self.attention = Attention(self.ctx, limit_check=self.watch.why_not_selectors)
        self.healer = Healer(self.ctx, self.session, self.verifier, self.watch)
        self.new_today: int | None = None  # today's budget of new contacts (warm-up applied)
        self.due_at = 0.0  # the send time the loop waits for
        self.late_max = 0.0  # the latest a send started after its due time, this run
        self.next_send_at = 0.0
        self.rng = random.Random()
        self._config_mtime = _mtime(cfg.path)
        self._config_looked = time.monotonic()

    # The worker's own shortcuts to its context.
    @property
    def cfg(self) -> Config:
        return self.ctx.cfg

    @property
    def store(self) -> Store:
        return self.ctx.store

    @property
    def hb(self) -> Heartbeat:
        return self.ctx.hb

    @property
    def page(self) -> WhatsAppPage | None:
        return self.ctx.page

    def _browser_pids(self) -> list[int]:
        """The browser's pids for the heartbeat, read at most once a second for the same
        browser: listing a tree reads every process's stat file on the machine, and the
        heartbeat is written at each step of a message."""
        now = time.monotonic()
        service, at = self._pids_read
        if service is not self.service or now - at >= 1.0 or not self.pids:
            self.pids = browser_pids(self.service) or self.pids
            self._pids_read = (self.service, now)
        return self.pids

    # ------------------------------------------------------------------ life cycle
    def run(self) -> int:
        """The worker's life: register, start the browser, loop until stopped; always close
        the browser and record the stop. Returns the exit code."""
        self.run_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        # A restart asked for before we started is done: this start reads the config anew.
        self.controls.take_restart()
        self.store.register_worker(self.id, os.getpid(), account=self.account, host=runfiles.host_name())
        self.hb.start()
        code = EXIT_CRASH
        try:
            code = self._run()
        except WorkerUserError as exc:
            log.error("%s", exc)
            code = EXIT_USER
        except StopNow:
            code = EXIT_OK
        except RestartNow:
            code = EXIT_RESTART
        except Exception as exc:
            if self.controls.control() == "stop":  # e.g. Ctrl+C reached Chromium too: still a clean stop
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
            self.hb.set(W.STOPPING, current_message_id=None)
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
        while self.controls.held():
            if self.controls.control() == "stop":
                raise StopNow()
            self.hb.set(W.HELD, current_message_id=None, detail="the browser is lent to the selector doctor")
            self.controls.nap(0.5)

    def _run(self) -> int:
        cfg = self.cfg
        host = runfiles.host_name()
        other = self.store.account_elsewhere(self.account, host, since=time.time() - runfiles.LOST_AFTER)
        if other is not None:
            raise WorkerUserError(
                f"account {self.account} is already sending from host {other['host']} "
                f"(its worker's heartbeat is {time.time() - other['heartbeat_at']:.0f} s old): "
                "an account runs on one host; give this one another name or stop it there"
            )
        self.wait_while_held()
        self.hb.set(W.BOOTING, detail="starting the browser")
        self.store.log_event(
            "worker_started",
            f"worker {self.id} of account {self.account} started "
            f"(pid {os.getpid()}, navigation {cfg.browser.navigation})",
        )
        self.driver, self.service = start_browser(cfg.browser)
        self.hb.write()
        self.ctx.page = WhatsAppPage(
            self.driver, cfg, check=self.controls.step_check, own_name=self.session.stored_own_name()
        )
        self.session.load()
        self.attention.clear_if_fixed()
        self.verifier.load_at_start()
        return self.loop()

    # ------------------------------------------------------------------ the loop
    def loop(self) -> int:
        """One pass per turn: signals, config, a line stop (and its repair), the session,
        verifications, the sending window and cap, pacing, replies, then one claimed message."""
        store, controls = self.store, self.controls
        while True:
            c = controls.control()
            if c == "stop":
                return EXIT_OK
            if controls.take_restart():
                log.info("restart requested")
                return EXIT_RESTART
            if controls.held():
                log.info("the selector doctor needs the browser: letting go of it until it is done")
                return EXIT_RESTART
            if c == "pause":
                self.hb.set(W.PAUSED, current_message_id=None)
                controls.nap(1.0)
                continue
            self.reload_config_if_changed()
            if self.wait_for_limit():
                continue
            if self.wait_for_attention():
                continue
            if not self.session.ensure():
                self.watch.logged_out()
                controls.nap()
                continue
            self.watch.logged_in()
            if self.verifier.urgent_pending and self.verifier.run_due(queue_empty=False):
                continue
            now = self.ctx.clock.now()
            lt = self.ctx.clock.localtime()
            s = self.cfg.sending
            if not pacing.in_window(s.window_start, s.window_end, lt):
                store.finish_jobs()  # its last message may have been sent (or verified) just now
                self.hb.set(
                    W.OUTSIDE_WINDOW, current_message_id=None, next_send_at=pacing.next_window_start(s.window_start, lt)
                )
                controls.nap(1.0)
                continue
            if self.at_daily_cap(lt):
                store.finish_jobs()  # the message that reached the cap may have been the job's last
                self.hb.set(W.DAILY_CAP, current_message_id=None, next_send_at=pacing.next_midnight(lt))
                controls.nap(1.0)
                continue
            if now < self.next_send_at - typist.lead(self.cfg.sending):  # typing starts before the due time
                self.due_at = self.next_send_at
                if self.verifier.run_due(queue_empty=False):
                    continue
                if self.replies.due(self.next_send_at):
                    self.read_replies(self.next_send_at)
                    continue
                self.hb.set(W.WAITING, current_message_id=None, next_send_at=self.next_send_at)
                controls.nap(min(self.next_send_at - now, 1.0))
                continue
            msg = store.claim(
                self.id, account=self.account, now=now, new_today=self.new_today, unanswered_margin=s.unanswered_margin
            )
            if msg is None:
                store.finish_jobs()
                if self.verifier.run_due(queue_empty=True):
                    continue
                nxt = store.next_start_at(now)
                if self.replies.due(nxt):
                    self.read_replies(nxt)
                    continue
                self.hb.set(W.IDLE, current_message_id=None, next_send_at=nxt, detail=self.idle_detail())
                controls.nap(self.cfg.worker.poll_interval)
                continue
            self.send(msg, now)

    def send(self, msg: Claim, now: float) -> None:
        """One claimed message, and what its outcome asks of the loop."""
        # How late this send is against the due time it waited for (reading replies
        # must not delay it; bench_replies reads the figure).
        if self.due_at:
            self.late_max = max(self.late_max, now - self.due_at)
            self.due_at = 0.0
            self.hb.note(late_max_s=round(self.late_max, 3))
        outcome = self.sender.process(msg, click_at=self.next_send_at or None)
        self.act_on(outcome)

    def act_on(self, outcome: SendOutcome) -> None:
        if outcome.clicked_at is not None:
            self.schedule_next(outcome.clicked_at)
        if outcome.result is Result.UNKNOWN:
            self.verifier.add(outcome.message_id, own=True)
        if outcome.page_judged:
            self.attention.record(outcome.message_id, outcome.failed_keys)
        if outcome.result is Result.STOP:
            raise StopNow()
        if outcome.browser_gone:
            raise BrowserDied(outcome.reason or f"the browser died while sending message {outcome.message_id}")

    def read_replies(self, until: float | None) -> None:
        self.hb.set(W.READING_REPLIES, current_message_id=None, next_send_at=until)
        self.replies.look(until)
        keys = self.replies.to_repair
        if keys and self.healer.repair_keys(keys, chat=self.replies.failed_in):
            self.replies.health.repaired(keys)

    def at_daily_cap(self, lt: time.struct_time) -> bool:
        """This account's cap for today (its warm-up day) is reached. Publishes both figures."""
        s = self.cfg.sending
        account = self.store.account(self.account)
        first = account.first_sent_at if account is not None else None
        cap = s.cap_today(first, self.ctx.clock.now())
        self.new_today = s.new_contacts_today(first, self.ctx.clock.now())
        sent = self.store.sent_since(pacing.local_midnight(lt), account=self.account)
        self.hb.note(sent_today=sent, cap_today=cap, new_contacts_today=self.new_today)
        return cap > 0 and sent >= cap

    def reload_config_if_changed(self) -> None:
        """Another account's repair, the doctor or a person changed the selectors: read them
        at once. Any other change restarts the worker, which reads the whole file anew."""
        if time.monotonic() - self._config_looked < CONFIG_LOOK:
            return
        self._config_looked = time.monotonic()
        mtime = _mtime(self.cfg.path)
        if mtime == self._config_mtime or self.cfg.path is None:
            return
        self._config_mtime = mtime
        try:
            new = settings.load(self.cfg.path).for_account(self.account)
        except settings.ConfigError as exc:
            log.error("the config file changed but does not load (%s): going on with the one read before", exc)
            return
        if self.cfg.paths.database != new.paths.database:  # --db overrides the file's
            new = new.with_database(self.cfg.paths.database)
        old = self.cfg
        if _without_selectors(new) != _without_selectors(old):
            log.info("the config file changed: restarting to read it")
            raise RestartNow()
        if new.selectors != old.selectors or new.labels != old.labels:
            log.info("the config file's selectors changed: using them now")
            self.ctx.cfg = new
            if self.page is not None:
                self.page.use(new)
            self.attention.clear_if_fixed()

    def wait_for_limit(self) -> bool:
        """True while WhatsApp stops every send of this account (restricted until a time,
        banned for good): the loop waits, looking at the page now and then. A restriction
        whose end passed is lifted, and the next send tries again (worker/health.py)."""
        self.watch.look()
        limit = self.watch.blocking()
        if limit is None:
            return False
        banned = limit.state == S.BANNED
        if banned:
            detail = f"WhatsApp banned this number: sending stopped for good ({limit.reason})"
        else:
            until = time.strftime("%H:%M", time.localtime(limit.until)) if limit.until else "lifted"
            detail = f"WhatsApp restricts this account until {until} ({limit.reason})"
        self.hb.set(
            W.BANNED if banned else W.RESTRICTED,
            current_message_id=None,
            next_send_at=None if banned else limit.until,
            detail=detail,
        )
        left = (limit.until - self.ctx.clock.now()) if limit.until else 1.0
        self.controls.nap(max(0.1, min(left, 1.0)))
        return True

    def idle_detail(self) -> str | None:
        """Why nothing is claimed while new contacts wait: a limit of WhatsApp's, today's
        budget of new contacts, or WhatsApp's unanswered counter near its cap. None when
        nothing waits for this account."""
        limit = self.watch.in_force()
        if limit is not None and limit.state == S.LIMITED_NEW:
            until = time.strftime("%H:%M", time.localtime(limit.until)) if limit.until else "it is lifted"
            return f"WhatsApp refuses new people until {until}: only contacts with a chat are sent to"
        why = self.new_contacts_held()
        if why is None or not self.work_waits():
            return None
        return f"{why}: new people wait, contacts with a chat are still sent"

    def new_contacts_held(self) -> str | None:
        """Why the claim takes no new contact now, if it does not."""
        store, s = self.store, self.cfg.sending
        if self.new_today is not None:
            done = store.new_contacts_today(self.account, now=self.ctx.clock.now())
            if done >= self.new_today:
                return f"today's {self.new_today} new contacts reached ([sending] new_contacts_per_day)"
        account = store.account(self.account)
        used, cap = (account.unanswered, account.unanswered_cap) if account is not None else (None, None)
        if used is not None and cap and used >= cap - s.unanswered_margin:
            margin = s.unanswered_margin
            return f"WhatsApp counts {used} of {cap} unanswered messages ([sending] unanswered_margin = {margin})"
        return None

    def work_waits(self) -> bool:
        """A running job this account may send still has queued messages."""
        return any(
            job.status == S.JOB_RUNNING
            and any(job.counts.get(status, 0) for status in S.QUEUED)
            and (not job.accounts or self.account in job.accounts)
            for job in self.store.jobs(now=self.ctx.clock.now())
        )

    def wait_for_attention(self) -> bool:
        """True while sending is stopped on a failing selector (the loop then waits). The
        worker repairs it by itself when it can (worker/heal.py)."""
        doc = self.attention.current()
        if doc is None:
            return False
        usable = self.page is not None and self.session.ensure()
        if usable:
            why = self.watch.why_not_selectors()
            if why:  # a limit, not the selectors: the stop was wrong to wait for a repair
                self.store.clear_attention(self.account, why=f"not a selector problem: {why}")
                log.info("the line stop is lifted: not a selector problem (%s)", why)
                return False
        if usable and self.healer.should_repair(doc):
            if self.healer.repair_line(doc):
                return False
            doc = self.attention.current() or doc
        self.hb.set(
            W.NEEDS_ATTENTION,
            current_message_id=None,
            key=doc["key"],
            dump=doc.get("dump"),
            detail=self.attention.describe(doc),
        )
        self.controls.nap(1.0)
        return True

    def schedule_next(self, clicked_at: float) -> None:
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
        self.next_send_at = clicked_at + delay


def _without_selectors(cfg: Config) -> Config:
    import dataclasses

    return dataclasses.replace(cfg, selectors={}, labels={})


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        return True
    except OSError:
        return False


def _mtime(path: Path | None) -> float | None:
    try:
        return Path(path).stat().st_mtime if path else None
    except OSError:
        return None


def run_worker(
    cfg: Config,
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
            cfg,
            st,
            clock or SystemClock(),
            stop_event or threading.Event(),
            worker_id or make_worker_id(cfg.account_name),
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
