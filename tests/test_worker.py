"""The worker against the simulator with real headless Chromium (and a few pure unit tests).

Every browser test checks that no Chromium/chromedriver process it started is left behind.
"""
from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable

import psutil
import pytest

import config
from simulator import Simulator
from store import Store
from worker import FakeClock, run_worker
from worker import pacing, runner
from worker.browser import UserError, check_paths, prepare_profile, start_browser
from worker.bubble_time import floor_minute, parse_pre_plain
from worker.textmatch import comparable

ROOT = Path(__file__).resolve().parent.parent
PY = str(ROOT / ".venv" / "bin" / "python") if (ROOT / ".venv" / "bin" / "python").exists() else sys.executable


# ----------------------------------------------------------------------------- helpers

def _our_browser_procs(tmp: Path) -> dict[int, str]:
    """Chromium/chromedriver processes started by this test: descendants of pytest, or using a
    profile under the test's tmp_path, and their descendants. (Other people's browsers on the
    same machine are none of our business.)"""
    roots: list[psutil.Process] = []
    try:
        roots += psutil.Process().children(recursive=True)
    except psutil.Error:
        pass
    for p in psutil.process_iter(["cmdline"]):
        try:
            if str(tmp) in " ".join(p.info["cmdline"] or []):
                roots.append(p)
                roots += p.children(recursive=True)
        except psutil.Error:
            pass
    out: dict[int, str] = {}
    for p in roots:
        try:
            if "chrom" in p.name().lower() and p.status() != psutil.STATUS_ZOMBIE:
                out[p.pid] = " ".join(p.cmdline())[:120]
        except psutil.Error:
            pass
    return out


@pytest.fixture
def no_leftover_browsers(tmp_path: Path) -> Any:
    before = set(_our_browser_procs(tmp_path))
    yield
    deadline = time.monotonic() + 8
    left: dict[int, str] = {}
    while time.monotonic() < deadline:
        left = {pid: c for pid, c in _our_browser_procs(tmp_path).items() if pid not in before}
        if not left:
            return
        time.sleep(0.2)
    for pid in left:
        try:
            psutil.Process(pid).kill()
        except psutil.Error:
            pass
    pytest.fail(f"browser processes left behind: {left}")


def wait_until(pred: Callable[[], Any], timeout: float = 15.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = pred()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.05)


def write_config(tmp: Path, sim: Simulator, **overrides: Any) -> Path:
    """A config for one test: everything under tmp, no delays, fast timeouts."""
    sections: dict[str, dict[str, Any]] = {
        "paths": {"database": str(tmp / "db.sqlite"), "run_dir": str(tmp / "run"), "log_dir": str(tmp / "logs")},
        "browser": {"profile_dir": str(tmp / "profile"), "whatsapp_url": sim.url, "headless": True,
                    "navigation": "in_app", "ack_timeout": 5, "chat_timeout": 5, "boot_timeout": 20},
        "sending": {"delay_min": 0.0, "delay_max": 0.0, "long_pause_every": 0, "retry_backoff": 0.0},
        "worker": {"heartbeat_interval": 1.0, "poll_interval": 0.2},
    }
    for key, value in overrides.items():
        section, name = key.split("__")
        sections[section][name] = value
    lines = []
    for section, values in sections.items():
        lines.append(f"[{section}]")
        for k, v in values.items():
            if isinstance(v, bool):
                lines.append(f"{k} = {'true' if v else 'false'}")
            elif isinstance(v, (int, float)):
                lines.append(f"{k} = {v}")
            else:
                lines.append(f'{k} = "{v}"')
    path = tmp / "config.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


class WorkerThread:
    """run_worker in a thread, with its own stop event."""

    def __init__(self, cfg: Any, **kwargs: Any) -> None:
        self.stop_event = threading.Event()
        self.code: int | None = None
        self.thread = threading.Thread(target=self._run, args=(cfg,), kwargs=kwargs, daemon=True)

    def _run(self, cfg: Any, **kwargs: Any) -> None:
        self.code = run_worker(cfg, stop_event=self.stop_event, **kwargs)

    def start(self) -> "WorkerThread":
        self.thread.start()
        return self

    def stop(self, timeout: float = 20) -> int | None:
        self.stop_event.set()
        self.thread.join(timeout)
        assert not self.thread.is_alive(), "worker did not stop"
        return self.code


