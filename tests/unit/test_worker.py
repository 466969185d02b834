"""The worker's pure parts: the sending window and midnight, pacing delays, how texts are
compared, which browsers the 2026 page refuses, the profile folder. (The worker against
the simulator: tests/e2e/test_worker.py; its command line: tests/integration/test_worker.py.)"""

from __future__ import annotations

import os
import stat
import time
from pathlib import Path

from simulator.server import browser_refused
from worker import pacing
from worker.browser import prepare_profile
from worker.textmatch import comparable, same


def test_window_and_midnight() -> None:
    lt = time.localtime(time.mktime((2025, 3, 7, 8, 59, 0, 0, 0, -1)))
    assert not pacing.in_window("09:00", "17:00", lt)
    assert pacing.in_window("00:00", "00:00", lt)
    assert pacing.in_window("22:00", "09:00", lt)
    lt9 = time.localtime(time.mktime((2025, 3, 7, 9, 0, 0, 0, 0, -1)))
    assert pacing.in_window("09:00", "17:00", lt9)
    assert not pacing.in_window("22:00", "09:00", lt9)
    assert pacing.local_midnight(lt9) == time.mktime((2025, 3, 7, 0, 0, 0, 0, 0, -1))
    assert pacing.next_midnight(lt9) == time.mktime((2025, 3, 8, 0, 0, 0, 0, 0, -1))
    assert pacing.next_window_start("09:00", lt) == time.mktime((2025, 3, 7, 9, 0, 0, 0, 0, -1))


def test_delay_and_long_pause() -> None:
    kw = {"delay_min": 4.0, "delay_max": 8.0, "long_pause_every": 3, "long_pause_min": 20.0, "long_pause_max": 40.0}
    for n in (1, 2, 4, 5):
        assert 4.0 <= pacing.delay_after(n, **kw) <= 8.0
    for n in (3, 6):
        assert 24.0 <= pacing.delay_after(n, **kw) <= 48.0
    assert pacing.delay_after(3, **{**kw, "long_pause_every": 0}) <= 8.0


def test_text_comparison_as_a_person_copies_it() -> None:
    assert comparable("a\r\nb  \n") == "a\nb"
    assert comparable("x\u00a0y") == "x y"
    # WhatsApp consumes its formatting markers: both sides lose them.
    assert comparable("Hi *Ana*, _50%_ off ~now~ ```code```") == comparable("Hi Ana, 50% off now code")
    # An emoji read back from an <img alt> may lack the variation selector.
    assert comparable("ok \u2714\ufe0f") == comparable("ok \u2714")
    assert comparable("Olá") == comparable("Ola\u0301")  # NFC
    assert comparable("*Ana*", markers=True) != comparable("Ana", markers=True)
    assert comparable("line one\nline two") != comparable("line one line two")


def test_browser_refusal_rules() -> None:
    ua = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) {}/{}.0.0.0 Safari/537.36"
    assert browser_refused(ua.format("HeadlessChrome", 156), 120) == "HeadlessChrome"
    assert browser_refused(ua.format("Chrome", 100), 120) == "Chrome 100 is older than 120"
    assert browser_refused(ua.format("Chrome", 156), 120) is None


def test_profile_is_0700_and_stale_lock_removed(tmp_path: Path) -> None:
    prof = tmp_path / "profile"
    prepare_profile(prof)
    assert stat.S_IMODE(prof.stat().st_mode) == 0o700
    prof.chmod(0o755)
    os.symlink("somehost-999999999", prof / "SingletonLock")  # a pid that cannot exist
    prepare_profile(prof)
    assert stat.S_IMODE(prof.stat().st_mode) == 0o700
    assert not (prof / "SingletonLock").is_symlink()


def test_an_emoticon_may_come_back_as_one_emoji_and_nothing_else() -> None:
    # WhatsApp Web turns "<3" and ":-)" into emoji as they are typed: box and bubble hold those.
    assert same("Thanks \u2764\ufe0f see you \U0001f642", "Thanks <3 see you :-)")
    assert same("Thanks <3 see you :-)", "Thanks <3 see you :-)")  # or leaves them alone
    assert same("ok \U0001f44d\U0001f3fd", "ok (y)")  # one emoji, with its skin tone
    assert same("*Ana* \U0001f618", "*Ana* :-*", markers=True) and same("Ana \U0001f618", "*Ana* :-*")
    assert same("Ana :-", "*Ana* :-*")  # left alone, the star is a marker like any other
    assert not same("Thanks \U0001f642\U0001f642", "Thanks :-)")  # two for one
    assert not same("Thanks x", "Thanks :-)")  # not an emoji
    # Which emoji is WhatsApp's choice (it has changed): any one stands for an emoticon.
    assert same("Thanks \U0001f642", "Thanks :-(")
    assert not same("Hi \U0001f642", "Hi there")  # no emoticon in the message: exact
    assert not same("Thanks \u2764 more", "Thanks <3")  # nothing added around it


def test_list_and_quote_marks_may_be_drawn_as_elements() -> None:
    # WhatsApp's 2024 line formats: a page may draw "- a" as a list item "a" (or "• a").
    sent = "Offer:\n- 20% off\n* free shipping\n1. first\n12. twelfth\n> quoted"
    assert same("Offer:\n20% off\nfree shipping\nfirst\ntwelfth\nquoted", sent)
    assert same("Offer:\n\u2022 20% off\n\u2022 free shipping\nfirst\ntwelfth\nquoted", sent)
    assert same(sent, sent, markers=True)
    # Only a mark and its space at the start of a line: nothing else goes.
    assert comparable("-5 degrees\n1.5 kg\n123. no\n*bold* x") == "-5 degrees\n1.5 kg\n123. no\nbold x"
    assert not same("Offer:\n20% off", "Offer:\n- 25% off")


def test_a_text_of_many_emoticons_is_compared_in_one_pass() -> None:
    many = "<3 " * 20_000  # WhatsApp's 65,536 characters hold that many
    assert same("\u2764 " * 20_000, many) and same(many, many)
    assert not same("\u2764 " * 19_999 + "x", many)
