"""Account health in the store: the limits WhatsApp puts on an account (a move table like
the jobs' and messages'), the contacts an account knows (claimed first, never counted as
new), the day's budget of new contacts, WhatsApp's unanswered counter, and jobs that wait
while every account that may send them is restricted or banned. Both backends."""

from __future__ import annotations

import itertools

import pytest

import settings
from store import IllegalTransition, Store
from store.states import BANNED, LIMIT_MOVES, LIMITED_NEW, NO_LIMIT, RESTRICTED, AccountHealth, shown_health
from tests.support.old_db import version_1_database

T0 = 1_780_000_000.0  # a fixed clock: every call below passes now=
HOUR = 3600.0


def msgs(phones: list[str]) -> list[dict]:
    return [{"phone": p, "text": f"hello {p}"} for p in phones]


def nums(n: int, prefix: str = "+1202555") -> list[str]:
    return [f"{prefix}{i:04d}" for i in range(n)]


@pytest.fixture
def store(db_target) -> Store:
    s = Store(db_target)
    yield s
    s.close()


def online(store: Store, *names: str) -> None:
    store.sync_accounts(dict.fromkeys(names, True), now=T0)
    for name in names:
        store.account_seen(name, "logged_in", now=T0)


def drain(store: Store, account: str, now: float, **kw) -> list:
    out = []
    while (c := store.claim(f"w-{account}", account=account, now=now, **kw)) is not None:
        out.append(c)
    return out


# ---------------------------------------------------------------------- the move table
STATES = (NO_LIMIT, LIMITED_NEW, RESTRICTED, BANNED)


@pytest.mark.parametrize("old, new", list(itertools.product(STATES[1:], STATES)))
def test_every_limit_move_is_legal_or_raises_as_the_table_says(store: Store, old: str, new: str) -> None:
    online(store, "a")
    store.set_account_limit("a", old, until=T0 + HOUR, reason="seen", now=T0)
    allowed = new in LIMIT_MOVES[old]
    if new == NO_LIMIT:
        if allowed:
            assert store.clear_account_limit("a", "compose bar back", now=T0 + 1) == old
            assert store.account_limit("a", now=T0 + 1) is None
        else:
            with pytest.raises(IllegalTransition):
                store.clear_account_limit("a", "worker thinks so", now=T0 + 1)
            assert store.account_limit("a", now=T0 + 1).state == old
        return
    if allowed:
        assert store.set_account_limit("a", new, until=T0 + 2 * HOUR, now=T0 + 1) == old
        assert store.account_limit("a", now=T0 + 1).state == new
    else:
        with pytest.raises(IllegalTransition):
            store.set_account_limit("a", new, until=T0 + 2 * HOUR, now=T0 + 1)
        assert store.account_limit("a", now=T0 + 1).state == old


def test_from_no_limit_every_limit_may_be_set_and_bad_input_is_refused(store: Store) -> None:
    assert LIMIT_MOVES[NO_LIMIT] == {LIMITED_NEW, RESTRICTED, BANNED}
    for name, state in (("a", LIMITED_NEW), ("b", RESTRICTED), ("c", BANNED)):
        assert store.set_account_limit(name, state, until=T0 + HOUR, now=T0) == NO_LIMIT
    with pytest.raises(ValueError, match="unknown account limit"):
        store.set_account_limit("a", "shadowbanned", now=T0)
    with pytest.raises(ValueError, match="needs its end"):
        store.set_account_limit("d", RESTRICTED, now=T0)  # the worker gives the page's time or the cool-down
    assert store.clear_account_limit("nobody", now=T0) == NO_LIMIT  # nothing to lift: nothing changes


def test_a_ban_is_for_good_unless_a_person_lifts_it(store: Store) -> None:
    online(store, "a")
    store.set_account_limit("a", BANNED, reason="This account is not allowed to use WhatsApp", now=T0)
    lim = store.account_limit("a", now=T0 + 365 * 24 * HOUR)
    assert lim.state == BANNED and lim.until is None and "not allowed" in lim.reason
    assert store.lift_expired_limits(now=T0 + 365 * 24 * HOUR) == []
    with pytest.raises(IllegalTransition):
        store.clear_account_limit("a", "the worker saw the chat list", now=T0 + 1)
    assert store.clear_account_limit("a", "appeal accepted", now=T0 + 2, person=True) == BANNED
    assert store.account_health("a", now=T0 + 2) == AccountHealth.LOGGED_IN


