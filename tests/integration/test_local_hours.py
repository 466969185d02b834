"""Each contact's local hours: windows and zones (common.localhours), the zones an import
gives each number, and the claim that takes a contact only while their job's window is
open in their own time (one statement over the lanes index, both backends), with the
counts of contacts waiting for their morning."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from common import localhours as L
from contacts import plan_import
from jobs import importing
from store import Store

TOKYO, LA, IDAHO, FREEPHONE = "+81312345678", "+14155552671", "+12085550123", "+80012345678"
RUSSIA = "+79161234567"  # a mobile: 16 zones, Bucharest (UTC+2) to Anadyr (UTC+12)
W = L.parse_window("09:00-20:00")


def utc(*args: int) -> float:
    return dt.datetime(*args, tzinfo=dt.UTC).timestamp()


# 2026-01-15 03:00 UTC: Tokyo 12:00 (open), Los Angeles 19:00 the day before (open);
# 06:00 UTC: Tokyo 15:00 (open), Los Angeles 22:00 (closed); 12 hours later the other way.
MORNING_TOKYO = utc(2026, 1, 15, 6, 0)
EVENING_TOKYO = MORNING_TOKYO + 12 * 3600  # Tokyo 03:00 (closed), Los Angeles 10:00 (open)


@pytest.fixture
def store(db_target) -> Store:
    s = Store(db_target)
    yield s
    s.close()


def job(store: Store, phones: dict[str, tuple[str, ...]], *, window=W, tz="Europe/Lisbon", now=MORNING_TOKYO) -> int:
    return store.create_job(
        "j",
        "t",
        [{"phone": p, "text": f"hi {p}", "zones": zs} for p, zs in phones.items()],
        window=window,
        timezone=tz,
        now=now,
    )


def claims(store: Store, now: float, account: str = "default") -> list[str]:
    out = []
    while (c := store.claim("w", account=account, now=now)) is not None:
        out.append(c.phone)
    return out


# ---------------------------------------------------------------------- windows and zones
def test_windows_are_within_a_day_and_bad_ones_are_one_line() -> None:
    assert (W.start, W.end, str(W)) == (540, 1200, "09:00-20:00")
    assert L.parse_window("00:00-24:00").all_day and str(L.parse_window(" 9:30 - 17:45 ")) == "09:30-17:45"
    for bad, why in (
        ("20:00-09:00", "ends before it starts"),
        ("09:00-09:00", "ends before it starts"),
        ("9-5", "HH:MM-HH:MM"),
        ("25:00-26:00", "does not exist"),
        ("09:60-10:00", "does not exist"),
        ("", "HH:MM-HH:MM"),
    ):
        with pytest.raises(L.LocalHoursError, match=why) as exc:
            L.parse_window(bad)
        assert "\n" not in str(exc.value)
    assert L.check_zone("America/Sao_Paulo") == "America/Sao_Paulo"
    for bad in ("Mars/Olympus", "../etc/passwd", "Etc/Unknown", "america/sao_paulo", ""):
        with pytest.raises(L.LocalHoursError, match="IANA"):
            L.check_zone(bad)
    assert L.zone(L.local_zone_name()) is not None


def test_several_zones_need_the_window_open_in_all_and_some_never_share_it() -> None:
    idaho = ("America/Boise", "America/Los_Angeles")
    t = utc(2026, 1, 15, 16, 30)  # Boise 09:30, Los Angeles 08:30
    assert L.is_open(("America/Boise",), W, t) and not L.is_open(idaho, W, t)
    assert L.next_open(idaho, W, t) == utc(2026, 1, 15, 17, 0)  # Los Angeles 09:00
    russia = L.usable_zones(("Europe/Bucharest", "Asia/Anadyr", "Europe/Moscow"))
    assert L.next_open(russia, L.parse_window("09:00-18:00"), t) is None  # 10 hours apart, 9 open
    assert L.next_open(russia, W, t) is not None  # 11 open: one hour a day in all of them
    east = L.order_east_first([("America/Los_Angeles",), ("Asia/Tokyo",), ("Europe/Lisbon",)], t)
    assert east == [("Asia/Tokyo",), ("Europe/Lisbon",), ("America/Los_Angeles",)]


def test_the_window_follows_daylight_saving_time() -> None:
    # Los Angeles is UTC-8 in January and UTC-7 in July: 09:00 there is 17:00 or 16:00 UTC.
    la = ("America/Los_Angeles",)
    assert L.is_open(la, W, utc(2026, 1, 15, 17, 0)) and not L.is_open(la, W, utc(2026, 1, 15, 16, 59))
    assert L.is_open(la, W, utc(2026, 7, 15, 16, 0)) and not L.is_open(la, W, utc(2026, 7, 15, 15, 59))
    # The night DST starts (2026-03-08, 02:00 -> 03:00): the next 09:00 is 16:00 UTC.
    assert L.next_open(la, W, utc(2026, 3, 8, 5, 0)) == utc(2026, 3, 8, 16, 0)


def test_the_import_gives_each_number_its_zones(tmp_path: Path) -> None:
    csv = tmp_path / "c.csv"
    csv.write_text(f"name,phone\nA,{TOKYO}\nB,{LA}\nC,{IDAHO}\nD,{FREEPHONE}\nE,{RUSSIA}\n", encoding="utf-8")
    plan = plan_import(csv, "hi {name}", region="US")
    zones = {m["phone"]: m["zones"] for m in plan.messages}
    assert zones[TOKYO] == ("Asia/Tokyo",) and zones[LA] == ("America/Los_Angeles",)
    assert zones[IDAHO] == ("America/Boise", "America/Los_Angeles")
    assert zones[FREEPHONE] == ("Etc/Unknown",) and len(zones[RUSSIA]) == 16
    hours = importing.local_hours(plan, L.parse_window("09:00-18:00"), "America/Sao_Paulo", now=MORNING_TOKYO)
    assert (hours.no_zone, hours.apart) == (1, 1)  # the freephone number; the Russian mobile
    assert hours.zone_sets[0] == ("Asia/Tokyo",) and ("America/Sao_Paulo",) in hours.zone_sets
    assert any("no zone of their own" in line for line in hours.lines())
    assert any("never all within 09:00-18:00" in line for line in hours.lines())
    assert importing.local_hours(plan, None, "UTC").lines() == []  # no window: zones decide nothing
    for bad, what in (("20:00-09:00", "--window"), ("9am-5pm", "--window")):
        with pytest.raises(importing.ImportOptionError, match=what):
            importing.parse_window(bad)
    with pytest.raises(importing.ImportOptionError, match="IANA"):
        importing.check_timezone("Sao Paulo")


# ---------------------------------------------------------------------- the claim
def test_tokyo_is_taken_and_los_angeles_held_then_the_other_way_round(store: Store) -> None:
    j = job(store, {LA: ("America/Los_Angeles",), TOKYO: ("Asia/Tokyo",)})
    assert claims(store, MORNING_TOKYO) == [TOKYO]
    job_now = store.get_job(j, now=MORNING_TOKYO)
    assert job_now.window == "09:00-20:00" and job_now.timezone == "Europe/Lisbon"
    assert job_now.waiting == 1 and job_now.opens_at == utc(2026, 1, 15, 17, 0)  # 09:00 in Los Angeles
    assert job_now.counts["pending"] == 1 and job_now.counts["sending"] == 1
    assert store.get_job(j, now=EVENING_TOKYO).waiting == 0
    assert claims(store, EVENING_TOKYO) == [LA]

    k = job(store, {LA: ("America/Los_Angeles",), TOKYO: ("Asia/Tokyo",)}, now=EVENING_TOKYO)
    assert claims(store, EVENING_TOKYO) == [LA]
    assert store.get_job(k, now=EVENING_TOKYO).waiting == 1
    assert store.get_job(k, now=EVENING_TOKYO).opens_at == utc(2026, 1, 16, 0, 0)  # 09:00 in Tokyo
    assert claims(store, MORNING_TOKYO + 24 * 3600) == [TOKYO]


def test_a_number_with_several_zones_waits_until_all_are_open(store: Store) -> None:
    boise_only = "+12085550124"
    job(store, {IDAHO: ("America/Boise", "America/Los_Angeles"), boise_only: ("America/Boise",)})
    t = utc(2026, 1, 15, 16, 30)  # Boise 09:30, Los Angeles 08:30
    assert claims(store, t) == [boise_only]
    assert claims(store, utc(2026, 1, 15, 17, 0)) == [IDAHO]


def test_a_number_without_a_zone_uses_the_jobs(store: Store) -> None:
    j = job(store, {FREEPHONE: ("Etc/Unknown",), TOKYO: ()}, tz="America/Sao_Paulo")
    zones = store.job_zones(j)
    assert {store.message(i).tz for i in (1, 2)} == {next(t for t, z in zones.items() if z == ("America/Sao_Paulo",))}
    # Sao Paulo is UTC-3: 06:00 UTC is 03:00 there (closed), 12:00 UTC is 09:00 (open).
    assert claims(store, utc(2026, 1, 15, 6, 0)) == []
    assert store.get_job(j, now=utc(2026, 1, 15, 6, 0)).waiting == 2
    assert claims(store, utc(2026, 1, 15, 12, 0)) == [FREEPHONE, TOKYO]


def test_a_job_without_a_window_sends_any_time_in_import_order(store: Store) -> None:
    phones = {LA: ("America/Los_Angeles",), TOKYO: ("Asia/Tokyo",), IDAHO: ("America/Boise",)}
    j = job(store, phones, window=None)
    assert store.get_job(j, now=MORNING_TOKYO).window is None
    assert claims(store, utc(2026, 1, 15, 3, 0) + 20 * 3600) == list(phones)
    assert store.get_job(j).waiting == 0


def test_waiting_counts_follow_claims_retries_and_the_clock(store: Store) -> None:
    phones = {f"+1415555{i:04d}": ("America/Los_Angeles",) for i in range(5)}
    phones.update({f"+8131234{i:04d}": ("Asia/Tokyo",) for i in range(3)})
    j = job(store, phones)
    assert store.get_job(j, now=MORNING_TOKYO).waiting == 5  # Los Angeles' night
    first = store.claim("w", now=MORNING_TOKYO)
    store.mark_failed_attempt(
        first.id, "chat did not open", max_attempts=3, backoff=1, worker_id="w", now=MORNING_TOKYO
    )
    assert store.get_job(j, now=MORNING_TOKYO).counts["retrying"] == 1
    assert store.get_job(j, now=MORNING_TOKYO).waiting == 5  # a Tokyo retry is not waiting
    assert store.get_job(j, now=EVENING_TOKYO).waiting == 3  # now Tokyo sleeps
    assert sum(store.get_job(j).counts.values()) == 8
    jobs = {x.id: x for x in store.jobs(now=EVENING_TOKYO)}
    assert jobs[j].waiting == 3 and jobs[j].opens_at == utc(2026, 1, 16, 0, 0)


def test_known_contacts_first_within_the_open_zones(store: Store) -> None:
    store.sync_accounts({"a": True}, now=MORNING_TOKYO)
    store.account_seen("a", "logged_in", now=MORNING_TOKYO)
    tokyo2 = "+81312345679"
    store.note_known("a", [tokyo2, LA], source="chats", now=MORNING_TOKYO)
    job(store, {TOKYO: ("Asia/Tokyo",), LA: ("America/Los_Angeles",), tokyo2: ("Asia/Tokyo",)})
    got = [(c.phone, c.known) for c in iter(lambda: store.claim("w", account="a", now=MORNING_TOKYO), None)]
    assert got == [(tokyo2, True), (TOKYO, False)]  # Los Angeles is known but asleep


def test_the_claim_is_one_index_range_scan(store: Store) -> None:
    phones = {f"+1415555{i:04d}": ("America/Los_Angeles",) for i in range(3000)}
    phones.update({f"+8131234{i:04d}": ("Asia/Tokyo",) for i in range(3000)})
    job(store, phones)
    sql = store.dialect.claim_sql
    lanes = store.dialect.array([2**32 + 1, 2**32 + 2, 2**32 + 3])
    params = {"worker": "w", "account": "default", "now": MORNING_TOKYO, "known": lanes, "new": lanes}
    if store.dialect.name == "sqlite":
        plan = " ".join(r["detail"] for r in store._q("EXPLAIN QUERY PLAN " + sql, **params))
        assert plan.count("USING INDEX ix_messages_queue_lanes (lane=?)") == 2, plan
        assert "TEMP B-TREE" not in plan and "SCAN m" not in plan, plan
    else:
        store._q("ANALYZE")
        plan = "\n".join(next(iter(r.values())) for r in store._q("EXPLAIN " + sql, **params))  # not run
        assert plan.count("Index Scan using ix_messages_queue_lanes") == 2, plan
        assert "Sort" not in plan and "Seq Scan on messages" not in plan, plan