def status_of(store: Store, mid: int) -> str:
    row = store.message(mid)
    assert row is not None
    return row["status"]


def ids_of(store: Store, job: int) -> list[int]:
    return [m["id"] for m in store.iter_messages(job)]


def worker_row(store: Store) -> dict[str, Any]:
    return store.latest_worker() or {"state": None, "qr": None, "browser_pids": []}


@pytest.fixture
def sim() -> Any:
    s = Simulator(port=0, boot_time=0.2, ack_delay=0.1, dblcheck_delay=0.3)
    s.start()
    s.login()
    yield s
    s.stop()


# ----------------------------------------------------------------------------- unit tests (no browser)

def test_window_and_midnight() -> None:
    lt = time.localtime(time.mktime((2025, 3, 7, 8, 59, 0, 0, 0, -1)))
    assert not pacing.in_window("09:00", "17:00", lt)
    assert pacing.in_window("00:00", "00:00", lt)
    assert pacing.in_window("22:00", "09:00", lt)
    lt9 = time.localtime(time.mktime((2025, 3, 7, 9, 0, 0, 0, 0, -1)))
    assert pacing.in_window("09:00", "17:00", lt9)
    assert not pacing.in_window("22:00", "09:00", lt9)
    assert pacing.local_midnight(lt9) == time.mktime((2025, 3, 7, 0, 0, 0, 0, 0, -1))
    assert pacing.next_midnight(lt9) == time.mktime((2025, 3, 8, 0, 0, 0, 0, 0, -1))
    assert pacing.next_window_start("09:00", lt) == time.mktime((2025, 3, 7, 9, 0, 0, 0, 0, -1))


def test_delay_and_long_pause() -> None:
    kw = dict(delay_min=4.0, delay_max=8.0, long_pause_every=3, long_pause_min=20.0, long_pause_max=40.0)
    for n in (1, 2, 4, 5):
        assert 4.0 <= pacing.delay_after(n, **kw) <= 8.0
    for n in (3, 6):
        assert 24.0 <= pacing.delay_after(n, **kw) <= 48.0
    assert pacing.delay_after(3, **{**kw, "long_pause_every": 0}) <= 8.0


def test_text_normalisation_and_bubble_time() -> None:
    assert normalize("a\r\nb  \n") == "a\nb"
    assert normalize("x\u00a0y") == "x y"
    t = parse_pre_plain("[14:03, 3/7/2025] You: ")
    assert t == time.mktime((2025, 3, 7, 14, 3, 0, 0, 0, -1))
    assert parse_pre_plain("nonsense") is None
    claim = time.mktime((2025, 3, 7, 14, 3, 59, 0, 0, -1))
    assert floor_minute(claim) == t


def test_profile_is_0700_and_stale_lock_removed(tmp_path: Path) -> None:
    prof = tmp_path / "profile"
    prepare_profile(prof)
    assert stat.S_IMODE(prof.stat().st_mode) == 0o700
    prof.chmod(0o755)
    os.symlink("somehost-999999999", prof / "SingletonLock")  # a pid that cannot exist
    prepare_profile(prof)
    assert stat.S_IMODE(prof.stat().st_mode) == 0o700
    assert not (prof / "SingletonLock").is_symlink()