def test_limits_are_events_in_the_outbox_and_renewing_one_is_not_a_new_event(store: Store) -> None:
    online(store, "a")
    before = store.outbox_last_id()
    store.set_account_limit("a", LIMITED_NEW, until=T0 + HOUR, reason="can't message new people", now=T0)
    store.set_account_limit("a", LIMITED_NEW, until=T0 + 3 * HOUR, reason="again", now=T0 + 60)  # renewed
    assert store.account_limit("a", now=T0 + 2 * HOUR).until == T0 + 3 * HOUR
    assert store.account_limit("a", now=T0 + 2 * HOUR).since == T0  # the same limit since its start
    store.set_account_limit("a", RESTRICTED, until=T0 + 5 * HOUR, now=T0 + 120)
    store.clear_account_limit("a", "compose bar back", now=T0 + 180)
    events = [e for e in store.outbox_events(after_id=before) if e.event == "account.state"]
    assert [(e.account, e.payload["state"]) for e in events] == [
        ("a", "limited_new"),
        ("a", "restricted"),
        ("a", "limit_lifted"),
    ]
    assert events[0].payload["until"] == T0 + HOUR and events[0].payload["reason"] == "can't message new people"
    assert events[1].payload["previous"] == "limited_new" and events[2].payload["previous"] == "restricted"
    kinds = [e.kind for e in store.events(limit=10)]
    assert kinds[:3] == ["limit_lifted", "restricted", "limited_new"]


def test_the_shown_health_puts_the_limit_first() -> None:
    now = T0
    assert shown_health("logged_in", "banned", None, now=now, attention=True) == AccountHealth.BANNED
    assert shown_health("logged_out", "restricted", now + 1, now=now) == AccountHealth.RESTRICTED
    assert shown_health("logged_in", "restricted", now - 1, now=now) == AccountHealth.LOGGED_IN  # ended
    assert shown_health("logged_in", "limited_new", None, now=now, offline=True) == AccountHealth.LIMITED_NEW
    assert shown_health("logged_out", "", None, now=now, attention=True) == AccountHealth.NEEDS_ATTENTION
    assert shown_health("logged_out", "", None, now=now, offline=True) == AccountHealth.LOGGED_OUT
    assert shown_health("logged_in", "", None, now=now, offline=True) == AccountHealth.OFFLINE
    assert shown_health("unknown", "", None, now=now) == AccountHealth.UNKNOWN


# ---------------------------------------------------------------------- restricted and banned
def test_a_restricted_or_banned_account_claims_nothing_and_its_jobs_wait(store: Store) -> None:
    online(store, "a", "b")
    only_a = store.create_job("a's", "t", msgs(nums(3)), accounts=["a"], now=T0)
    anyone = store.create_job("any", "t", msgs(nums(3, "+1202556")), now=T0)
    store.set_account_limit("a", RESTRICTED, until=T0 + HOUR, reason="You can't send messages for 1 hour", now=T0)
    assert store.claim("wa", account="a", now=T0 + 1) is None
    assert store.get_job(only_a).status == "waiting_for_login"  # nobody else may send it
    assert store.get_job(anyone).status == "running"  # b still can
    assert store.claim("wb", account="b", now=T0 + 1).job_id == anyone
    store.set_account_limit("b", BANNED, now=T0 + 2)
    assert store.claim("wb", account="b", now=T0 + 3) is None
    assert store.get_job(anyone).status == "waiting_for_login"
    assert store.account_health("b", now=T0 + 3) == AccountHealth.BANNED
    # The restriction's end passes: the next claim lifts it (event) and the jobs run again.
    c = store.claim("wa", account="a", now=T0 + HOUR + 1)
    assert c is not None and c.job_id == only_a
    assert store.account_limit("a", now=T0 + HOUR + 1) is None
    assert store.get_job(only_a).status == "running" and store.get_job(anyone).status == "running"
    assert store.events(limit=20)[0].kind in ("limit_lifted", "job_status")


def test_messages_held_for_a_limit_go_back_without_spending_an_attempt(store: Store) -> None:
    online(store, "a")
    store.create_job("j", "t", msgs(nums(3)), now=T0)
    held = store.claim("wa", account="a", now=T0)
    failed = store.claim("wa", account="a", now=T0)
    store.mark_failed_attempt(failed.id, "chat did not open", max_attempts=3, backoff=30, worker_id="wa", now=T0)
    assert store.message(failed.id).attempts == 1 and store.message(held.id).attempts == 1
    store.set_account_limit(
        "a", LIMITED_NEW, until=T0 + HOUR, reason="new chats refused", now=T0 + 1, release=[held.id, failed.id]
    )
    for mid in (held.id, failed.id):
        row = store.message(mid)
        assert row.status == "pending" and row.attempts == 0, row


