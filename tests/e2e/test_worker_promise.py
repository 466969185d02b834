"""The promise on the page WhatsApp serves now (2026 DOM): a doubt never re-sends, a proven
absence does (at most `auto_requeue_limit` times), a broken selector stops the line
instead of burning the list, and nothing loops. Real headless Chromium, shipped config."""

from __future__ import annotations

import dataclasses
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

import settings
from simulator import Simulator
from store import Store
from tests.support.cli import tui
from tests.support.config import write_config
from tests.support.exactly_once import assert_exactly_once
from tests.support.waiting import holds_for, wait_until
from tests.support.workers import WorkerThread, ids_of, status_of, worker_row
from worker import verify

DEAD = "deadhost:1:1"


@pytest.fixture
def fast_verify(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(verify, "REVERIFY_GRACE", 0.3)
    monkeypatch.setattr(verify, "REVERIFY_PERIOD", 1.0)
    monkeypatch.setattr(verify, "VERIFY_RETRY", 0.3)


def tui_with(cfg_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return tui("--config", str(cfg_path), *args, timeout=60)


def crashed_after_click(store: Store, sim: Simulator, job: int, *, reached: bool) -> dict[str, Any]:
    """What a worker SIGKILLed right after its send click leaves: the message `sending` with
    `clicked_at`, claimed by a worker that is gone; `reached`: the click got to WhatsApp."""
    msg = store.claim(DEAD)
    assert msg is not None and msg["job_id"] == job
    store.mark_clicking(msg["id"], worker_id=DEAD)
    if reached:
        sim.state.send(msg["phone"], "", msg["text"])
    return msg


def ledger_texts(sim: Simulator) -> list[str]:
    return [m["text"] for m in sim.ledger()["messages"]]


@pytest.mark.browser
def test_a_bubble_whose_time_cannot_be_read_is_never_sent_again(
    sim: Simulator, tmp_path: Path, no_leftover_browsers: None, fast_verify: None
) -> None:
    cfg_path = write_config(tmp_path, sim)
    cfg = settings.load(cfg_path)
    store = Store(cfg.paths.database)
    job = store.create_job("t", "t", [{"phone": "+12025550701", "text": "Olá *Ana* 👋🏽 https://example.com"}])
    msg = crashed_after_click(store, sim, job, reached=True)
    sim.configure(date_style="words")  # "[2:05 PM, Nov 30, 2026]": no numeric pattern reads it
    w = WorkerThread(cfg).start()
    try:
        wait_until(lambda: (store.message(msg["id"])["verify_tries"] or 0) >= verify.VERIFY_TRIES, 40, "held")
        # ... and nothing else happens to it: the one send of the crashed worker, never a second
        holds_for(1.0, lambda: assert_exactly_once(sim.ledger()["messages"], [msg["text"]], key="text"))
    finally:
        assert w.stop() == 0
    row = store.message(msg["id"])
    assert row["status"] == "unknown" and "no readable time" in row["review"]
    assert ledger_texts(sim) == [msg["text"]]  # the one send of the crashed worker, never a second
    # A person decides: it is in the chat.
    listed = tui_with(cfg_path, "review", str(job))
    assert listed.returncode == 0 and str(msg["id"]) in listed.stdout and "no readable time" in listed.stdout
    out = tmp_path / "out.csv"
    assert tui_with(cfg_path, "export", str(job), "-o", str(out)).returncode == 0
    assert "unknown" in out.read_text(encoding="utf-8-sig") and "no readable time" in out.read_text("utf-8-sig")
    done = tui_with(cfg_path, "review", "--mark-sent", str(msg["id"]))
    assert done.returncode == 0, done.stderr
    assert status_of(store, msg["id"]) == "sent"
    again = tui_with(cfg_path, "review", "--resend", str(msg["id"]))
    errors = [ln for ln in again.stderr.splitlines() if not ln.startswith("warning:")]
    assert again.returncode == 2 and len(errors) == 1 and "not unknown" in errors[0]
    assert ledger_texts(sim) == [msg["text"]]
    store.close()


@pytest.mark.browser
def test_a_message_that_never_left_is_sent_again_and_one_that_did_is_not(
    sim: Simulator, tmp_path: Path, no_leftover_browsers: None
) -> None:
    cfg = settings.load(write_config(tmp_path, sim))
    store = Store(cfg.paths.database)
    texts = ["Black Friday 🛍️ *-40%* today", "Your order is ready ✅", "see you 👋"]
    job = store.create_job("t", "t", [{"phone": f"+1202555080{i}", "text": t} for i, t in enumerate(texts)])
    # 0: the click never reached WhatsApp; its chat has the same text from last year's
    #    campaign and a reply from the contact at the end.
    sim.seed_history("+12025550800", texts[0], at=time.time() - 365 * 86400)
    sim.seed_history("+12025550800", "STOP please", at=time.time() - 365 * 86400 + 60, incoming=True)
    lost = crashed_after_click(store, sim, job, reached=False)
    # 1: the click reached WhatsApp; the contact has already answered below it.
    store_reached = crashed_after_click(store, sim, job, reached=True)
    sim.deliver("+12025550801", "thanks!")
    # 2: claimed, but the worker died before its click: back to the queue, no verification needed.
    unclicked = store.claim(DEAD)
    w = WorkerThread(cfg).start()
    try:
        wait_until(lambda: store.get_job(job)["status"] == "completed", 40, "completed")
    finally:
        assert w.stop() == 0
    assert_exactly_once(sim.ledger()["messages"], texts, key="text")  # (seeded history is not in the ledger)
    assert store.message(lost["id"])["requeues"] == 1 and store.message(lost["id"])["status"] == "sent"
    reached = store.message(store_reached["id"])
    assert reached["status"] == "sent" and "verified" in reached["last_error"] and reached["requeues"] == 0
    assert store.message(unclicked["id"])["requeues"] == 0 and store.message(unclicked["id"])["status"] == "sent"
    store.close()


@pytest.mark.browser
def test_after_a_click_a_message_goes_back_to_the_queue_once_then_waits_for_a_person(
    sim: Simulator, tmp_path: Path, no_leftover_browsers: None, fast_verify: None
) -> None:
    cfg = settings.load(write_config(tmp_path, sim, browser__ack_timeout=1.0))
    store = Store(cfg.paths.database)
    job = store.create_job("t", "t", [{"phone": "+12025550901", "text": "two lost clicks"}])
    [mid] = ids_of(store, job)
    sim.configure(lose_clicks=2)
    w = WorkerThread(cfg).start()
    try:
        wait_until(lambda: (store.message(mid)["verify_tries"] or 0) >= verify.VERIFY_TRIES, 40, "held")

        def never_a_third_click() -> None:
            assert (store.message(mid)["attempts"] or 0) <= 2 and sim.ledger()["messages"] == []

        holds_for(1.5, never_a_third_click)
    finally:
        assert w.stop() == 0
    row = store.message(mid)
    assert row["status"] == "unknown" and row["requeues"] == 1 and "held" in row["review"]
    assert sim.ledger()["lost_clicks"] == 2 and sim.ledger()["messages"] == []
    assert row["attempts"] == 2  # two clicks in all, never a third on a doubt
    store.close()


# Three messages before the line stops, a dozen after the fix.
N_FIX = 15


@pytest.mark.browser
def test_a_broken_send_button_stops_the_line_and_a_fixed_config_finishes_the_job_once(
    sim: Simulator, tmp_path: Path, no_leftover_browsers: None
) -> None:
    """Self-repair off: the line stops for a person; a config file with working selectors
    is picked up by the running worker (no restart) and the job finishes, each message once."""
    cfg_path = write_config(tmp_path, sim, heal__enabled=False)
    cfg = settings.load(cfg_path)
    broken = dataclasses.replace(
        cfg, selectors={**cfg.selectors, "send_button": ("#main footer button[aria-label='Nope']",)}
    )
    store = Store(cfg.paths.database)
    job = store.create_job("t", "t", [{"phone": f"+1202556{i:04d}", "text": f"offer {i} 🎁"} for i in range(N_FIX)])
    w = WorkerThread(broken).start()
    try:
        wait_until(lambda: worker_row(store)["state"] == "needs_attention", 60, "needs attention")

        def stays_stopped() -> None:
            assert worker_row(store)["state"] == "needs_attention"
            assert sum(m["attempts"] for m in store.iter_messages(job)) <= 3 and store.counts(job)["failed"] == 0

        holds_for(1.0, stays_stopped)
        row = worker_row(store)
        assert row["info"]["key"] == "send_button" and "send_button" in row["info"]["detail"]
        msgs = list(store.iter_messages(job))
        assert sum(m["attempts"] for m in msgs) <= 3
        assert store.counts(job)["failed"] == 0
        shown = tui_with(cfg_path, "attention")
        assert shown.returncode == 0 and "send_button" in shown.stdout and "failed on 3 messages" in shown.stdout
        status = tui_with(cfg_path, "status", str(job))
        assert "needs_attention" in status.stdout
        assert list((Path(cfg.paths.log_dir) / "failures").glob("*send_button*.html"))
        # The fix: the config file changes (it has the shipped selectors); the running
        # worker reads its selectors at once and sends again.
        cfg_path.write_text(cfg_path.read_text(encoding="utf-8") + "\n", encoding="utf-8")
        wait_until(lambda: store.get_job(job)["status"] == "completed", 90, "completed")
    finally:
        assert w.stop() == 0
    assert store.get_attention("default") is None
    assert_exactly_once(sim.ledger()["messages"], [f"offer {i} 🎁" for i in range(N_FIX)], key="text")
    assert store.counts(job)["sent"] == N_FIX and store.counts(job)["failed"] == 0
    store.close()


@pytest.mark.browser
def test_a_broken_compose_box_gives_the_attempts_back(
    sim: Simulator, tmp_path: Path, no_leftover_browsers: None
) -> None:
    cfg = settings.load(
        write_config(tmp_path, sim, browser__chat_timeout=1, sending__max_attempts=2, heal__enabled=False)
    )
    cfg = dataclasses.replace(cfg, selectors={**cfg.selectors, "compose_box": ("#main footer textarea",)})
    store = Store(cfg.paths.database)
    job = store.create_job("t", "t", [{"phone": f"+1202557{i:04d}", "text": f"hi {i}"} for i in range(10)])
    w = WorkerThread(cfg).start()
    try:
        wait_until(lambda: worker_row(store)["state"] == "needs_attention", 60, "needs attention")

        def stays_stopped() -> None:
            assert worker_row(store)["state"] == "needs_attention" and sim.ledger()["messages"] == []

        holds_for(1.0, stays_stopped)
    finally:
        assert w.stop() == 0
    msgs = list(store.iter_messages(job))
    assert [m["status"] for m in msgs] == ["pending"] * 10
    assert all(m["attempts"] == 0 for m in msgs)
    assert worker_row(store)["state"] == "stopped" and store.get_attention("default")["key"] == "compose_box"
    assert sim.ledger()["messages"] == []
    store.close()


@pytest.mark.browser
def test_a_page_that_hides_our_own_bubbles_never_makes_a_loop(
    sim: Simulator, tmp_path: Path, no_leftover_browsers: None, fast_verify: None
) -> None:
    """Our bubbles cannot be read back (their text drawn as a picture, as emoji drawn as
    images or attachments without a name once were): nothing may be sent twice."""
    cfg = settings.load(write_config(tmp_path, sim, browser__ack_timeout=1.0, sending__attention_after=10))
    sim.configure(text_style="image")
    store = Store(cfg.paths.database)
    texts = [f"Olá {n} 👋" for n in ("Ana", "Bia", "Caio", "Duda")]
    job = store.create_job("t", "t", [{"phone": f"+1202558{i:04d}", "text": t} for i, t in enumerate(texts)])
    w = WorkerThread(cfg).start()
    try:
        wait_until(
            lambda: all((m["verify_tries"] or 0) >= verify.VERIFY_TRIES for m in store.iter_messages(job)),
            90,
            "all held",
        )
        holds_for(2.0, lambda: assert_exactly_once(sim.ledger()["messages"], texts, key="text"))
    finally:
        assert w.stop() == 0
    assert_exactly_once(sim.ledger()["messages"], texts, key="text")  # never again
    assert all(m["status"] == "unknown" and m["requeues"] == 0 for m in store.iter_messages(job))
    store.close()


@pytest.mark.browser
def test_a_text_selector_that_matches_nothing_is_read_by_meaning_and_counted(
    sim: Simulator, tmp_path: Path, no_leftover_browsers: None
) -> None:
    """The text element's selector matches nothing, yet the bubble plainly has a text: it
    is read from the bubble's own data-pre-plain-text element, each message is proven sent
    once, and message_text counts as a failing key (it stops the line at the limit)."""
    cfg = settings.load(write_config(tmp_path, sim, browser__ack_timeout=5.0, sending__attention_after=10))
    cfg = dataclasses.replace(cfg, selectors={**cfg.selectors, "message_text": ("span.no-such-text",)})
    store = Store(cfg.paths.database)
    texts = [f"Olá {n} 👋" for n in ("Ana", "Bia", "Caio")]
    job = store.create_job("t", "t", [{"phone": f"+1202558{i:04d}", "text": t} for i, t in enumerate(texts)])
    w = WorkerThread(cfg).start()
    try:
        wait_until(lambda: all(m["status"] == "sent" for m in store.iter_messages(job)), 60, "all sent")
    finally:
        assert w.stop() == 0
    assert sorted(ledger_texts(sim)) == sorted(texts)  # each exactly once
    assert store.get_attention("default") is None  # 3 failures, limit 10: still sending
    cfg3 = dataclasses.replace(cfg, sending=dataclasses.replace(cfg.sending, attention_after=3))
    job2 = store.create_job("t2", "t", [{"phone": f"+1202559{i:04d}", "text": f"again {i}"} for i in range(3)])
    w = WorkerThread(dataclasses.replace(cfg3, heal=dataclasses.replace(cfg3.heal, enabled=False))).start()
    try:
        wait_until(lambda: store.get_attention("default") is not None, 60, "the line stopped")
    finally:
        assert w.stop() == 0
    doc = store.get_attention("default")
    assert doc["key"] == "message_text" and "text of a bubble" in doc["detail"]
    assert [m["status"] for m in store.iter_messages(job2)] == ["sent"] * 3  # proven by meaning, never burnt
    store.close()


@pytest.mark.browser
def test_portuguese_page_words_and_times(tmp_path: Path, no_leftover_browsers: None) -> None:
    """The browser language drives the page (lang "auto", as WhatsApp Web does); the
    worker finds its Portuguese controls and reads its day-first times when it verifies."""
    page_sim = Simulator(port=0, boot_time=0.2, ack_delay=0.1, dblcheck_delay=0.3, dom="2026").start()
    page_sim.login()
    try:
        cfg = settings.load(write_config(tmp_path, page_sim, browser__language="pt-BR", browser__ack_timeout=1.0))
        store = Store(cfg.paths.database)
        img = tmp_path / "cardapio.png"
        img.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 100)
        job = store.create_job(
            "t",
            "t",
            [
                {"phone": "+5511987650001", "text": "Olá *Ana*, veja o cardápio 🍕", "attachment": str(img)},
                {"phone": "+5511987650002", "text": "Até amanhã 👋"},
            ],
        )
        first, second = ids_of(store, job)
        page_sim.configure(stuck_clock=True)
        w = WorkerThread(cfg).start()
        try:
            wait_until(lambda: status_of(store, first) == "unknown" and status_of(store, second) == "unknown", 30)
        finally:
            assert w.stop() == 0
        assert page_sim.get_state()["page_lang"] == "pt-BR"
        page_sim.configure(stuck_clock=False)
        w2 = WorkerThread(cfg).start()
        try:
            wait_until(lambda: store.get_job(job)["status"] == "completed", 40, "completed")
        finally:
            assert w2.stop() == 0
        assert all("verified" in (store.message(m)["last_error"] or "") for m in (first, second))
        assert_exactly_once(
            page_sim.ledger()["messages"], ["Olá *Ana*, veja o cardápio 🍕", "Até amanhã 👋"], key="text"
        )
        store.close()
    finally:
        page_sim.stop()
