"""The worker against the simulator with real headless Chromium (its pure parts:
tests/unit/test_worker.py).

The browser tests use the shipped config.toml unchanged (only paths and timings differ)
and run on each DOM generation of the simulator where the issue asks for it. Every
browser test checks that no Chromium/chromedriver process it started is left behind.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import os
import signal
import stat
import time
from pathlib import Path
from typing import Any

import psutil
import pytest

import settings
from simulator import Simulator
from simulator.server import DOMS
from store import Store
from tests.support.config import write_config
from tests.support.processes import end_worker, spawn_worker
from tests.support.waiting import holds_for, wait_until
from tests.support.workers import WorkerThread, ids_of, status_of, worker_row
from worker import verify
from worker.browser import installed_version, start_browser
from worker.clock import FakeClock


def load(tmp: Path, sim: Simulator, **overrides: Any) -> Any:
    return settings.load(write_config(tmp, sim, **overrides))


def with_selectors(cfg: Any, **sel: tuple[str, ...]) -> Any:
    return dataclasses.replace(cfg, selectors={**cfg.selectors, **sel})


def dead_worker_claim(store: Store, mid_job: int, *, clicked: bool = True) -> dict[str, Any]:
    """What a worker SIGKILLed after (or before) its send click leaves behind."""
    msg = store.claim("deadhost:1:1")
    assert msg is not None and msg["job_id"] == mid_job
    if clicked:
        store.mark_clicking(msg["id"], worker_id="deadhost:1:1")
    return msg


# ----------------------------------------------------------------------------- browser tests


@pytest.mark.browser
def test_browser_identity_is_the_installed_chrome(sim: Simulator, tmp_path: Path, no_leftover_browsers: None) -> None:
    cfg = load(tmp_path, sim, browser__language="pt-BR")
    major = installed_version(str(cfg.browser.binary)).split(".")[0]
    driver, _service = start_browser(cfg.browser)
    try:
        driver.get(sim.url)
        ua, brands, webdriver_flag, lang, header_lang = driver.execute_script(
            "return [navigator.userAgent, JSON.stringify((navigator.userAgentData||{}).brands||[]),"
            " navigator.webdriver, navigator.language, navigator.languages.join(',')]"
        )
        assert f"Chrome/{major}.0.0.0" in ua and "Headless" not in ua
        assert "Headless" not in brands and f'"version":"{major}"' in brands
        assert webdriver_flag is False
        assert lang == "pt-BR" and header_lang.startswith("pt-BR")
        assert stat.S_IMODE(Path(cfg.browser.profile_dir).stat().st_mode) == 0o700
        wait_until(lambda: sim.get_state()["page_lang"] == "pt-BR", 10, "page drawn in Portuguese")
        assert sim.ledger()["refused_browsers"] == 0
    finally:
        driver.quit()
    # An outdated user agent is what WhatsApp (2026) refuses: the simulator says so.
    old = dataclasses.replace(
        cfg.browser,
        user_agent=(
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/100.0.0.0 Safari/537.36"
        ),
    )
    driver, _service = start_browser(old)
    try:
        driver.get(sim.url)
        assert driver.execute_script("return !!document.querySelector('[data-unsupported-browser]')")
        assert sim.ledger()["refused_browsers"] == 1
    finally:
        driver.quit()


LONG = (
    "Olá *Ana* 👋🏽, a promoção de _dezembro_ chegou: https://example.com/promo?id=7.\n"
    + " ".join(f"palavra{i}" for i in range(260))
    + "\nfim ✓"
)


@pytest.mark.browser
def test_sends_rich_texts_attachments_and_invalid_on_each_dom(
    sim_each: Simulator, tmp_path: Path, no_leftover_browsers: None
) -> None:
    sim = sim_each
    sim.configure(invalid_numbers=["+12025550113"], contact_names={"+12025550107": "Zoë Saved"})
    cfg = load(tmp_path, sim, sending__link_preview_wait=4.0)  # the shipped wait for a link's preview
    store = Store(cfg.paths.database)
    img = tmp_path / "photo.png"
    img.write_bytes(b"\x89PNG\r\n\x1a\n" + os.urandom(200))
    doc = tmp_path / "terms.pdf"
    doc.write_bytes(b"%PDF-1.4\n" + os.urandom(300))
    multi = "Hello Zoë,\nline two with emoji 😀👍🏽 and accents: café, niño\n\n— end ✓"
    caption = "A photo 📷 (y)\nwith *caption* https://example.com"
    # WhatsApp's 2024 line formats: the 2026 page draws these lines as list items and a quote.
    listed = "Our offer:\n- 20% off\n- free shipping\n1. pick\n2. pay\n> see you soon"
    styled = "Hi *Bruno*, _50%_ off ~yesterday~ ```today```: https://shop.example.com/a?b=1 🎉"
    assert len(LONG) > 1500  # cut behind "Read more" on the 2026 page
    job = store.create_job(
        "mix",
        "t",
        [
            {"phone": "+12025550101", "text": "Hello there :-) see you <3"},
            {"phone": "+12025550102", "text": multi},
            {"phone": "+12025550113", "text": "to nobody"},
            {"phone": "+12025550104", "text": caption, "attachment": str(img)},
            {"phone": "+12025550105", "text": "The document", "attachment": str(doc)},
            {"phone": "+12025550106", "text": styled},
            {"phone": "+12025550107", "text": "to a saved contact (the chat shows a name)"},
            {"phone": "+12025550108", "text": LONG},
            {"phone": "+12025550109", "text": listed},
        ],
    )
    ids = ids_of(store, job)
    w = WorkerThread(cfg).start()
    try:
        wait_until(lambda: store.get_job(job)["status"] == "completed", 60, "job completed")
        row = worker_row(store)
        assert row["pid"] == os.getpid()
        assert row["browser_pids"] and all(psutil.pid_exists(p) for p in row["browser_pids"][:1])
        assert time.time() - row["heartbeat_at"] < 5
        wait_until(lambda: worker_row(store)["state"] == "idle", 5, "idle")
    finally:
        assert w.stop() == 0
    assert [status_of(store, i) for i in ids] == ["sent", "sent", "invalid"] + ["sent"] * 6
    assert all(store.message(i)["attempts"] == 1 for i in ids)
    ledger = sim.ledger()
    msgs = ledger["messages"]
    assert [(m["phone"], m["text"]) for m in msgs] == [
        # WhatsApp Web turned the emoticons into emoji as they were typed.
        ("+12025550101", "Hello there \U0001f642 see you \u2764\ufe0f"),
        ("+12025550102", multi),
        ("+12025550104", "A photo 📷 \U0001f44d\nwith *caption* https://example.com"),
        ("+12025550105", "The document"),
        ("+12025550106", styled),
        ("+12025550107", "to a saved contact (the chat shows a name)"),
        ("+12025550108", LONG),
        ("+12025550109", listed),
    ]
    # The texts with links: the click waited for their previews, so they went with them; captions get none.
    assert [m["link_preview"] for m in msgs] == [False, False, False, False, True, False, True, False]
    photo, pdf = msgs[2]["attachment"], msgs[3]["attachment"]
    assert photo["name"] == "photo.png" and photo["size"] == img.stat().st_size and photo["kind"] == "media"
    assert pdf["name"] == "terms.pdf" and pdf["kind"] == "document" and msgs[3]["caption"] == "The document"
    assert pdf["sha256"] == hashlib.sha256(doc.read_bytes()).hexdigest()
    assert ledger["page_loads"] == 1 and ledger["in_app_opens"] == 8 and ledger["url_opens"] == 0
    assert worker_row(store)["state"] == "stopped"
    store.close()


@pytest.mark.browser
def test_url_navigation_and_missing_selector_dump(sim: Simulator, tmp_path: Path, no_leftover_browsers: None) -> None:
    cfg = load(
        tmp_path,
        sim,
        browser__navigation="url",
        browser__chat_timeout=2,
        browser__boot_timeout=4,
        sending__max_attempts=1,
    )
    # A selector key that matches nothing: the failure names the key and leaves a screenshot + HTML.
    cfg = with_selectors(cfg, compose_box=("#main footer div[contenteditable='true'][aria-label='Nope']",))
    store = Store(cfg.paths.database)
    job = store.create_job("url", "t", [{"phone": "+12025550121", "text": "via url"}])
    w = WorkerThread(cfg).start()
    try:
        mid = ids_of(store, job)[0]
        wait_until(lambda: status_of(store, mid) == "failed", 40, "failed")
    finally:
        assert w.stop() == 0
    row = store.message(mid)
    assert "'compose_box'" in row["last_error"]
    dumps = list((Path(cfg.paths.log_dir) / "failures").glob("*compose_box*"))
    assert {p.suffix for p in dumps} == {".png", ".html"}
    assert sim.ledger()["url_opens"] == 1
    assert sim.ledger()["messages"] == []
    store.close()


@pytest.mark.browser
def test_session_faults_logout_qr_use_here_phone_disconnected(
    tmp_path: Path, no_leftover_browsers: None, monkeypatch: pytest.MonkeyPatch, dom: str
) -> None:
    monkeypatch.setattr(verify, "REVERIFY_GRACE", 0.5)
    sim = Simulator(
        port=0, boot_time=0.2, ack_delay=0.1, dblcheck_delay=0.3, qr_rotate_seconds=0.6, qr_max_rotations=1, dom=dom
    ).start()
    try:
        # Two of the faults below lose a send after its click; they may hit the same message,
        # which the default limit (1) would then rightly hold for a person.
        cfg = load(tmp_path, sim, browser__ack_timeout=1.5, sending__auto_requeue_limit=2)
        store = Store(cfg.paths.database)
        job = store.create_job(
            "faults", "t", [{"phone": f"+1202555{200 + i:04d}", "text": f"message {i} 👋"} for i in range(6)]
        )
        ids = ids_of(store, job)
        w = WorkerThread(cfg).start()
        try:
            # Logged out at start: the QR login string is published, refreshed, and reloaded when expired.
            first = wait_until(lambda: worker_row(store)["qr"], 20, "qr in worker row")
            assert worker_row(store)["state"] == "waiting_for_login"
            assert store.get_job(job)["status"] == "waiting_for_login"
            wait_until(lambda: (worker_row(store)["qr"] or first) != first, 10, "new qr")
            wait_until(
                lambda: (
                    sim.get_state()["qr"]
                    and sim.get_state()["qr"]["rotation"] == 0
                    and sim.get_state()["qr"]["ref"] != first
                ),
                10,
                "qr reloaded after expiry",
            )
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

            def no_attempt_burnt() -> None:
                assert store.counts(job)["failed"] == 0 and store.counts(job)["retrying"] == 0

            holds_for(1.0, no_attempt_burnt, interval=0.2)
            sim.configure(phone_connected=True, lose_clicks=1)  # and one click gets lost
            wait_until(lambda: store.get_job(job)["status"] == "completed", 40, "job completed")
            assert store.counts(job)["sent"] == 6 and n_sent < 6
        finally:
            assert w.stop() == 0
        ledger = sim.ledger()
        phones = [m["phone"] for m in ledger["messages"]]
        assert sorted(phones) == sorted(f"+1202555{200 + i:04d}" for i in range(6)), phones
        assert ledger["lost_clicks"] == 1
        # An attempt is a send click: beyond the first, only after a proven absence (none burnt
        # by the logout, "Use here" or the phone).
        assert all(store.message(i)["attempts"] <= 1 + store.message(i)["requeues"] for i in ids)
        store.close()
    finally:
        sim.stop()


@pytest.fixture(params=DOMS)
def dom(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.mark.browser
def test_stuck_clock_and_lost_click_are_verified_on_restart(
    tmp_path: Path, no_leftover_browsers: None, monkeypatch: pytest.MonkeyPatch, dom: str
) -> None:
    monkeypatch.setattr(verify, "REVERIFY_GRACE", 1000.0)  # only the restart verifies here
    monkeypatch.setattr(verify, "REVERIFY_PERIOD", 1000.0)
    sim = Simulator(port=0, boot_time=0.2, ack_delay=0.1, dblcheck_delay=0.3, dom=dom).start()
    sim.login()
    try:
        cfg = load(tmp_path, sim, browser__ack_timeout=1.0)
        store = Store(cfg.paths.database)
        job = store.create_job(
            "v",
            "t",
            [
                {"phone": "+12025550301", "text": "lost one 😀"},
                {"phone": "+12025550302", "text": "stuck *one*\nsecond line 👍🏽"},
            ],
        )
        lost, stuck = ids_of(store, job)
        sim.configure(lose_clicks=1, stuck_clock=True)
        w = WorkerThread(cfg).start()
        try:
            wait_until(
                lambda: status_of(store, lost) == "unknown" and status_of(store, stuck) == "unknown", 30, "both unknown"
            )
        finally:
            assert w.stop() == 0
        assert [m["text"] for m in sim.ledger()["messages"]] == ["stuck *one*\nsecond line 👍🏽"]
        sim.configure(stuck_clock=False)
        w2 = WorkerThread(cfg).start()
        try:
            wait_until(lambda: store.get_job(job)["status"] == "completed", 30, "completed")
        finally:
            assert w2.stop() == 0
        assert status_of(store, lost) == "sent" and status_of(store, stuck) == "sent"
        assert "verified" in (store.message(stuck)["last_error"] or "")
        assert store.message(lost)["requeues"] == 1 and store.message(stuck)["requeues"] == 0
        texts = sorted(m["text"] for m in sim.ledger()["messages"])
        assert texts == ["lost one 😀", "stuck *one*\nsecond line 👍🏽"]  # each exactly once
        kinds = [e["kind"] for e in store.events(limit=200, job_id=job)]
        assert "requeued" in kinds and kinds.count("unknown") == 2
        store.close()
    finally:
        sim.stop()


@pytest.mark.browser
def test_sigkill_between_click_and_tick_sends_once(
    sim_each: Simulator, tmp_path: Path, no_leftover_browsers: None
) -> None:
    sim = sim_each
    cfg_path = write_config(tmp_path, sim, browser__ack_timeout=30)
    cfg = settings.load(cfg_path)
    store = Store(cfg.paths.database)
    img = tmp_path / "offer.jpg"
    img.write_bytes(b"\xff\xd8\xff\xe0" + os.urandom(500))
    job = store.create_job(
        "k",
        "t",
        [
            {"phone": "+12025550401", "text": "exactly *once* 👋🏽 https://example.com/x"},
            {"phone": "+12025550402", "text": "the next one, with a photo", "attachment": str(img)},
        ],
    )
    first, second = ids_of(store, job)
    sim.configure(ack_delay=6)  # the clock stands long enough to kill the worker before the tick

    proc = spawn_worker(cfg_path)
    try:
        wait_until(lambda: len(sim.ledger()["messages"]) == 1, 30, "the click reached WhatsApp")
        assert status_of(store, first) == "sending" and store.message(first)["clicked_at"] is not None
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)
        wait_until(
            lambda: (
                not any(
                    psutil.pid_exists(p) and psutil.Process(p).status() != psutil.STATUS_ZOMBIE
                    for p in worker_row(store)["browser_pids"]
                )
            ),
            10,
            "browser gone",
        )
        assert status_of(store, first) == "sending"
        sim.configure(ack_delay=0.1)
        proc = spawn_worker(cfg_path)
        wait_until(lambda: store.get_job(job)["status"] == "completed", 40, "completed after restart")
        assert proc.poll() is None
        end_worker(proc)
        assert proc.returncode == 0
    finally:
        end_worker(proc)
    msgs = sim.ledger()["messages"]
    assert [m["phone"] for m in msgs] == ["+12025550401", "+12025550402"]  # each exactly once
    assert msgs[1]["attachment"]["kind"] == "media"
    assert status_of(store, first) == "sent" and status_of(store, second) == "sent"
    assert "verified" in store.message(first)["last_error"]
    assert worker_row(store)["state"] == "stopped"
    store.close()


@pytest.mark.browser
def test_pause_and_stop_files_within_one_second(sim: Simulator, tmp_path: Path, no_leftover_browsers: None) -> None:
    cfg = load(tmp_path, sim, sending__delay_min=40.0, sending__delay_max=40.0)
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
def test_daily_cap_window_start_time_and_restart_file(
    sim: Simulator, tmp_path: Path, no_leftover_browsers: None
) -> None:
    cfg = load(tmp_path, sim, sending__daily_cap=2, sending__window_start="09:00", sending__window_end="17:00")
    store = Store(cfg.paths.database)
    day1_8am = time.mktime((2030, 5, 6, 8, 0, 0, 0, 0, -1))
    clock = FakeClock(day1_8am)
    job = store.create_job("cap", "t", [{"phone": f"+1202555{600 + i:04d}", "text": f"c{i}"} for i in range(3)])
    later = store.create_job(
        "later",
        "t",
        [{"phone": "+12025550699", "text": "starts at 10"}],
        start_at=time.mktime((2030, 5, 7, 10, 0, 0, 0, 0, -1)),
    )
    w = WorkerThread(cfg, clock=clock).start()

    def sent_at_most(n: int) -> None:
        assert store.counts(job)["sent"] <= n

    try:
        wait_until(lambda: worker_row(store)["state"] == "outside_window", 30)
        holds_for(0.5, lambda: sent_at_most(0), interval=0.1)
        assert store.counts(job)["sent"] == 0
        clock.set(day1_8am + 3600 + 1800)  # 09:30
        wait_until(lambda: worker_row(store)["state"] == "daily_cap", 20, "daily cap")
        holds_for(0.5, lambda: sent_at_most(2), interval=0.1)
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
    sim_each: Simulator, tmp_path: Path, no_leftover_browsers: None
) -> None:
    sim = sim_each
    sim.configure(failure_rate=1.0)
    # chat_timeout is long: the error toast (with or without a test id), not the timeout, ends each attempt.
    cfg = load(tmp_path, sim, browser__chat_timeout=60, sending__max_attempts=3, sending__attention_after=5)
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


@pytest.mark.browser
def test_a_link_whose_site_gives_no_preview_is_sent_without_one_after_the_wait(
    sim: Simulator, tmp_path: Path, no_leftover_browsers: None, caplog: pytest.LogCaptureFixture
) -> None:
    sim.configure(link_preview_delay=None)  # the sites give no preview
    caplog.set_level(logging.INFO, logger="worker")
    cfg = load(tmp_path, sim, sending__link_preview_wait=1.0)
    store = Store(cfg.paths.database)
    job = store.create_job("links", "t", [{"phone": "+12025550131", "text": "Our shop: www.shop.example.com"}])
    w = WorkerThread(cfg).start()
    try:
        wait_until(lambda: store.get_job(job)["status"] == "completed", 30, "job completed")
    finally:
        assert w.stop() == 0
    [m] = sim.ledger()["messages"]
    assert (m["text"], m["link_preview"]) == ("Our shop: www.shop.example.com", False)
    assert store.counts(job)["sent"] == 1 and store.message(ids_of(store, job)[0])["attempts"] == 1
    assert "no link preview within 1 s: sent without one" in caplog.text
    store.close()
