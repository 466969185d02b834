"""Replies end to end, on each DOM generation: a job of 20; five contacts answer, three
of them with opt-out words in different forms ("stop", "Stop!", "PARAR 🙏"), one unclear
("stop sending me offers pls"), one ordinary. The worker reads them in its gaps: each
stored once (however often it looks), three opt-outs whose messages in a second job are
skipped and never sent (the simulator's ledger), the unclear one flagged and not acted
on, the chats read (the contact's blue ticks). With `open_chats = false` only the chat
list's preview is read and the chats stay unread."""

from __future__ import annotations

import collections
from pathlib import Path
from typing import Any

import pytest

import settings
from simulator import Simulator
from store import Store
from tests.support.config import write_config
from tests.support.waiting import holds_for, wait_until
from tests.support.workers import WorkerThread

PHONES = [f"+1202555{i:04d}" for i in range(300, 320)]
ANSWERS = {
    PHONES[1]: "stop",
    PHONES[4]: "Stop!",
    PHONES[7]: "PARAR 🙏",
    PHONES[10]: "stop sending me offers pls",
    PHONES[13]: "Thanks, tell me more",
}
OPTED = {PHONES[1], PHONES[4], PHONES[7]}


def run_job_then_replies(sim: Simulator, tmp: Path, **overrides: Any) -> tuple[Store, int, int, WorkerThread]:
    cfg = settings.load(write_config(tmp, sim, replies__look_every=0.5, replies__budget=0.0, **overrides))
    store = Store(cfg.paths.database)
    first = store.create_job("first", "t", [{"phone": p, "text": f"Offer for {p} 🎁"} for p in PHONES])
    # The second job waits (paused) while the answers come in.
    second = store.create_job(
        "second", "t", [{"phone": p, "text": f"Second offer {p}"} for p in PHONES], status="paused"
    )
    w = WorkerThread(cfg).start()
    wait_until(lambda: store.get_job(first).status == "completed", 90, "the first job sent")
    for phone, text in ANSWERS.items():
        sim.deliver(phone, text)
    return store, first, second, w


def stored_once(store: Store, job: int) -> None:
    replies = store.replies(job)
    assert len(replies) == 5, [(r.phone, r.text) for r in replies]


@pytest.mark.browser
def test_replies_are_read_once_opt_outs_skip_the_next_job_and_unclear_ones_wait(
    sim_each: Simulator, tmp_path: Path, no_leftover_browsers: None
) -> None:
    sim = sim_each
    store, first, second, w = run_job_then_replies(sim, tmp_path)
    try:
        wait_until(lambda: len(store.replies(first)) == 5, 60, "five replies stored")
        wait_until(lambda: not sim.unread(), 30, "every answered chat read")
        # About four more looks (one each 0.5 s while idle): they store nothing again.
        holds_for(2.0, lambda: stored_once(store, first))
        replies = store.replies(first)
        assert len(replies) == 5 and {r.phone: r.text for r in replies} == ANSWERS
        assert {r.phone for r in replies if r.flag == "optout"} == OPTED
        assert [r.phone for r in replies if r.flag == "unclear"] == [PHONES[10]]
        assert all(r.job_id == first and r.message_id is not None and r.at is not None for r in replies)
        assert store.optout_set() == OPTED  # the unclear one is not acted on
        skipped = {m.phone for m in store.iter_messages(second) if m.status == "skipped"}
        assert skipped == OPTED
        job = store.get_job(first)
        assert (job.replied, job.optouts, job.unclear) == (5, 3, 1) and job.reply_rate == 0.25
        assert set(sim.read_receipts()) == set(ANSWERS)  # the contacts see their messages read
        # A reply read on the phone first has no badge: its chat's preview tells it is new.
        late = PHONES[16]
        sim.deliver(late, "Can I pay on delivery?")
        sim.read_chat(late)
        assert late not in sim.unread()
        wait_until(
            lambda: [r.text for r in store.replies(first) if r.phone == late] == ["Can I pay on delivery?"],
            30,
            "the reply read elsewhere",
        )
        store.set_job_status(second, "running")
        wait_until(lambda: store.get_job(second).status == "completed", 90, "the second job sent")
    finally:
        w.stop()
    per_phone = collections.Counter(m["phone"] for m in sim.ledger()["messages"])
    assert all(per_phone[p] == (1 if p in OPTED else 2) for p in PHONES), per_phone
    assert len(store.replies(first)) == 6
    store.close()


@pytest.mark.browser
def test_without_opening_chats_the_preview_is_read_and_chats_stay_unread(
    tmp_path: Path, no_leftover_browsers: None
) -> None:
    sim = Simulator(port=0, boot_time=0.2, ack_delay=0.05, dblcheck_delay=0.1).start()
    sim.login()
    try:
        store, first, _second, w = run_job_then_replies(sim, tmp_path, replies__open_chats=False)
        try:
            wait_until(lambda: len(store.replies(first)) == 5, 60, "five previews stored")
            assert store.optout_set() == OPTED
            assert {r.phone: r.text for r in store.replies(first)} == ANSWERS
            assert set(sim.unread()) == set(ANSWERS) and sim.read_receipts() == {}  # nothing marked read
        finally:
            w.stop()
        store.close()
    finally:
        sim.stop()
