"""Account health end to end: the real worker in headless Chromium against a simulator that
limits, restricts or bans the account (docs/whatsapp-dom.md, "Account limits").

What must hold whatever WhatsApp does: nothing is sent twice, no attempt is spent on a
limit, a limit is never a broken selector (no line stop, no repair), known contacts keep
getting their message under a new-chat limit, other accounts go on, a restriction ends at
its time (a fake clock moves past it) and a ban is said, not waited out as a logout."""

from __future__ import annotations

import dataclasses
import itertools
import json
import time
from pathlib import Path
from typing import Any

import pytest

import settings
from simulator import Simulator
from store import Store
from store import states as S
from tests.support.cli import tui
from tests.support.config import write_config
from tests.support.exactly_once import assert_exactly_once
from tests.support.sim_fixtures import make_sim
from tests.support.waiting import holds_for, wait_until
from tests.support.workers import WorkerThread, worker_row
from worker.clock import FakeClock

pytestmark = pytest.mark.browser


def limited_sim(dom: str, lang: str, **limits: Any) -> Simulator:
    sim = make_sim(dom=dom, lang=lang, **limits)
    sim.login()
    return sim


def events_of(store: Store, kind: str) -> list[dict[str, Any]]:
    return [e for e in store.events(limit=1000) if e["kind"] == kind]


def attempts(store: Store, job: int) -> int:
    return sum(m["attempts"] for m in store.iter_messages(job))


@pytest.mark.parametrize(("dom", "lang"), [("2024", "en-US"), ("2026", "pt-BR")])
def test_new_people_refused_known_contacts_still_get_their_message(
    tmp_path: Path, dom: str, lang: str, no_leftover_browsers: None
) -> None:
    """The issue's account: WhatsApp refuses new people after 8 new chats; of 30 contacts
    the last 10 have a chat with us. All 10 get their message, 8 new ones do, the other 12
    wait with no attempt spent; no line stop, no self-repair, nothing twice."""
    sim = limited_sim(dom, lang, new_chat_limit_after=8, new_chat_limit_hours=11)
    known = [f"+1202555{i:04d}" for i in range(20, 30)]
    for phone in known:
        sim.seed_history(phone, "our offer of last year", at=time.time() - 86400)
    cfg = settings.load(write_config(tmp_path, sim, browser__language=lang))
    store = Store(cfg.paths.database)
    phones = [f"+1202555{i:04d}" for i in range(30)]
    job = store.create_job("t", "t", [{"phone": p, "text": f"hello {p[-2:]}"} for p in phones])
    w = WorkerThread(cfg).start()
    try:
        wait_until(lambda: len(sim.ledger()["messages"]) >= 18, 120, "18 messages sent")
        limit = wait_until(lambda: store.account_limit("default"), 30, "the limit noted")

        def holds() -> None:
            assert len(sim.ledger()["messages"]) == 18
            assert store.get_attention("default") is None
            assert worker_row(store)["state"] not in ("needs_attention", "repairing")

        holds_for(3.0, holds)
    finally:
        assert w.stop() == 0
    assert limit.state == S.LIMITED_NEW
    assert limit.until is not None and abs(limit.until - (time.time() + 11 * 3600)) < 300  # the page's "11 hours"
    sent_to = {m["phone"] for m in sim.ledger()["messages"]}
    assert set(known) <= sent_to  # every known contact got its message
    assert_exactly_once(sim.ledger()["messages"], sorted(sent_to))
    waiting = [m for m in store.iter_messages(job) if m["status"] != "sent"]
    assert len(waiting) == 12 and all(m["status"] == "pending" and m["attempts"] == 0 for m in waiting)
    assert attempts(store, job) == 18  # one per message sent, none for the limit
    assert events_of(store, "limited_new") and not events_of(store, "needs_attention")
    assert not events_of(store, "selectors_repaired")
    store.close()


