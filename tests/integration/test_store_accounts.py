"""The store's accounts: which account may claim what, what each sent today, whose
uncertain messages are whose, and jobs that wait exactly while no account can send them."""

from __future__ import annotations

import pytest

from store import Store


def msgs(n: int, prefix: str = "+1202555") -> list[dict]:
    return [{"phone": f"{prefix}{i:04d}", "text": f"hello {i}"} for i in range(n)]


@pytest.fixture
def store(db_target) -> Store:
    s = Store(db_target)
    yield s
    s.close()


def test_a_claim_records_the_account_and_respects_the_jobs_accounts(store: Store) -> None:
    only_b = store.create_job("for b", "t", msgs(2, "+1202556"), accounts=["b"])
    anyone = store.create_job("any", "t", msgs(2))
    assert store.get_job(only_b)["accounts"] == ["b"] and store.get_job(anyone)["accounts"] == []
    a1 = store.claim("wa", account="a")
    assert a1["job_id"] == anyone and a1["account"] == "a"  # b's job is skipped, not blocking
    b1 = store.claim("wb", account="b")
    assert b1["job_id"] == only_b and b1["account"] == "b"
    assert store.message(b1["id"])["account"] == "b" and store.message(b1["id"])["claimed_by"] == "wb"
    a2 = store.claim("wa", account="a")
    assert a2["job_id"] == anyone
    assert store.claim("wa", account="a") is None  # only b's job is left
    assert store.claim("wb", account="b")["job_id"] == only_b
    assert {j["id"]: j["accounts"] for j in store.jobs()} == {only_b: ["b"], anyone: []}


def test_uncertain_messages_belong_to_the_account_that_claimed_them(store: Store) -> None:
    store.create_job("j", "t", msgs(3))
    a = store.claim("wa", account="a")
    b = store.claim("wb", account="b")
    store.mark_clicking(a["id"], worker_id="wa")
    store.mark_unknown(a["id"], "no tick", worker_id="wa")
    assert [r["id"] for r in store.in_flight(account="a")] == [a["id"]]
    assert [r["id"] for r in store.in_flight(account="b")] == [b["id"]]
    # A dead worker of account a: its successor (another worker id) still finds it.
    assert [r["id"] for r in store.in_flight(account="a", exclude_workers=["wa2"])] == [a["id"]]
    assert store.in_flight(account="c") == []


def test_sent_today_is_counted_per_account_and_the_first_send_is_remembered(store: Store) -> None:
    store.create_job("j", "t", msgs(5))
    store.sync_accounts({"a": True, "b": True}, now=50.0)
    store.account_seen("a", "logged_in", now=50.0)
    for i, acc in enumerate(["a", "a", "b"]):
        m = store.claim(f"w{acc}", account=acc, now=100.0 + i)
        store.mark_sent(m["id"], now=100.0 + i)
    assert store.sent_since(0, account="a") == 2 and store.sent_since(0, account="b") == 1
    assert store.sent_since(101.5, account="a") == 0 and store.sent_since(0) == 3
    assert store.sent_by_account(0) == {"a": 2, "b": 1}
    assert store.account("a")["first_sent_at"] == 100.0 and store.account("b")["first_sent_at"] == 102.0


def test_jobs_wait_while_no_account_that_may_send_them_is_logged_in(store: Store) -> None:
    anyone = store.create_job("any", "t", msgs(2))
    only_b = store.create_job("b", "t", msgs(2, "+1202556"), accounts=["b"])
    store.sync_accounts({"a": True, "b": True})
    assert store.get_job(anyone)["status"] == "waiting_for_login"  # nobody logged in yet
    store.account_seen("a", "logged_in")
    assert store.get_job(anyone)["status"] == "running"
    assert store.get_job(only_b)["status"] == "waiting_for_login"  # a may not send it
    assert store.account_seen("a", "logged_in") is False  # no change, nothing moves
    store.account_seen("b", "logged_in")
    assert store.get_job(only_b)["status"] == "running"
    store.account_seen("b", "logged_out")
    assert store.get_job(only_b)["status"] == "waiting_for_login"
    assert store.get_job(anyone)["status"] == "running"  # a still sends it
    store.set_account_enabled("a", False)  # disabled: as good as logged out
    assert store.get_job(anyone)["status"] == "waiting_for_login"
    store.set_account_enabled("a", True)
    assert store.get_job(anyone)["status"] == "running"
    paused = store.create_job("paused", "t", msgs(1, "+1202557"), status="paused")
    store.account_seen("a", "logged_out")
    assert store.get_job(paused)["status"] == "paused"  # a person's pause is kept
    with pytest.raises(ValueError):
        store.account_seen("a", "maybe")