def test_missing_browser_is_one_clear_line_and_exit_2(tmp_path: Path) -> None:
    cfg_path = tmp_path / "c.toml"
    cfg_path.write_text(
        f'[paths]\ndatabase = "{tmp_path}/db.sqlite"\nrun_dir = "{tmp_path}/run"\nlog_dir = "{tmp_path}/logs"\n'
        f'[browser]\nbinary = "{tmp_path}/no-chromium"\nprofile_dir = "{tmp_path}/p"\n')
    with pytest.raises(UserError, match="chromium not found at .*apt-get install chromium chromium-driver"):
        check_paths(config.load(cfg_path).browser)
    proc = subprocess.run([PY, "-m", "worker", "--config", str(cfg_path)], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "no-chromium" in lines[0] and "apt-get install" in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr
    # A missing driver names the driver.
    cfg_path.write_text(cfg_path.read_text().replace(f'binary = "{tmp_path}/no-chromium"',
                                                     f'driver = "{tmp_path}/no-driver"'))
    with pytest.raises(UserError, match="chromedriver not found"):
        check_paths(config.load(cfg_path).browser)


def test_bad_config_exits_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[sending]\ndelay_min = 'x'\n")
    proc = subprocess.run([PY, "-m", "worker", "--config", str(bad)], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert "delay_min" in proc.stderr and "Traceback" not in proc.stderr


# ----------------------------------------------------------------------------- browser tests

@pytest.mark.browser
def test_user_agent_is_desktop_chrome(sim: Simulator, tmp_path: Path, no_leftover_browsers: None) -> None:
    cfg = config.load(write_config(tmp_path, sim))
    driver, service = start_browser(cfg.browser)
    try:
        driver.get(sim.url)
        ua, brands = driver.execute_script(
            "return [navigator.userAgent, JSON.stringify((navigator.userAgentData||{}).brands||[])]")
        assert "Headless" not in ua and ua == cfg.browser.user_agent
        assert "Headless" not in brands
        assert stat.S_IMODE(Path(cfg.browser.profile_dir).stat().st_mode) == 0o700
    finally:
        driver.quit()


@pytest.mark.browser
def test_sends_a_job_text_emoji_media_document_and_invalid(sim: Simulator, tmp_path: Path,
                                                           no_leftover_browsers: None) -> None:
    sim.configure(invalid_numbers=["+12025550113"])
    cfg = config.load(write_config(tmp_path, sim))
    store = Store(cfg.paths.database)
    img = tmp_path / "photo.png"
    img.write_bytes(b"\x89PNG\r\n\x1a\n" + os.urandom(200))
    doc = tmp_path / "terms.pdf"
    doc.write_bytes(b"%PDF-1.4\n" + os.urandom(300))
    multi = "Hello Zoë,\nline two with emoji 😀👍🏽 and accents: café, niño\n\n— end ✓"
    job = store.create_job("mix", "t", [
        {"phone": "+12025550101", "text": "Hello there"},
        {"phone": "+12025550102", "text": multi},
        {"phone": "+12025550113", "text": "to nobody"},
        {"phone": "+12025550104", "text": "A photo\nwith caption", "attachment": str(img)},
        {"phone": "+12025550105", "text": "The document", "attachment": str(doc)},
    ])
    ids = ids_of(store, job)
    w = WorkerThread(cfg).start()
    try:
        wait_until(lambda: store.get_job(job)["status"] == "completed", 40, "job completed")
        row = worker_row(store)
        assert row["pid"] == os.getpid()
        assert row["browser_pids"] and all(psutil.pid_exists(p) for p in row["browser_pids"][:1])
        assert time.time() - row["heartbeat_at"] < 5
        wait_until(lambda: worker_row(store)["state"] == "idle", 5, "idle")
    finally:
        assert w.stop() == 0
    assert [status_of(store, i) for i in ids] == ["sent", "sent", "invalid", "sent", "sent"]
    ledger = sim.ledger()
    msgs = ledger["messages"]
    assert [(m["phone"], m["text"]) for m in msgs] == [
        ("+12025550101", "Hello there"), ("+12025550102", multi),
        ("+12025550104", "A photo\nwith caption"), ("+12025550105", "The document")]
    assert msgs[2]["attachment"]["name"] == "photo.png" and msgs[2]["attachment"]["size"] == img.stat().st_size
    assert msgs[2]["attachment"]["type"].startswith("image/")  # through the media input
    assert msgs[3]["attachment"]["name"] == "terms.pdf" and msgs[3]["caption"] == "The document"
    import hashlib
    assert msgs[3]["attachment"]["sha256"] == hashlib.sha256(doc.read_bytes()).hexdigest()
    assert ledger["page_loads"] == 1 and ledger["in_app_opens"] == 4 and ledger["url_opens"] == 0
    assert worker_row(store)["state"] == "stopped"
    store.close()


@pytest.mark.browser
def test_url_navigation_and_missing_selector_dump(sim: Simulator, tmp_path: Path,
                                                  no_leftover_browsers: None) -> None:
    cfg = config.load(write_config(tmp_path, sim, browser__navigation="url", browser__chat_timeout=2))
    # A selector key that matches nothing: the failure names the key and leaves a screenshot + HTML.
    import dataclasses
    sel = dict(cfg.selectors)
    sel["send_button"] = ("#main footer button[aria-label='Nope']",)
    cfg = dataclasses.replace(cfg, selectors=sel, sending=dataclasses.replace(cfg.sending, max_attempts=1))
    store = Store(cfg.paths.database)
    job = store.create_job("url", "t", [{"phone": "+12025550121", "text": "via url"}])
    w = WorkerThread(cfg).start()
    try:
        mid = ids_of(store, job)[0]
        wait_until(lambda: status_of(store, mid) == "failed", 40, "failed")
    finally:
        assert w.stop() == 0
    row = store.message(mid)
    assert "'send_button'" in row["last_error"]
    dumps = list((Path(cfg.paths.log_dir) / "failures").glob("*send_button*"))
    assert {p.suffix for p in dumps} == {".png", ".html"}
    assert sim.ledger()["url_opens"] == 1
    assert sim.ledger()["messages"] == []
    store.close()


@pytest.mark.browser
def test_session_faults_logout_qr_use_here_phone_disconnected(tmp_path: Path,
                                                             no_leftover_browsers: None,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runner, "REVERIFY_GRACE", 0.5)
    sim = Simulator(port=0, boot_time=0.2, ack_delay=0.1, dblcheck_delay=0.3,
                    qr_rotate_seconds=0.6, qr_max_rotations=1).start()
    try:
        cfg = config.load(write_config(tmp_path, sim, browser__ack_timeout=1.5))
        store = Store(cfg.paths.database)
        job = store.create_job("faults", "t", [
            {"phone": f"+1202555{200 + i:04d}", "text": f"message {i}"} for i in range(6)])
        ids = ids_of(store, job)
        w = WorkerThread(cfg).start()
        try:
            # Logged out at start: the QR login string is published, refreshed, and reloaded when expired.
            first = wait_until(lambda: worker_row(store)["qr"], 20, "qr in worker row")
            assert worker_row(store)["state"] == "waiting_for_login"
            assert store.get_job(job)["status"] == "waiting_for_login"
            wait_until(lambda: (worker_row(store)["qr"] or first) != first, 10, "new qr")
            wait_until(lambda: sim.get_state()["qr"] and sim.get_state()["qr"]["rotation"] == 0
                       and sim.get_state()["qr"]["ref"] != first, 10, "qr reloaded after expiry")
            assert store.counts(job)["sent"] == 0
            sim.configure(ack_delay=0.8)
            sim.login()
            wait_until(lambda: status_of(store, ids[0]) == "sent", 20, "first sent after login")
            assert worker_row(store)["qr"] is None
            # Logout in the middle of the job.
            sim.logout()
            wait_until(lambda: store.get_job(job)["status"] == "waiting_for_login", 10, "job waiting")
            wait_until(lambda: worker_row(store)["state"] == "waiting_for_login", 10)
            stuck = store.counts(job)
            assert stuck["sending"] == 0 and stuck["retrying"] == 0 and stuck["failed"] == 0
            sim.configure(ack_delay=0.1)
            sim.login()
            sent_before = store.counts(job)["sent"] + store.counts(job)["unknown"]
            wait_until(lambda: store.counts(job)["sent"] + store.counts(job)["unknown"] > sent_before, 20)
            # "Use here": the worker takes the session back by itself.
            sim.show_use_here()
            wait_until(lambda: not sim.get_state()["use_here"], 10, "use here clicked")
            # Phone not connected: the worker waits without burning attempts.
            sim.configure(phone_connected=False)
            wait_until(lambda: worker_row(store)["state"] == "phone_disconnected", 10)
            n_sent = store.counts(job)["sent"]
            time.sleep(1.0)
            assert store.counts(job)["failed"] == 0 and store.counts(job)["retrying"] == 0
            sim.configure(phone_connected=True, lose_clicks=1)  # and one click gets lost
            wait_until(lambda: store.get_job(job)["status"] == "completed", 40, "job completed")
            assert store.counts(job)["sent"] == 6 and n_sent < 6
        finally:
            assert w.stop() == 0
        ledger = sim.ledger()
        phones = [m["phone"] for m in ledger["messages"]]
        assert sorted(phones) == sorted(f"+1202555{200 + i:04d}" for i in range(6)), phones
        assert ledger["lost_clicks"] == 1
        assert all(store.message(i)["attempts"] <= 2 for i in ids)
        store.close()
    finally:
        sim.stop()


@pytest.mark.browser
def test_stuck_clock_and_lost_click_are_verified_on_restart(sim: Simulator, tmp_path: Path,
                                                           no_leftover_browsers: None,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runner, "REVERIFY_GRACE", 1000.0)  # only the restart verifies here
    monkeypatch.setattr(runner, "REVERIFY_PERIOD", 1000.0)
    cfg = config.load(write_config(tmp_path, sim, browser__ack_timeout=1.0))
    store = Store(cfg.paths.database)
    job = store.create_job("v", "t", [{"phone": "+12025550301", "text": "lost one"},
                                      {"phone": "+12025550302", "text": "stuck one\nsecond line"}])
    lost, stuck = ids_of(store, job)
    sim.configure(lose_clicks=1, stuck_clock=True)
    w = WorkerThread(cfg).start()
    try:
        wait_until(lambda: status_of(store, lost) == "unknown" and status_of(store, stuck) == "unknown",
                   30, "both unknown")
    finally:
        assert w.stop() == 0
    assert [m["text"] for m in sim.ledger()["messages"]] == ["stuck one\nsecond line"]
    sim.configure(stuck_clock=False)
    w2 = WorkerThread(cfg).start()
    try:
        wait_until(lambda: store.get_job(job)["status"] == "completed", 30, "completed")
    finally:
        assert w2.stop() == 0
    assert status_of(store, lost) == "sent" and status_of(store, stuck) == "sent"
    assert "verified" in (store.message(stuck)["last_error"] or "")
    texts = sorted(m["text"] for m in sim.ledger()["messages"])
    assert texts == ["lost one", "stuck one\nsecond line"]  # each exactly once
    kinds = [e["kind"] for e in store.events(limit=200, job_id=job)]
    assert "requeued" in kinds and kinds.count("unknown") == 2
    store.close()


@pytest.mark.browser
def test_sigkill_between_claim_and_tick_sends_once(sim: Simulator, tmp_path: Path,
                                                  no_leftover_browsers: None) -> None:
    cfg_path = write_config(tmp_path, sim, browser__ack_timeout=30)
    cfg = config.load(cfg_path)
    store = Store(cfg.paths.database)
    job = store.create_job("k", "t", [{"phone": "+12025550401", "text": "exactly once"},
                                      {"phone": "+12025550402", "text": "the next one"}])
    first, second = ids_of(store, job)
    sim.configure(ack_delay=20)

    def spawn() -> subprocess.Popen:
        return subprocess.Popen([PY, "-m", "worker", "--config", str(cfg_path)], cwd=ROOT,
                                start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    proc = spawn()
    try:
        wait_until(lambda: len(sim.ledger()["messages"]) == 1, 30, "the click reached WhatsApp")
        assert status_of(store, first) == "sending"
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)
        wait_until(lambda: not any(psutil.pid_exists(p) and psutil.Process(p).status() != psutil.STATUS_ZOMBIE
                                   for p in worker_row(store)["browser_pids"]), 10, "browser gone")
        assert status_of(store, first) == "sending"
        sim.configure(ack_delay=0.1)
        proc = spawn()
        wait_until(lambda: store.get_job(job)["status"] == "completed", 40, "completed after restart")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(20) == 0
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
    texts = [m["text"] for m in sim.ledger()["messages"]]
    assert texts.count("exactly once") == 1 and texts.count("the next one") == 1
    assert status_of(store, first) == "sent" and status_of(store, second) == "sent"
    assert "verified" in store.message(first)["last_error"]
    assert worker_row(store)["state"] == "stopped"
    store.close()


@pytest.mark.browser
def test_pause_and_stop_files_within_one_second(sim: Simulator, tmp_path: Path,
                                               no_leftover_browsers: None) -> None:
    cfg = config.load(write_config(tmp_path, sim, sending__delay_min=40.0, sending__delay_max=40.0))
    store = Store(cfg.paths.database)
    job = store.create_job("p", "t", [{"phone": f"+1202555{500 + i:04d}", "text": f"p{i}"} for i in range(3)])
    run = Path(cfg.paths.run_dir)
    w = WorkerThread(cfg).start()
    try:
        wait_until(lambda: worker_row(store)["state"] == "waiting", 30, "in the 40 s pause")
        assert store.counts(job)["sent"] == 1
        (run / "pause").touch()
        t0 = time.monotonic()
        wait_until(lambda: worker_row(store)["state"] == "paused", 2, "paused")
        assert time.monotonic() - t0 < 1.0
        (run / "pause").unlink()
        wait_until(lambda: worker_row(store)["state"] == "waiting", 2, "waiting again")
        (run / "stop").touch()
        t0 = time.monotonic()
        wait_until(lambda: worker_row(store)["state"] in ("stopping", "stopped"), 2, "stopping")
        assert time.monotonic() - t0 < 1.0
        w.thread.join(20)
        assert w.code == 0
        assert (run / "stop").exists()  # the supervisor owns it
    finally:
        w.stop()
    assert store.counts(job)["sent"] == 1 and store.counts(job)["pending"] == 2
    store.close()


@pytest.mark.browser
def test_daily_cap_window_start_time_and_restart_file(sim: Simulator, tmp_path: Path,
                                                      no_leftover_browsers: None) -> None:
    cfg = config.load(write_config(tmp_path, sim, sending__daily_cap=2, sending__window_start="09:00",
                                   sending__window_end="17:00"))
    store = Store(cfg.paths.database)
    day1_8am = time.mktime((2030, 5, 6, 8, 0, 0, 0, 0, -1))
    clock = FakeClock(day1_8am)
    job = store.create_job("cap", "t", [{"phone": f"+1202555{600 + i:04d}", "text": f"c{i}"} for i in range(3)])
    later = store.create_job("later", "t", [{"phone": "+12025550699", "text": "starts at 10"}],
                             start_at=time.mktime((2030, 5, 7, 10, 0, 0, 0, 0, -1)))
    w = WorkerThread(cfg, clock=clock).start()
    try:
        wait_until(lambda: worker_row(store)["state"] == "outside_window", 30)
        time.sleep(0.5)
        assert store.counts(job)["sent"] == 0
        clock.set(day1_8am + 3600 + 1800)  # 09:30
        wait_until(lambda: worker_row(store)["state"] == "daily_cap", 20, "daily cap")
        time.sleep(0.5)
        assert store.counts(job)["sent"] == 2
        clock.set(day1_8am + 86400 + 3600 + 1800)  # next day 09:30
        wait_until(lambda: store.counts(job)["sent"] == 3, 20)
        wait_until(lambda: worker_row(store)["state"] == "idle", 10)
        assert store.counts(later)["sent"] == 0  # its start time has not come
        clock.set(day1_8am + 86400 + 2 * 3600 + 60)  # 10:01
        wait_until(lambda: store.counts(later)["sent"] == 1, 20)
        (Path(cfg.paths.run_dir) / "restart").touch()
        w.thread.join(20)
        assert w.code == 75
        assert not (Path(cfg.paths.run_dir) / "restart").exists()
    finally:
        w.stop()
    store.close()


@pytest.mark.browser
def test_chat_that_cannot_open_is_retried_then_failed_without_waiting_for_timeouts(
        sim: Simulator, tmp_path: Path, no_leftover_browsers: None) -> None:
    sim.configure(failure_rate=1.0)
    # chat_timeout is long: the error toast, not the timeout, must end each attempt.
    cfg = config.load(write_config(tmp_path, sim, browser__chat_timeout=60, sending__max_attempts=3))
    store = Store(cfg.paths.database)
    job = store.create_job("flaky", "t", [{"phone": "+12025550121", "text": "never opens"}])
    [mid] = ids_of(store, job)
    w = WorkerThread(cfg).start()
    started = time.monotonic()
    try:
        wait_until(lambda: status_of(store, mid) == "failed", 40, "failed")
        elapsed = time.monotonic() - started
    finally:
        assert w.stop() == 0
    row = store.message(mid)
    assert row["attempts"] == 3
    assert "could not open the chat" in row["last_error"]
    assert elapsed < 30, f"each attempt waited for the timeout ({elapsed:.1f}s)"
    assert sim.ledger()["messages"] == []
    assert sim.ledger()["failed_opens"] == 3
    store.close()
