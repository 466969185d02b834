"""The worker: one browser session that sends the queued messages, at a human pace,
keeping the promise (DESIGN.md): each message at most once, and none forgotten."""
from __future__ import annotations

import argparse
import logging
import mimetypes
import os
import random
import signal
import socket
import sys
import threading
import time
from pathlib import Path
from typing import Any

from selenium.common.exceptions import WebDriverException

from store import Store
from store import states as S

from . import pacing
from .browser import UserError, browser_pids, kill_pids, start_browser
from .clock import Clock, SystemClock
from .page import (ChatResult, Interrupted, LoggedOut, PhoneDisconnected, SelectorNotFound, SendFailure,
                   WhatsAppPage, floor_minute, normalize, parse_pre_plain)

log = logging.getLogger("worker")

EXIT_OK = 0
EXIT_CRASH = 1
EXIT_USER = 2
EXIT_RESTART = 75

SLICE = 0.2            # seconds: the longest the worker sleeps between two looks at the signals
REVERIFY_GRACE = 5.0   # own `unknown` messages are re-verified when the queue is empty and they are this old
REVERIFY_PERIOD = 60.0  # ... and in any case once they are this old
VERIFY_RETRY = 30.0    # a verification that could not be done is tried again after this long


class StopNow(Exception):
    pass


class RestartNow(Exception):
    pass


class BrowserDied(Exception):
    pass


class PermanentFailure(Exception):
    """A failure no retry can fix (e.g. the attachment file is missing): failed at once."""


def make_worker_id(start: float | None = None) -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{int(start or time.time())}"


def _resolve_attachment(cfg: Any, path: str) -> Path:
    p = Path(path).expanduser()
    if not p.is_absolute():
        base = Path(cfg.path).resolve().parent if cfg.path else Path.cwd()
        if (base / p).exists():
            p = base / p
    return p.resolve()


