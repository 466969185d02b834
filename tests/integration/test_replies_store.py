"""Replies in the store (both backends): each incoming message once, tied to our
message; an opt-out reply skips that number's pending messages in every job; per-job
reply figures; the command line shows them. (The opt-out word list: tests/unit/test_optout_words.py.)"""

from __future__ import annotations

import pytest

from store import Store
from tests.support.cli import tui
from worker.optout_words import OPTOUT, UNCLEAR

T0 = 1_790_000_000.0


@pytest.fixture
def store(db_target) -> Store:
    s = Store(db_target)
    yield s
    s.close()


def sent_job(store: Store, name: str, phones: list[str], account: str = "default", now: float = T0) -> int:
    job = store.create_job(name, "t", [{"phone": p, "text": f"hi {p}"} for p in phones], now=now)
    while (m := store.claim("w", account=account, now=now)) is not None:
        store.mark_sent(m.id, worker_id="w", now=now + 1)
    return job


def test_replies_are_stored_once_and_an_optout_skips_every_pending_message(store: Store) -> None:
    a, b = "+12025550001", "+12025550002"
    first = sent_job(store, "first", [a, b])
    second = store.create_job("second", "t", [{"phone": p, "text": "again"} for p in (a, b)], now=T0 + 10)
    targets = store.reply_targets([a, b, "+19999999999"], account="default", finished_since=0)
    assert set(targets) == {a, b} and [t["job_id"] for t in targets[a]] == [first]
    targets = {p: t[-1] for p, t in targets.items()}
    items = [
        {"wa_id": "3A1", "text": "Thanks!", "at": T0 + 60, "flag": None},
        {"wa_id": "3A2", "text": "Stop!", "at": T0 + 120, "flag": OPTOUT},
    ]
    new = store.add_replies("default", a, targets[a], items, now=T0 + 130)
    assert [r.wa_id for r in new] == ["3A1", "3A2"] and new[1].job_id == first and new[1].message_id == targets[a]["id"]
    assert store.add_replies("default", a, targets[a], items, now=T0 + 200) == []  # read twice: stored once
    assert len(store.replies(first)) == 2
    # The opt-out: on the list, its pending message in the second job skipped; b's not.
    assert a in store.optout_set()
    assert {m.phone: m.status for m in store.iter_messages(second)} == {a: "skipped", b: "pending"}
    store.add_replies(
        "default",
        b,
        targets[b],
        [{"wa_id": "3A9", "text": "stop sending me offers pls", "flag": UNCLEAR}],
        now=T0 + 300,
    )
    assert b not in store.optout_set()
    job = store.get_job(first)
    assert (job.replied, job.optouts, job.unclear, job.reply_rate) == (2, 1, 1, 1.0)
    assert {j.id: j.replied for j in store.jobs()} == {first: 2, second: 0}
    kinds = [e.kind for e in store.events(limit=20)]
    assert "optout_reply" in kinds and "reply_unclear" in kinds


def test_only_live_or_recent_jobs_and_only_this_accounts_messages_are_targets(store: Store) -> None:
    a = "+12025550003"
    old = sent_job(store, "old", [a], now=T0)
    store.finish_jobs(now=T0 + 5)
    assert store.get_job(old).status == "completed"
    assert store.reply_targets([a], account="default", finished_since=T0 + 100) == {}
    assert set(store.reply_targets([a], account="default", finished_since=T0)) == {a}
    assert store.reply_targets([a], account="other", finished_since=0) == {}


def test_cli_replies_status_jobs_and_export_show_them(tmp_path) -> None:
    import csv
    import json

    db = tmp_path / "db.sqlite"
    store = Store(db)
    a, b, c = "+12025550011", "+12025550012", "+12025550013"
    job = sent_job(store, "promo", [a, b, c])
    targets = {p: t[-1] for p, t in store.reply_targets([a, b], account="default", finished_since=0).items()}
    store.add_replies("default", a, targets[a], [{"wa_id": "1", "text": "PARAR 🙏", "at": T0 + 60, "flag": OPTOUT}])
    store.add_replies(
        "default",
        b,
        targets[b],
        [
            {"wa_id": "2", "text": "stop sending me offers pls", "at": T0 + 70, "flag": UNCLEAR},
            {"wa_id": "3", "text": "=cmd|' /C calc'!A0", "at": T0 + 80},
        ],
    )
    store.close()
    out = tui("--db", str(db), "replies", str(job)).stdout
    assert "2 number(s) replied (reply rate 67%), 1 opted out by reply, 1 unclear" in out
    assert "OPT-OUT  PARAR 🙏" in out and "LOOK     stop sending me offers pls" in out
    flagged = json.loads(tui("--db", str(db), "replies", str(job), "--flagged", "--json").stdout)
    assert [(r["phone"], r["flag"]) for r in flagged] == [(a, "optout"), (b, "unclear")]
    status = tui("--db", str(db), "status", str(job)).stdout
    assert "replies   2 number(s), reply rate 67%, opted out by reply 1, 1 to look at" in status
    jobs = json.loads(tui("--db", str(db), "jobs", "--json").stdout)
    assert (jobs[0]["replied"], jobs[0]["optouts"], jobs[0]["unclear"]) == (2, 1, 1)
    assert json.loads(tui("--db", str(db), "status", str(job), "--json").stdout)["reply_rate"] == pytest.approx(2 / 3)
    assert tui("--db", str(db), "export", str(job), "-o", str(tmp_path / "out.csv")).returncode == 0
    with open(tmp_path / "out.csv", encoding="utf-8-sig", newline="") as fh:
        rows = {r["phone"].lstrip("'"): r for r in csv.DictReader(fh)}  # "+..." is written as text
    assert rows[a]["replies"] == "1" and rows[a]["opted_out_by_reply"] == "yes" and rows[a]["last_reply"] == "PARAR 🙏"
    assert rows[b]["replies"] == "2" and rows[b]["last_reply"].startswith("'=cmd")  # no formula in a spreadsheet
    assert rows[c]["replies"] == "0" and rows[c]["last_reply_at"] == ""