def test_a_failure_mark_costs_nothing_and_the_message_goes_once_when_lifted(
    tmp_path: Path, no_leftover_browsers: None
) -> None:
    """WhatsApp's red "Not sent" on a message to someone new: it did not leave. It goes back
    to the queue with no attempt spent, the account is limited for new people (the page
    states no end: the cool-down), and when a person lifts the limit each contact gets the
    message exactly once."""
    sim = limited_sim("2026", "en-US", fail_sends=1)
    cfg_path = write_config(tmp_path, sim, sending__limit_cooldown_hours=6)
    cfg = settings.load(cfg_path)
    store = Store(cfg.paths.database)
    phones = ["+12025550301", "+12025550302", "+12025550303"]
    job = store.create_job("t", "t", [{"phone": p, "text": "spring offer"} for p in phones])
    w = WorkerThread(cfg).start()
    try:
        limit = wait_until(lambda: store.account_limit("default"), 60, "the limit")
        assert limit.state == S.LIMITED_NEW and abs(limit.until - (time.time() + 6 * 3600)) < 120

        def all_held() -> None:
            assert not sim.ledger()["messages"], sim.ledger()["messages"]
            counts = {k: v for k, v in store.counts(job).items() if v}
            assert counts == {"pending": 3}, counts

        holds_for(2.0, all_held)
        first = next(m for m in store.iter_messages(job) if m["requeues"])
        assert first["attempts"] == 0 and "refused" in (first["last_error"] or "")
        assert sim.limits()["refused"]  # the simulator refused one
        lifted = tui("--config", str(cfg_path), "accounts", "lift", "default")
        assert lifted.returncode == 0, lifted.stderr
        wait_until(lambda: store.get_job(job)["status"] == "completed", 60, "completed")
    finally:
        assert w.stop() == 0
    assert_exactly_once(sim.ledger()["messages"], phones)
    assert store.counts(job)["sent"] == 3 and attempts(store, job) == 3
    assert events_of(store, "limit_lifted")
    store.close()


def test_a_restriction_waits_for_its_time_then_tries_once(tmp_path: Path, no_leftover_browsers: None) -> None:
    """ "You can't send messages until 14:35": nothing is tried before, no attempt is spent;
    at the time (a fake clock moves there) the worker tries once; still restricted, it waits
    again (until the same time tomorrow, as the page now means); lifted, it sends."""
    sim = limited_sim("2026", "de-DE")
    ends = time.time() + 2 * 3600
    sim.configure(restricted_until=ends)
    cfg = settings.load(write_config(tmp_path, sim, browser__language="de-DE"))
    store = Store(cfg.paths.database)
    phones = ["+12025550401", "+12025550402"]
    job = store.create_job("t", "t", [{"phone": p, "text": "Angebot"} for p in phones])
    clock = FakeClock(time.time())
    w = WorkerThread(cfg, clock=clock).start()
    try:
        limit = wait_until(lambda: store.account_limit("default"), 60, "the restriction")
        assert limit.state == S.RESTRICTED and abs(limit.until - ends) <= 60  # the page's minute
        wait_until(lambda: worker_row(store)["state"] == "restricted", 30, "the worker waits")
        holds_for(2.0, lambda: not sim.ledger()["messages"] and attempts(store, job) == 0)
        assert store.get_job(job)["status"] == S.JOB_WAITING  # no account can send it now
        shown = json.loads(tui("--config", str(cfg.path), "status", str(job), "--json").stdout)["account_health"]
        assert shown["default"]["limit"] == "restricted" and 0 < shown["default"]["time_left_s"] <= 2 * 3600
        # Its time: the page still says restricted, so it waits again, until the same time tomorrow.
        clock.set(limit.until + 1)
        again = wait_until(
            lambda: (x := store.account_limit("default", now=clock.now())) and x.until > clock.now() and x,
            60,
            "restricted again",
        )
        assert again.state == S.RESTRICTED and abs(again.until - (limit.until + 86400)) <= 3700  # DST aside
        holds_for(1.0, lambda: not sim.ledger()["messages"] and attempts(store, job) == 0)
        # Lifted on the page, and its time comes: the job goes out, each message once.
        sim.configure(restricted_until=None)
        # WhatsApp lifts it on the page before its time comes: the worker's page redraws at
        # its next poll (0.1 s; later on a loaded machine), then the clock moves on.
        time.sleep(1.0)
        clock.set(again.until + 1)
        wait_until(lambda: store.get_job(job)["status"] == "completed", 60, "completed")
    finally:
        assert w.stop() == 0
    assert_exactly_once(sim.ledger()["messages"], phones)
    assert attempts(store, job) == 2 and events_of(store, "limit_lifted")
    store.close()