# ---------------------------------------------------------------------- known and new contacts
def test_known_contacts_come_first_and_limited_new_takes_only_them(store: Store) -> None:
    online(store, "a", "b")
    phones = nums(6)
    job = store.create_job("j", "t", msgs(phones), now=T0)
    assert store.note_known("a", [phones[4], phones[5], "+449999999999"], source="chats", now=T0) == 3
    assert store.note_known("a", [phones[4]], source="history", now=T0) == 0  # known already
    first = store.claim("wa", account="a", now=T0)
    assert first.phone == phones[4] and first.known
    store.set_account_limit("a", LIMITED_NEW, until=T0 + HOUR, now=T0)
    got = drain(store, "a", T0 + 1)
    assert [c.phone for c in got] == [phones[5]] and all(c.known for c in got)
    # b is not limited: it takes the new contacts, in import order, as new ones.
    theirs = drain(store, "b", T0 + 1)
    assert [c.phone for c in theirs] == phones[:4] and not any(c.known for c in theirs)
    assert store.counts(job)["sending"] == 6


def test_a_job_imported_after_the_chat_list_was_read_knows_its_contacts(store: Store) -> None:
    online(store, "a", "b")
    phones = nums(4)
    store.note_known("b", [phones[2]], source="chats", now=T0)
    store.note_known("a", [phones[3]], source="chats", now=T0)
    store.create_job("j", "t", msgs(phones), now=T0)
    c = store.claim("wb", account="b", now=T0)
    assert c.phone == phones[2] and c.known
    assert store.claim("wa", account="a", now=T0).phone == phones[3]
    # A job only b may send: a's contact is nobody's there, a new contact for b.
    other = nums(2, "+1202557")
    store.create_job("b only", "t", msgs([*other, phones[3]]), accounts=["b"], now=T0)
    got = drain(store, "b", T0)
    assert [(c.job_id, c.phone, c.known) for c in got] == [
        (1, phones[0], False),
        (1, phones[1], False),
        (2, other[0], False),
        (2, other[1], False),
        (2, phones[3], False),
    ]


def test_the_contacts_of_an_account_that_cannot_send_are_new_ones_for_the_others(store: Store) -> None:
    online(store, "a", "b")
    phones = nums(3)
    store.note_known("b", phones[:2], source="chats", now=T0)
    store.create_job("j", "t", msgs(phones), now=T0)
    # b can send: its contacts wait for it; a takes only the contact nobody knows.
    assert [c.phone for c in drain(store, "a", T0)] == [phones[2]]
    store.set_account_limit("b", BANNED, now=T0 + 1)
    got = drain(store, "a", T0 + 2)
    assert [c.phone for c in got] == phones[:2] and not any(c.known for c in got)


def test_new_contacts_per_day_with_the_warm_up(store: Store) -> None:
    cfg = settings.parse("[sending]\ndaily_cap = 200\nwarmup_days = 10\nwarmup_start = 20\nnew_contacts_per_day = 20\n")
    s = cfg.sending
    assert [s.new_contacts_on_day(d) for d in (1, 2, 5, 10, 30)] == [2, 4, 10, 20, 20]
    assert s.new_contacts_today(None, T0) == 2  # never sent: day 1
    assert s.new_contacts_today(T0 - 4 * 86400, T0) == s.new_contacts_on_day(5)
    online(store, "a")
    phones = nums(10)
    store.note_known("a", phones[8:], source="chats", now=T0)
    store.create_job("j", "t", msgs(phones), now=T0)
    budget = s.new_contacts_today(None, T0)  # 2 new contacts on day 1
    sent = []
    while (c := store.claim("wa", account="a", now=T0, new_today=budget)) is not None:
        store.mark_sent(c.id, worker_id="wa", now=T0)
        sent.append(c)
    assert [c.phone for c in sent] == [phones[8], phones[9], phones[0], phones[1]]  # known ones free
    assert [c.known for c in sent] == [True, True, False, False]
    assert store.new_contacts_today("a", now=T0) == 2 and store.new_by_account(0) == {"a": 2}
    assert store.is_known("a", phones[0])  # a chat exists now
    # The next day (day 2 of the warm-up): 4 more.
    tomorrow = T0 + 86400
    assert store.new_contacts_today("a", now=tomorrow) == 0
    first = store.account("a").first_sent_at
    got = drain(store, "a", tomorrow, new_today=s.new_contacts_today(first, tomorrow))
    assert [c.phone for c in got] == phones[2:6]


def test_a_claimed_new_contact_counts_before_it_is_sent(store: Store) -> None:
    online(store, "a")
    store.create_job("j", "t", msgs(nums(3)), now=T0)
    c = store.claim("wa", account="a", now=T0, new_today=1)
    assert c is not None and store.new_contacts_today("a", now=T0) == 1
    assert store.claim("wa", account="a", now=T0, new_today=1) is None  # in flight counts
    store.release(c.id, worker_id="wa", reason="pause", now=T0)
    assert store.new_contacts_today("a", now=T0) == 0