class Worker:
    def __init__(self, cfg: Any, store: Store, clock: Clock, stop_event: threading.Event, worker_id: str) -> None:
        self.cfg = cfg
        self.store = store
        self.clock = clock
        self.stop_event = stop_event
        self.id = worker_id
        self.run_dir = Path(cfg.paths.run_dir)
        self.driver: Any = None
        self.service: Any = None
        self.page: WhatsAppPage | None = None
        self.pids: list[int] = []
        self._hb_lock = threading.Lock()
        self._hb: dict[str, Any] = {"state": "starting", "current_message_id": None, "qr": None,
                                    "info": {"login": None, "sent_this_run": 0,
                                             "navigation": cfg.browser.navigation}}
        self._hb_written: tuple[Any, ...] = ()
        self._hb_stop = threading.Event()
        self.sent_this_run = 0
        self.next_send_at = 0.0
        self.jobs_waiting = True      # until the first login is seen, waiting jobs are resumed on login
        self.booting_since: float | None = None
        self._waiting_checked = 0.0
        self.clicked = False
        self.rng = random.Random()
        # Messages to verify: id -> (row, not-before monotonic time). Others' at start, own unknowns later.
        self.to_verify: dict[int, tuple[dict[str, Any], float]] = {}
        self.own_unknown: dict[int, tuple[dict[str, Any], float]] = {}

    # ------------------------------------------------------------------ heartbeat
    def set_state(self, state: str, *, current_message_id: Any = ..., qr: Any = ..., **info: Any) -> None:
        with self._hb_lock:
            self._hb["state"] = state
            if current_message_id is not ...:
                self._hb["current_message_id"] = current_message_id
            if qr is not ...:
                self._hb["qr"] = qr
            # A detail describes the state it came with: a new state without one clears it.
            self._hb["info"]["detail"] = info.pop("detail", None)
            self._hb["info"].update(info)
            self._hb["info"]["sent_this_run"] = self.sent_this_run
            key = (state, self._hb["current_message_id"], self._hb["qr"], self._hb["info"].get("login"))
            changed = key != self._hb_written
        if changed:
            self.write_heartbeat()

    def write_heartbeat(self) -> None:
        try:
            self.pids = browser_pids(self.service) or self.pids
            with self._hb_lock:
                hb = dict(self._hb)
                hb["info"] = dict(self._hb["info"])
                self._hb_written = (hb["state"], hb["current_message_id"], hb["qr"], hb["info"].get("login"))
            self.store.heartbeat(self.id, state=hb["state"], current_message_id=hb["current_message_id"],
                                 qr=hb["qr"], browser_pids=self.pids, info=hb["info"])
        except Exception as exc:  # a busy database must not kill the worker
            log.warning("heartbeat failed: %s", exc)

    def _heartbeat_loop(self) -> None:
        interval = min(self.cfg.worker.heartbeat_interval, 5.0)
        while not self._hb_stop.wait(interval):
            self.write_heartbeat()

    # ------------------------------------------------------------------ signals
    def control(self) -> str | None:
        if self.stop_event.is_set() or (self.run_dir / "stop").exists():
            return "stop"
        if (self.run_dir / "pause").exists():
            return "pause"
        return None

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

    # ------------------------------------------------------------------ life cycle
    def run(self) -> int:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.store.register_worker(self.id, os.getpid())
        hb_thread = threading.Thread(target=self._heartbeat_loop, name="worker-heartbeat", daemon=True)
        hb_thread.start()
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
                    self.store.log_event("worker_crash", f"worker {self.id} crashed: {exc}", level="error")
                except Exception:
                    pass
                code = EXIT_CRASH
        finally:
            self.set_state("stopping", current_message_id=None)
            self.close_browser()
            self._hb_stop.set()
            hb_thread.join(timeout=5)
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

    def _run(self) -> int:
        cfg = self.cfg
        self.set_state("booting", detail="starting the browser")
        self.store.log_event("worker_started", f"worker {self.id} started (pid {os.getpid()}, "
                                               f"navigation {cfg.browser.navigation})")
        self.driver, self.service = start_browser(cfg.browser)
        self.pids = browser_pids(self.service)
        self.write_heartbeat()
        self.page = WhatsAppPage(self.driver, cfg, check=self.step_check)
        self.page.load()
        self.booting_since = time.monotonic()
        for row in self.store.in_flight(exclude_workers=[self.id]):
            self.to_verify[row["id"]] = (row, 0.0)
        if self.to_verify:
            log.info("%d message(s) of a previous worker to verify", len(self.to_verify))
        return self.loop()

    # ------------------------------------------------------------------ the loop
    def loop(self) -> int:
        cfg, store = self.cfg, self.store
        while True:
            c = self.control()
            if c == "stop":
                return EXIT_OK
            restart = self.run_dir / "restart"
            if restart.exists():
                try:
                    restart.unlink()
                except FileNotFoundError:
                    pass
                log.info("restart requested")
                return EXIT_RESTART
            if c == "pause":
                self.set_state("paused", current_message_id=None)
                self.nap(1.0)
                continue
            if not self.ensure_session():
                self.nap()
                continue
            if self.verify_due(startup_only=True):
                continue
            now = self.clock.now()
            lt = self.clock.localtime()
            s = cfg.sending
            if not pacing.in_window(s.window_start, s.window_end, lt):
                self.set_state("outside_window", current_message_id=None,
                               next_send_at=pacing.next_window_start(s.window_start, lt))
                self.nap(1.0)
                continue
            if s.daily_cap > 0 and store.sent_since(pacing.local_midnight(lt)) >= s.daily_cap:
                self.set_state("daily_cap", current_message_id=None, next_send_at=pacing.next_midnight(lt))
                self.nap(1.0)
                continue
            if now < self.next_send_at:
                self.set_state("waiting", current_message_id=None, next_send_at=self.next_send_at)
                self.nap(min(self.next_send_at - now, 1.0))
                continue
            msg = store.claim(self.id, now=now)
            if msg is None:
                store.finish_jobs()
                if self.verify_due(startup_only=False):
                    continue
                self.set_state("idle", current_message_id=None, next_send_at=store.next_start_at(now))
                self.nap(cfg.worker.poll_interval)
                continue
            self.process(msg)

    def ensure_session(self) -> bool:
        """True when logged in with the phone connected; otherwise shows why and returns False."""
        assert self.page is not None
        s = self.page.session()
        login = s["login"]
        if login == "use_here":
            log.info("WhatsApp is open in another window: clicking 'Use here'")
            self.page.click("use_here_button")
            self.store.log_event("use_here", "WhatsApp was open in another window: took it back ('Use here')")
            return False
        if login in ("booting", "unknown"):
            if self.booting_since is None:
                self.booting_since = time.monotonic()
            elif time.monotonic() - self.booting_since > self.cfg.browser.boot_timeout:
                err = self.page.not_found("logged_in", f"WhatsApp Web did not boot within "
                                                       f"{self.cfg.browser.boot_timeout:.0f} s; reloading")
                self.store.log_event("boot_timeout", str(err), level="error")
                self.page.load()
                self.booting_since = time.monotonic()
            self.set_state("booting", current_message_id=None, qr=None, login="booting")
            return False
        self.booting_since = None
        if login == "logged_out":
            if not self.jobs_waiting:
                self.store.set_jobs_waiting(True)
                self.jobs_waiting = True
                self.store.log_event("logged_out", "WhatsApp Web is logged out: scan the QR code", level="warning")
            if s["qr_expired"]:
                log.info("QR code expired: reloading it")
                self.page.click("qr_reload")
            elif time.monotonic() - self._waiting_checked > 2.0:
                self.store.set_jobs_waiting(True)  # jobs started while logged out wait too
                self._waiting_checked = time.monotonic()
            self.set_state("waiting_for_login", current_message_id=None, qr=s["qr"], login="logged_out")
            return False
        if self.jobs_waiting:
            self.store.set_jobs_waiting(False)
            self.jobs_waiting = False
            self.store.log_event("logged_in", "WhatsApp Web is logged in")
        if login == "phone_disconnected":
            self.set_state("phone_disconnected", current_message_id=None, qr=None, login="phone_disconnected")
            return False
        with self._hb_lock:
            stale = self._hb["qr"] is not None or self._hb["info"].get("login") != "logged_in"
            state = self._hb["state"]
        if stale:
            self.set_state(state, qr=None, login="logged_in")
        return True

    # ------------------------------------------------------------------ one message
    def check_job(self, msg: dict[str, Any]) -> None:
        job = self.store.get_job(msg["job_id"])
        if job is None or job["status"] != S.JOB_RUNNING:
            raise Interrupted(f"job {msg['job_id']} is {job['status'] if job else 'gone'}")

    def browser_alive(self) -> bool:
        try:
            self.driver.execute_script("return 1")
            return True
        except Exception:
            return False

    def process(self, msg: dict[str, Any]) -> None:
        cfg, store = self.cfg, self.store
        mid = msg["id"]
        self.clicked = False
        self.set_state("sending", current_message_id=mid, next_send_at=None, detail=f"sending to {msg['phone']}")
        t0 = time.monotonic()
        # ---- before the click: anything that goes wrong is retried (or given back) -----
        try:
            prepared = self.before_click(msg)
        except Interrupted as exc:
            store.release(mid, worker_id=self.id, reason=exc.what)
            if exc.what == "stop":
                raise StopNow() from None
            if exc.what == "use_here":
                self.store.log_event("use_here", "WhatsApp was open in another window: took it back")
            return
        except LoggedOut:
            store.release(mid, worker_id=self.id, reason="logged out")
            return
        except PhoneDisconnected:
            store.release(mid, worker_id=self.id, reason="phone not connected")
            return
        except PermanentFailure as exc:
            store.mark_failed_attempt(mid, str(exc), max_attempts=0, backoff=0, worker_id=self.id,
                                      now=self.clock.now())
            return
        except (SelectorNotFound, SendFailure, WebDriverException) as exc:
            if self.control() == "stop" or not self.browser_alive():
                store.release(mid, worker_id=self.id, reason=f"browser gone: {exc.__class__.__name__}")
                if self.control() == "stop":
                    raise StopNow() from None
                raise BrowserDied(f"the browser died while sending message {mid}: {exc}") from exc
            try:
                login = self.page.session()["login"] if self.page is not None else "logged_in"
            except WebDriverException:
                login = "logged_in"
            if login != "logged_in":
                # The session changed under us (logout, "Use here", phone): not the message's fault.
                store.release(mid, worker_id=self.id, reason=f"{login} while preparing the message")
                return
            error = _short(exc)
            outcome = store.mark_failed_attempt(mid, error, max_attempts=cfg.sending.max_attempts,
                                                backoff=cfg.sending.retry_backoff, worker_id=self.id,
                                                now=self.clock.now())
            log.warning("message %s: %s (%s)", mid, error, outcome)
            return
        if prepared is None:
            store.mark_invalid(mid, "phone number is not on WhatsApp", worker_id=self.id, now=self.clock.now())
            log.info("message %s: %s is not on WhatsApp", mid, msg["phone"])
            return
        button, att_name, before = prepared
        # ---- the click: from here on the message is never sent again blindly -----
        self.clicked = True
        try:
            button.click()
        except WebDriverException as exc:
            self.after_click_failure(msg, f"the send click raised {exc.__class__.__name__}")
            return
        self.schedule_next()
        try:
            ok = self.wait_ack(msg, before, att_name)
        except Interrupted:
            store.mark_unknown(mid, "stopped before the tick", worker_id=self.id, now=self.clock.now())
            raise StopNow() from None
        except LoggedOut:
            self.after_click_failure(msg, "logged out before the tick")
            return
        except WebDriverException as exc:
            self.after_click_failure(msg, f"browser error before the tick: {exc.__class__.__name__}")
            return
        if ok:
            store.mark_sent(mid, worker_id=self.id, now=self.clock.now())
            log.info("message %s to %s sent in %.2f s", mid, msg["phone"], time.monotonic() - t0)
        else:
            self.after_click_failure(msg, f"no tick within {cfg.browser.ack_timeout:g} s (clock stayed)")

    def after_click_failure(self, msg: dict[str, Any], reason: str) -> None:
        mid = msg["id"]
        self.store.mark_unknown(mid, reason, worker_id=self.id, now=self.clock.now())
        row = self.store.message(mid) or msg
        self.own_unknown[mid] = (row, time.monotonic())
        log.warning("message %s: %s -> unknown (verified later)", mid, reason)
        if self.control() != "stop" and not self.browser_alive():
            raise BrowserDied(f"the browser died after the send click of message {mid}")

    def schedule_next(self) -> None:
        self.sent_this_run += 1
        s = self.cfg.sending
        delay = pacing.delay_after(self.sent_this_run, delay_min=s.delay_min, delay_max=s.delay_max,
                                   long_pause_every=s.long_pause_every, long_pause_min=s.long_pause_min,
                                   long_pause_max=s.long_pause_max, rng=self.rng)
        self.next_send_at = self.clock.now() + delay

    def before_click(self, msg: dict[str, Any]) -> tuple[Any, str | None, int] | None:
        """Open the chat, put the text (and attachment) in, find the send button.
        Returns None for an invalid number, else (send button, attachment name, matching bubbles before)."""
        page = self.page
        assert page is not None
        self.check_job(msg)
        att_path: Path | None = None
        if msg.get("attachment"):
            att_path = _resolve_attachment(self.cfg, msg["attachment"])
            if not att_path.is_file():
                raise PermanentFailure(f"attachment not found: {att_path}")
        chat: ChatResult = page.open_chat(msg["phone"])
        if chat.invalid:
            return None
        timeout = min(self.cfg.browser.chat_timeout, 15.0)
        if att_path is None:
            page.type_text("compose_box", msg["text"])
            key, att_name = "send_button", None
        else:
            mime = mimetypes.guess_type(att_path.name)[0] or ""
            input_key = "media_input" if mime.startswith(("image/", "video/")) else "document_input"
            if page.find(input_key, visible=False) is None:
                page.wait_for("attach_button", timeout)
                page.click("attach_button")
            file_input = page.wait_for(input_key, timeout, visible=False)
            file_input.send_keys(str(att_path))
            page.wait_for("caption_box", timeout)
            if msg["text"]:
                page.type_text("caption_box", msg["text"])
            key, att_name = "media_send", att_path.name
        button = page.wait_for(key, timeout)
        # The last look before the click: signals, job status, session.
        self.step_check()
        self.check_job(msg)
        m = page.match(msg["text"], att_name)
        if m["qr"] and not m["logged_in"]:
            raise LoggedOut()
        if m["phone_disconnected"]:
            raise PhoneDisconnected()
        return button, att_name, int(m["count"])

    def wait_ack(self, msg: dict[str, Any], before: int, att_name: str | None) -> bool:
        """After the click: True when the new bubble with this text shows a tick in time."""
        page = self.page
        assert page is not None
        timeout = self.cfg.browser.ack_timeout
        deadline = time.monotonic() + timeout
        last = time.monotonic()
        while True:
            m = page.match(msg["text"], att_name)
            now = time.monotonic()
            if m["count"] > before and m["ack"]:
                return True
            if m["qr"] and not m["logged_in"]:
                raise LoggedOut()
            if m["phone_disconnected"]:
                deadline += now - last  # waiting for the phone does not use up the ack timeout
                self.set_state("phone_disconnected", login="phone_disconnected")
            last = now
            if now >= deadline:
                return False
            if self.control() == "stop":
                raise Interrupted("stop")
            time.sleep(0.03)

    # ------------------------------------------------------------------ verification
    def verify_due(self, *, startup_only: bool) -> bool:
        """Verify what is due; True when something was done (the loop then starts over)."""
        now = time.monotonic()
        due = [(mid, row) for mid, (row, not_before) in self.to_verify.items() if not_before <= now]
        if not startup_only:
            for mid, (row, since) in list(self.own_unknown.items()):
                if now - since >= REVERIFY_GRACE:
                    due.append((mid, row))
        else:
            for mid, (row, since) in list(self.own_unknown.items()):
                if now - since >= REVERIFY_PERIOD:
                    due.append((mid, row))
        if not due:
            return False
        mid, row = due[0]
        self.verify_one(row)
        return True

    def verify_one(self, row: dict[str, Any]) -> None:
        page, store = self.page, self.store
        assert page is not None
        mid = row["id"]
        current = store.message(mid)
        if current is None or current["status"] not in S.IN_FLIGHT:
            self.to_verify.pop(mid, None)
            self.own_unknown.pop(mid, None)
            return
        self.set_state("sending", current_message_id=mid, detail=f"verifying message {mid} to {row['phone']}")
        try:
            found = self.find_in_chat(current)
        except (Interrupted, LoggedOut, PhoneDisconnected):
            return  # the loop shows why; verified later
        except (SelectorNotFound, SendFailure, WebDriverException) as exc:
            if not self.browser_alive():
                raise BrowserDied(f"the browser died while verifying message {mid}") from exc
            log.warning("message %s could not be verified yet: %s", mid, _short(exc))
            self.to_verify[mid] = (current, time.monotonic() + VERIFY_RETRY)
            self.own_unknown.pop(mid, None)
            return
        self.to_verify.pop(mid, None)
        self.own_unknown.pop(mid, None)
        if found:
            store.mark_sent(mid, now=self.clock.now(), note="verified in the chat")
            log.info("message %s verified: found in the chat, sent", mid)
        else:
            store.requeue_unsent(mid, "verification: not found in the chat", now=self.clock.now())
            log.info("message %s verified: not in the chat, queued again", mid)

    def find_in_chat(self, row: dict[str, Any]) -> bool:
        """Whether the chat holds an outgoing bubble with this exact text sent after the claim."""
        page = self.page
        assert page is not None
        chat = page.open_chat(row["phone"])
        if chat.invalid:
            return False
        att_name = Path(row["attachment"]).name if row.get("attachment") else None
        want = normalize(row["text"])
        floor = floor_minute(row["claimed_at"]) if row.get("claimed_at") else 0.0
        # Let the history settle (it may render a moment after the compose box).
        previous = -1
        for _ in range(10):
            bubbles = page.bubbles()
            if len(bubbles) == previous:
                break
            previous = len(bubbles)
            time.sleep(0.1)
        for b in bubbles:
            if normalize(b["text"]) != want:
                continue
            if att_name is not None and b.get("att") != att_name:
                continue
            t = parse_pre_plain(b.get("pre"))
            if t is not None and t >= floor:
                return True
        return False


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        return True
    except OSError:
        return False