@pytest.mark.parametrize(("dom", "lang"), [("2024", "en-US"), ("2026", "es-ES")])
def test_a_ban_is_said_not_waited_out_as_a_logout(
    tmp_path: Path, dom: str, lang: str, no_leftover_browsers: None
) -> None:
    sim = limited_sim(dom, lang, banned=True)
    cfg_path = write_config(tmp_path, sim, browser__language=lang)
    cfg = settings.load(cfg_path)
    store = Store(cfg.paths.database)
    job = store.create_job("t", "t", [{"phone": "+12025550501", "text": "hola"}])
    w = WorkerThread(cfg).start()
    try:
        wait_until(lambda: worker_row(store)["state"] == "banned", 60, "banned")
        row = worker_row(store)
        assert row["qr"] is None and "banned" in (row["info"].get("detail") or "").lower()
        assert store.get_job(job)["status"] == S.JOB_WAITING
        shown = json.loads(tui("--config", str(cfg_path), "status", str(job), "--json").stdout)
        assert shown["account_health"]["default"]["health"] == "banned"
        assert shown["account_health"]["default"]["until"] is None
        assert "banned by WhatsApp" in tui("--config", str(cfg_path), "status", str(job)).stdout
        accounts = tui("--config", str(cfg_path), "accounts")
        assert "banned" in accounts.stdout
    finally:
        assert w.stop() == 0
    assert sim.ledger()["messages"] == [] and attempts(store, job) == 0
    assert events_of(store, "banned") and not events_of(store, "logged_out")
    store.close()


def test_one_account_restricted_the_other_sends_everything(tmp_path: Path, no_leftover_browsers: None) -> None:
    """Two accounts (two phones, two simulators): WhatsApp restricts one. The other sends
    the shared job alone; the job only the restricted one may send waits."""
    restricted, fine = limited_sim("2026", "en-US"), limited_sim("2024", "en-US")
    restricted.configure(restricted_until=time.time() + 3600)
    path = write_config(tmp_path, fine, accounts={"r": {}, "f": {}})
    base = settings.load(path)
    cfg_r = base.for_account("r")
    cfg_r = dataclasses.replace(cfg_r, browser=dataclasses.replace(cfg_r.browser, whatsapp_url=restricted.url))
    store = Store(base.paths.database)
    shared = store.create_job("all", "t", [{"phone": f"+1202555060{i}", "text": f"shared {i}"} for i in range(6)])
    only_r = store.create_job("r only", "t", [{"phone": "+12025550699", "text": "r only"}], accounts=["r"])
    workers = [WorkerThread(cfg_r).start(), WorkerThread(base.for_account("f")).start()]
    try:
        wait_until(lambda: store.get_job(shared)["status"] == "completed", 120, "the shared job completed")
        # (before r is logged in its job waits too: first r reads its restriction)
        wait_until(lambda: store.account_limit("r"), 60, "r's restriction read off its page")
        wait_until(lambda: store.get_job(only_r)["status"] == S.JOB_WAITING, 30, "the other job waits")
    finally:
        for w in workers:
            assert w.stop() == 0
    assert restricted.ledger()["messages"] == []
    assert_exactly_once(fine.ledger()["messages"], [f"+1202555060{i}" for i in range(6)])
    limit = store.account_limit("r")
    assert limit is not None and limit.state == S.RESTRICTED and store.account_limit("f") is None
    assert attempts(store, only_r) == 0
    store.close()


def test_the_unanswered_counter_stops_new_contacts_at_the_margin(tmp_path: Path, no_leftover_browsers: None) -> None:
    """ "You've sent 195 of 200 messages to people who haven't replied": within the margin
    (10), new contacts wait; a contact with a chat still gets its message."""
    sim = limited_sim("2026", "fr-FR", unanswered={"count": 195, "cap": 200})
    old = "+12025550799"
    sim.seed_history(old, "notre offre", at=time.time() - 86400)
    cfg = settings.load(write_config(tmp_path, sim, browser__language="fr-FR"))
    store = Store(cfg.paths.database)
    job = store.create_job("t", "t", [{"phone": p, "text": "offre"} for p in ("+12025550701", "+12025550702", old)])
    w = WorkerThread(cfg).start()
    try:
        wait_until(lambda: [m["phone"] for m in sim.ledger()["messages"]] == [old], 90, "the known contact sent")
        holds_for(3.0, lambda: len(sim.ledger()["messages"]) == 1)
        # Idle with work queued: it says why (status shows the worker's detail).
        out = tui("--config", str(cfg.path), "status", str(job)).stdout
        assert "WhatsApp counts 195 of 200 unanswered messages" in out and "new people wait" in out
    finally:
        assert w.stop() == 0
    account = store.account("default")
    assert account is not None and (account["unanswered"], account["unanswered_cap"]) == (195, 200)
    assert attempts(store, job) == 1 and store.counts(job)["pending"] == 2
    store.close()