def test_the_unanswered_counter_near_its_cap_stops_new_contacts(store: Store) -> None:
    online(store, "a")
    phones = nums(3)
    store.note_known("a", [phones[2]], source="chats", now=T0)
    store.create_job("j", "t", msgs(phones), now=T0)
    store.note_unanswered("a", 40, 50, now=T0)
    assert store.account("a").unanswered == 40 and store.account("a").unanswered_cap == 50
    got = drain(store, "a", T0, unanswered_margin=10)
    assert [c.phone for c in got] == [phones[2]]  # 40 >= 50 - 10: known contacts only
    store.note_unanswered("a", 39, 50, now=T0 + 1)
    assert [c.phone for c in drain(store, "a", T0 + 1, unanswered_margin=10)] == phones[:2]
    with pytest.raises(ValueError):
        store.note_unanswered("a", -1, 50)
    with pytest.raises(ValueError):
        store.note_known("a", ["+1"], source="Chat List!")


def test_an_account_created_by_its_first_claim_gets_a_slot(store: Store) -> None:
    store.create_job("j", "t", msgs(nums(1)), now=T0)
    c = store.claim("w", now=T0)  # no accounts row yet: "default" is made
    assert c.account == "default" and store.account("default").slot >= 1
    store.sync_accounts({"x": True, "y": True}, now=T0)
    assert len({a.slot for a in store.accounts()}) == len(store.accounts())


def test_the_dashboards_read_only_store_upgrades_an_older_database_first(tmp_path) -> None:
    from store import ReadMostlyStore
    from store.schema import SCHEMA_VERSION

    path = version_1_database(
        tmp_path / "old.db",
        """
        INSERT INTO jobs (name, status, template, created_at, total) VALUES ('old', 'running', 't', 0, 2);
        INSERT INTO messages (job_id, phone, text) VALUES (1, '+12025550100', 'a'), (1, '+12025550101', 'b');
        """,
    )
    rm = ReadMostlyStore(path)  # the dashboard's: reads on a read-only connection
    assert rm.reader.schema_version() == SCHEMA_VERSION
    job = rm.jobs()[0]
    assert job.window is None and job.waiting == 0
    s = Store(path)
    assert [s.claim("w", now=T0).phone for _ in range(2)] == ["+12025550100", "+12025550101"]  # any time, in order
    s.close()
    rm.close()


def test_a_new_contact_written_to_is_known_in_the_other_jobs(store: Store) -> None:
    online(store, "a", "b")
    x, y = "+12025550001", "+12025550002"
    first = store.create_job("first", "t", msgs([x, y]), now=T0)
    second = store.create_job("second", "t", msgs(["+12025550003", x]), now=T0)
    c = store.claim("wa", account="a", now=T0)
    assert (c.job_id, c.phone, c.known) == (first, x, False)
    store.mark_sent(c.id, worker_id="wa", now=T0)
    assert store.is_known("a", x) and not store.is_known("b", x)
    assert store.new_contacts_today("a", now=T0) == 1 and store.account("a").first_sent_at == T0
    # x's message in the second job is a's known contact now: before the first job's y.
    c = store.claim("wa", account="a", now=T0)
    assert (c.job_id, c.phone, c.known) == (second, x, True)
    store.mark_sent(c.id, worker_id="wa", now=T0 + 1)
    assert store.new_contacts_today("a", now=T0 + 1) == 1  # a known contact is no new one
    assert store.account("a").first_sent_at == T0
    assert [(c.phone, c.known) for c in drain(store, "b", T0 + 2)] == [(y, False), ("+12025550003", False)]


def test_an_accounts_own_new_contact_budget_and_margin_override_sending() -> None:
    cfg = settings.parse(
        "[sending]\nnew_contacts_per_day = 30\nunanswered_margin = 5\nlimit_cooldown_hours = 2\n"
        '[[accounts]]\nname = "a"\n[[accounts]]\nname = "b"\nnew_contacts_per_day = 8\nunanswered_margin = 0\n'
    )
    a, b = cfg.for_account("a").sending, cfg.for_account("b").sending
    assert (a.new_contacts_per_day, a.unanswered_margin) == (30, 5)
    assert (b.new_contacts_per_day, b.unanswered_margin) == (8, 0)
    assert a.limit_until(T0) == T0 + 2 * HOUR and a.limit_until(T0, stated=T0 + 600) == T0 + 600
    assert a.limit_until(T0, stated=T0 - 1) == T0 + 2 * HOUR  # a stated time already past: the cool-down
    defaults = settings.parse("").sending
    assert (defaults.new_contacts_per_day, defaults.unanswered_margin, defaults.limit_cooldown_hours) == (20, 10, 24.0)
