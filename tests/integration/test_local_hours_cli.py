"""Local hours and account health where people look: `import --window/--timezone`,
`status` (and --json), `jobs --json`, the export's zone column, `accounts` and `accounts
lift`, the API's /send and /status; bad input is one line (exit 2, or a 4xx) and writes
nothing. The CLI runs as a user runs it, in a subprocess; the API in process."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
import time
import warnings
import zoneinfo
from datetime import datetime
from pathlib import Path

import pytest

import settings
from common import localhours
from store import Store
from tests.support.paths import ROOT

TOKYO, LA, FREEPHONE = "+81312345678", "+14155552671", "+80012345678"


def tui(cfg: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(ROOT / "tui.py"), "--config", str(cfg), *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def one_line_error(proc: subprocess.CompletedProcess, needle: str) -> None:
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert needle in lines[0], lines[0]


def write_config(tmp: Path, extra: str = "") -> Path:
    path = tmp / "config.toml"
    path.write_text(
        f'[paths]\ndatabase = "{tmp / "db" / "t.db"}"\nrun_dir = "{tmp / "run"}"\nlog_dir = "{tmp / "logs"}"\n'
        f'[api]\ntoken_file = "{tmp / "token"}"\nupload_dir = "{tmp / "uploads"}"\n' + extra,
        encoding="utf-8",
    )
    return path


@pytest.fixture
def cfg(tmp_path: Path) -> Path:
    return write_config(tmp_path)


@pytest.fixture
def contacts(tmp_path: Path) -> Path:
    p = tmp_path / "contacts.csv"
    p.write_text(f"Name,Phone\nAki,{TOKYO}\nLou,{LA}\nFree,{FREEPHONE}\n", encoding="utf-8")
    return p


def closed_in_tokyo_now() -> str:
    """A one-hour window that is not the hour Tokyo is in now (its contacts wait)."""
    hour = datetime.now(zoneinfo.ZoneInfo("Asia/Tokyo")).hour
    start = (hour + 12) % 23
    return f"{start:02d}:00-{start + 1:02d}:00"


def test_import_with_a_window_then_status_jobs_and_export_show_the_waiting(
    cfg: Path, contacts: Path, tmp_path: Path
) -> None:
    window = closed_in_tokyo_now()
    made = tui(cfg, "import", str(contacts), "--template", "Hi {Name}", "--window", window, "--timezone", "Asia/Tokyo")
    assert made.returncode == 0, made.stderr
    assert f"window      {window} in each contact's local time" in made.stdout
    assert "no zone     1 number(s) have no zone of their own: Asia/Tokyo's hours" in made.stdout
    w = localhours.parse_window(window)
    now = time.time()
    expected = sum(not localhours.is_open((z,), w, now) for z in ("Asia/Tokyo", "America/Los_Angeles", "Asia/Tokyo"))
    assert expected >= 2  # Tokyo and the freephone number (the job's zone: Tokyo)

    status = tui(cfg, "status", "1")
    assert status.returncode == 0, status.stderr
    assert f"window    {window} in each contact's local time (numbers without a zone: Asia/Tokyo)" in status.stdout
    assert f"waiting   {expected} contact(s) outside their window now" in status.stdout
    doc = json.loads(tui(cfg, "status", "1", "--json").stdout)
    assert doc["window"] == window and doc["timezone"] == "Asia/Tokyo" and doc["waiting"] == expected
    assert doc["opens_at"] is not None and doc["opens_at"] > now - 60
    listed = json.loads(tui(cfg, "jobs", "--json").stdout)
    assert listed[0]["waiting"] == expected and listed[0]["window"] == window

    out = tmp_path / "out.csv"
    assert tui(cfg, "export", "1", "-o", str(out)).returncode == 0
    with out.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0][-1] == "zone"
    zones = {r[1]: r[-1] for r in rows[1:]}
    assert zones == {"Aki": "Asia/Tokyo", "Lou": "America/Los_Angeles", "Free": "Asia/Tokyo"}

    # A job without a window: the export is as it always was (no zone column).
    assert tui(cfg, "import", str(contacts), "--template", "Hi", "--name", "any time").returncode == 0
    out2 = tmp_path / "out2.csv"
    assert tui(cfg, "export", "2", "-o", str(out2)).returncode == 0
    assert out2.read_text(encoding="utf-8-sig").splitlines()[0].endswith("opted_out_by_reply")
    plain = tui(cfg, "status", "2").stdout
    assert "window" not in plain and "waiting" not in plain


@pytest.mark.parametrize(
    "option, value, needle",
    [
        ("--window", "20:00-09:00", "--window: '20:00-09:00' ends before it starts"),
        ("--window", "9-5", "is not a window written HH:MM-HH:MM"),
        ("--window", "09:00-24:30", "does not exist"),
        ("--timezone", "Mars/Olympus", "--timezone: 'Mars/Olympus' is not an IANA time zone name"),
    ],
)
def test_a_bad_window_or_zone_is_one_line_and_writes_nothing(
    cfg: Path, contacts: Path, tmp_path: Path, option: str, value: str, needle: str
) -> None:
    one_line_error(tui(cfg, "import", str(contacts), "--template", "Hi", option, value), needle)
    assert not (tmp_path / "db" / "t.db").exists()


@pytest.mark.parametrize(
    "text, needle",
    [
        ("[sending]\nnew_contacts_per_day = 0\n", "sending.new_contacts_per_day: must be at least 1, got 0"),
        ("[sending]\nnew_contacts_per_day = -5\n", "sending.new_contacts_per_day: must be at least 1"),
        ("[sending]\nunanswered_margin = -1\n", "sending.unanswered_margin: must not be negative"),
        ("[sending]\nunanswered_margin = 1000000\n", "sending.unanswered_margin: must be at most"),
        ("[sending]\nlimit_cooldown_hours = 0\n", "sending.limit_cooldown_hours: must be greater than 0"),
        ('[[accounts]]\nname = "a"\nnew_contacts_per_day = 0\n', "accounts.new_contacts_per_day: must be at least 1"),
    ],
)
def test_bad_health_settings_are_one_line(tmp_path: Path, text: str, needle: str) -> None:
    one_line_error(tui(write_config(tmp_path, text), "jobs"), needle)


def test_accounts_show_a_limit_and_a_person_lifts_it(cfg: Path, contacts: Path, tmp_path: Path) -> None:
    assert tui(cfg, "import", str(contacts), "--template", "Hi").returncode == 0
    store = Store(tmp_path / "db" / "t.db")
    store.account_seen("default", "logged_in")
    store.set_account_limit("default", "restricted", until=time.time() + 3600, reason="You can't send messages")
    table = tui(cfg, "accounts").stdout
    assert "restricted" in table and "it sends nothing until" in table and "You can't send messages" in table
    row = json.loads(tui(cfg, "accounts", "--json").stdout)[0]
    assert row["health"] == "restricted" and row["limit_reason"] == "You can't send messages"
    assert row["new_cap"] == 20 and row["new_today"] == 0
    assert store.get_job(1).status == "waiting_for_login"  # its only account is restricted
    assert "no account that may send it can send now: default restricted until" in tui(cfg, "status", "1").stdout
    lifted = tui(cfg, "accounts", "lift", "default")
    assert lifted.returncode == 0 and "restricted lifted" in lifted.stdout
    assert store.account_limit("default") is None and store.get_job(1).status == "running"
    store.set_account_limit("default", "banned", reason="This account is not allowed to use WhatsApp")
    assert "banned: it sends nothing, for good" in tui(cfg, "accounts").stdout
    assert "banned lifted" in tui(cfg, "accounts", "lift", "default").stdout  # a person may
    assert "has no limit" in tui(cfg, "accounts", "lift", "default").stdout
    one_line_error(tui(cfg, "accounts", "lift", "nobody"), "no account 'nobody'")
    store.close()


def test_the_api_takes_a_window_and_status_counts_the_waiting(cfg: Path, tmp_path: Path) -> None:
    with warnings.catch_warnings():  # starlette's note about httpx: not ours to act on
        warnings.simplefilter("ignore", DeprecationWarning)
        from fastapi.testclient import TestClient

    from api.app import create_app

    conf = settings.load(cfg)
    store = Store(conf.paths.database)
    client = TestClient(create_app(conf, token="secret", store=store))
    auth = {"Authorization": "Bearer secret"}
    body = {
        "contacts": [{"phone": TOKYO, "name": "Aki"}, {"phone": LA, "name": "Lou"}],
        "template": "Hi {name}",
        "window": closed_in_tokyo_now(),
        "timezone": "America/Sao_Paulo",
    }
    made = client.post("/send", json=body, headers=auth)
    assert made.status_code == 201, made.text
    doc = made.json()
    assert doc["local_hours"]["window"] == body["window"] and doc["local_hours"]["timezone"] == "America/Sao_Paulo"
    status = client.get(f"/status/{doc['job_id']}", headers=auth).json()
    assert status["window"] == body["window"] and status["waiting"] >= 1 and status["opens_at"]
    for field, value, needle in (
        ("window", "20:00-09:00", "window: '20:00-09:00' ends before it starts"),
        ("window", "all day", "is not a window written HH:MM-HH:MM"),
        ("timezone", "Nowhere/City", "timezone: 'Nowhere/City' is not an IANA time zone name"),
    ):
        bad = client.post("/send", json={**body, field: value}, headers=auth)
        assert bad.status_code == 422 and needle in bad.json()["error"], bad.text
    assert len(store.jobs()) == 1  # nothing created by the bad ones
    store.close()