def test_the_budget_of_new_contacts_holds_the_rest_for_tomorrow_and_says_so(
    tmp_path: Path, no_leftover_browsers: None
) -> None:
    """`new_contacts_per_day = 2`: two new people get their message, the third waits for
    tomorrow, a contact with a chat is still sent, and `status` says why the rest waits."""
    sim = limited_sim("2026", "en-US")
    old = "+12025550899"
    sim.seed_history(old, "our offer", at=time.time() - 86400)
    cfg = settings.load(write_config(tmp_path, sim, sending__new_contacts_per_day=2))
    store = Store(cfg.paths.database)
    new = [f"+1202555081{i}" for i in range(3)]
    job = store.create_job("t", "t", [{"phone": p, "text": "offer"} for p in [*new, old]])
    w = WorkerThread(cfg).start()
    try:
        wait_until(lambda: len(sim.ledger()["messages"]) == 3, 90, "two new contacts and the known one")
        holds_for(3.0, lambda: len(sim.ledger()["messages"]) == 3)
        out = tui("--config", str(cfg.path), "status", str(job)).stdout
        assert "today's 2 new contacts reached" in out, out
    finally:
        assert w.stop() == 0
    sent = [m["phone"] for m in sim.ledger()["messages"]]
    assert old in sent and len(set(sent) & set(new)) == 2
    assert store.counts(job)["pending"] == 1 and attempts(store, job) == 3
    store.close()


@pytest.mark.parametrize("dom", ["2024", "2026"])
def test_typing_is_seen_inside_the_pacing_and_the_exact_text_arrives(
    tmp_path: Path, dom: str, no_leftover_browsers: None
) -> None:
    """`[sending] typing`: the contact sees the text grow (the simulator records the compose
    box's changes before each send) over a human time, inside the pacing delay: the time
    between two sends stays in its configured range; emoji and line breaks arrive exact."""
    sim = limited_sim(dom, "en-US")
    cfg = settings.load(
        write_config(
            tmp_path,
            sim,
            sending__delay_min=4.0,
            sending__delay_max=5.0,
            sending__typing_cps=15.0,
            sending__typing_max=3.0,
        )
    )
    store = Store(cfg.paths.database)
    phones = [f"+1202555080{i}" for i in range(4)]
    texts = {p: f"Olá {p[-1]} 🎉 *spring* offer\nsecond line, with a 👍🏽 and ✓" for p in phones}
    job = store.create_job("t", "t", [{"phone": p, "text": texts[p]} for p in phones])
    w = WorkerThread(cfg).start()
    try:
        wait_until(lambda: store.get_job(job)["status"] == "completed", 120, "completed")
    finally:
        assert w.stop() == 0
    ledger = sim.ledger()["messages"]
    assert_exactly_once(ledger, phones)
    assert {m["phone"]: m["text"] for m in ledger} == texts  # exact, emoji and line break included
    typed = sim.typing()
    for phone in phones:
        (send,) = typed[phone]
        before = [e for e in send["events"] if e["at"] <= send["sent_at"]]
        lengths = [e["length"] for e in before]
        assert len(set(lengths)) >= 4, lengths  # in pieces, not pasted at once
        assert lengths == sorted(lengths)  # it grows
        # over a human time: ~50 characters at 15/s, within the 3 s taken before the due
        # time less opening the chat and the half second kept for the click
        assert before[-1]["at"] - before[0]["at"] >= 0.8
    accepted = sorted(m["accepted_at"] for m in ledger)
    gaps = [b - a for a, b in itertools.pairwise(accepted)]
    assert all(4.0 - 0.3 <= g <= 5.0 + 1.0 for g in gaps), gaps  # the pacing's range, typing inside it
    store.close()