def _short(exc: BaseException) -> str:
    """A one-line reason for last_error."""
    if isinstance(exc, (SelectorNotFound, SendFailure)):
        return str(exc)[:500]
    lines = str(exc).strip().splitlines()
    return f"{exc.__class__.__name__}: {lines[0] if lines else ''}"[:300]


def run_worker(cfg: Any, *, store: Store | None = None, clock: Clock | None = None,
               stop_event: threading.Event | None = None, worker_id: str | None = None) -> int:
    """Run one worker until stopped. Returns the exit code (0 stop, 1 crash, 2 user error, 75 restart)."""
    own_store = store is None
    st = store or Store(cfg.paths.database)
    try:
        w = Worker(cfg, st, clock or SystemClock(), stop_event or threading.Event(),
                   worker_id or make_worker_id())
        return w.run()
    finally:
        if own_store:
            st.close()


def main(argv: list[str] | None = None) -> int:
    import applog
    import config as config_mod

    ap = argparse.ArgumentParser(prog="python -m worker",
                                 description="Send the queued WhatsApp messages through one browser session.")
    ap.add_argument("--config", help="config file (default: $WA_SENDER_CONFIG or ./config.toml)")
    ap.add_argument("--db", help="database file (default: paths.database of the config)")
    ap.add_argument("--verbose", "-v", action="store_true", help="debug logging")
    args = ap.parse_args(argv)
    try:
        cfg = config_mod.load(args.config)
        if args.db:
            cfg = cfg.with_database(args.db)
    except config_mod.ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USER
    level = logging.DEBUG if args.verbose else logging.INFO
    # stderr carries what a person must see; the log file has everything.
    applog.setup("worker", Path(cfg.paths.log_dir), stream=sys.stderr, stream_format="worker: %(message)s",
                 stream_level=level if args.verbose else logging.WARNING, level=level)
    stop = threading.Event()

    def on_signal(signum: int, _frame: Any) -> None:
        log.info("signal %s: stopping", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        return run_worker(cfg, stop_event=stop)
    except UserError as exc:
        log.error("%s", exc)
        return EXIT_USER
