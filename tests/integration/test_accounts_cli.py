"""Accounts from the command line, as a user runs it: add, enable, disable and list them
(config.toml edited in place, comments kept), jobs for some accounts only, and every
mistake one line with exit status 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import settings
from tests.support.cli import assert_user_error, tui

CONFIG = """\
# my settings
[paths]
database = "data/t.db"
run_dir = "run"
log_dir = "logs"

[browser]
# where my login is
profile_dir = "my-profile"

[sending]
daily_cap = 150
"""


@pytest.fixture
def cfg_path(tmp_path: Path) -> Path:
    p = tmp_path / "config.toml"
    p.write_text(CONFIG, encoding="utf-8")
    return p


@pytest.fixture
def contacts(tmp_path: Path) -> Path:
    p = tmp_path / "c.csv"
    p.write_text("phone\n+12025550101\n+12025550102\n", encoding="utf-8")
    return p


def test_adding_a_second_account_keeps_the_first_login_and_the_comments(cfg_path: Path) -> None:
    before = settings.load(cfg_path)
    assert [a.name for a in before.all_accounts()] == ["default"]
    out = tui("--config", str(cfg_path), "accounts", "add", "sales-2", "--daily-cap", "80", "--warmup-days", "10")
    assert out.returncode == 0, out.stderr
    assert "python tui.py login sales-2" in out.stdout
    text = cfg_path.read_text()
    assert "# my settings" in text and "# where my login is" in text
    cfg = settings.load(cfg_path)
    assert [a.name for a in cfg.all_accounts()] == ["default", "sales-2"]
    # The existing login (its profile) stays the default account's.
    assert cfg.get_account("default").profile_dir == before.browser.profile_dir == cfg_path.parent / "my-profile"
    assert cfg.get_account("sales-2").profile_dir == cfg_path.parent / "profiles" / "sales-2"
    s = cfg.for_account("sales-2").sending
    assert (s.daily_cap, s.warmup_days, cfg.for_account("default").sending.daily_cap) == (80, 10, 150)
    assert_user_error(tui("--config", str(cfg_path), "accounts", "add", "sales-2"), "exists already")
    assert_user_error(tui("--config", str(cfg_path), "accounts", "add", "Bad Name"), "account name")
    assert_user_error(
        tui("--config", str(cfg_path), "accounts", "add", "x", "--warmup-days", "3", "--daily-cap", "0"), "warmup_days"
    )
    assert cfg_path.read_text() == text  # a refused change writes nothing


def test_list_enable_disable_and_jobs_for_some_accounts(cfg_path: Path, contacts: Path) -> None:
    assert tui("--config", str(cfg_path), "accounts", "add", "b").returncode == 0
    assert_user_error(
        tui("--config", str(cfg_path), "import", str(contacts), "--template", "Hi", "--account", "nope"),
        "no account 'nope'",
    )
    made = tui("--config", str(cfg_path), "import", str(contacts), "--template", "Hi", "--account", "b", "--json")
    assert made.returncode == 0, made.stderr
    assert json.loads(made.stdout)["accounts"] == ["b"]
    assert tui("--config", str(cfg_path), "import", str(contacts), "--template", "Yo").returncode == 0
    jobs = tui("--config", str(cfg_path), "jobs").stdout.splitlines()
    assert jobs[0].endswith("ACCOUNTS") and jobs[1].endswith("any") and jobs[2].endswith("b")
    status = tui("--config", str(cfg_path), "status", "1").stdout
    assert "sent by   b" in status
    listed = json.loads(tui("--config", str(cfg_path), "accounts", "--json").stdout)
    assert [(a["name"], a["enabled"], a["login"], a["sent_today"], a["cap_today"]) for a in listed] == [
        ("default", True, "unknown", 0, 150),
        ("b", True, "unknown", 0, 150),
    ]
    off = tui("--config", str(cfg_path), "accounts", "disable", "b")
    assert off.returncode == 0 and "disabled" in off.stdout, off.stderr
    assert settings.load(cfg_path).get_account("b").enabled is False
    table = tui("--config", str(cfg_path), "accounts").stdout
    assert "b " in table and " no " in table and "python tui.py login NAME" in table
    assert tui("--config", str(cfg_path), "accounts", "enable", "b").returncode == 0
    assert settings.load(cfg_path).get_account("b").enabled is True
    assert_user_error(tui("--config", str(cfg_path), "accounts", "disable", "zz"), "no account 'zz'")
    assert_user_error(tui("--config", str(cfg_path), "login", "zz"), "no account 'zz'")
