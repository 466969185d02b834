"""Bubble times in every locale format, and the verdict of a verification (no browser)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from worker.bubble_time import floor_minute, parse_pre_plain
from worker.page import ChatView, Row
from worker.verify import CLOCK_SKEW, history_covers, judge


def at(y: int, mo: int, d: int, h: int, mi: int, s: int = 0) -> float:
    return time.mktime((y, mo, d, h, mi, s, 0, 0, -1))


# ----------------------------------------------------------------------------- bubble times


def test_en_us_12_hour_with_am_pm() -> None:
    assert parse_pre_plain("[2:05 PM, 11/30/2026] You: ", "MDY") == at(2026, 11, 30, 14, 5)
    assert parse_pre_plain("[9:41 AM, 3/7/2026] You: ", "MDY") == at(2026, 3, 7, 9, 41)


def test_en_us_narrow_no_break_space_before_pm() -> None:
    # Chrome's ICU writes "2:05\u202fPM" since version 110.
    assert parse_pre_plain("[2:05\u202fPM, 11/30/2026] You: ", "MDY") == at(2026, 11, 30, 14, 5)


def test_midnight_and_noon_in_12_hour_time() -> None:
    assert parse_pre_plain("[12:05 AM, 11/30/2026] You: ", "MDY") == at(2026, 11, 30, 0, 5)
    assert parse_pre_plain("[12:05 PM, 11/30/2026] You: ", "MDY") == at(2026, 11, 30, 12, 5)


def test_lowercase_and_dotted_am_pm() -> None:
    assert parse_pre_plain("[2:05 pm, 30/11/2026] You: ", "DMY") == at(2026, 11, 30, 14, 5)
    assert parse_pre_plain("[2:05 p.m., 30/11/2026] You: ", "DMY") == at(2026, 11, 30, 14, 5)


def test_spanish_a_m_p_m_with_spaces() -> None:
    assert parse_pre_plain("[2:05 p. m., 30/11/2026] Tú: ", "DMY") == at(2026, 11, 30, 14, 5)
    assert parse_pre_plain("[11:59 a. m., 30/11/2026] Tú: ", "DMY") == at(2026, 11, 30, 11, 59)


def test_marker_before_the_time() -> None:
    assert parse_pre_plain("[午後2:05, 2026/11/30] 自分: ", "MDY") == at(2026, 11, 30, 14, 5)
    assert parse_pre_plain("[오전 9:05, 2026.11.30] 나: ", "MDY") == at(2026, 11, 30, 9, 5)


def test_en_gb_and_pt_br_24_hour_day_first() -> None:
    assert parse_pre_plain("[14:05, 30/11/2026] You: ", "DMY") == at(2026, 11, 30, 14, 5)
    assert parse_pre_plain("[14:05, 30/11/2026] Você: ", "DMY") == at(2026, 11, 30, 14, 5)


def test_de_de_dots() -> None:
    assert parse_pre_plain("[14:05, 30.11.2026] Du: ", "DMY") == at(2026, 11, 30, 14, 5)
    assert parse_pre_plain("[14.05, 30.11.2026] Du: ", "DMY") == at(2026, 11, 30, 14, 5)


def test_dashes_two_digit_years_and_year_first() -> None:
    assert parse_pre_plain("[14:05, 30-11-2026] You: ", "DMY") == at(2026, 11, 30, 14, 5)
    assert parse_pre_plain("[14:05, 30/11/26] You: ", "DMY") == at(2026, 11, 30, 14, 5)
    assert parse_pre_plain("[14:05, 2026-11-30] You: ", "DMY") == at(2026, 11, 30, 14, 5)
    assert parse_pre_plain("[14:05, 2026-11-30] You: ", "MDY") == at(2026, 11, 30, 14, 5)


def test_with_seconds() -> None:
    assert parse_pre_plain("[14:05:33, 30/11/2026] You: ", "DMY") == at(2026, 11, 30, 14, 5, 33)
    assert parse_pre_plain("[2:05:33 PM, 11/30/2026] You: ", "MDY") == at(2026, 11, 30, 14, 5, 33)


def test_direction_marks_are_ignored() -> None:
    assert parse_pre_plain("\u200f[\u200e14:05, 30/11/2026\u200e] You: ", "DMY") == at(2026, 11, 30, 14, 5)


def test_order_follows_the_language() -> None:
    assert parse_pre_plain("[10:00, 3/7/2026] x: ", "MDY") == at(2026, 3, 7, 10, 0)
    assert parse_pre_plain("[10:00, 3/7/2026] x: ", "DMY") == at(2026, 7, 3, 10, 0)


@pytest.mark.parametrize(
    "pre",
    [
        None,
        "",
        "nonsense",
        "[2:05 PM] You: ",
        "[13:05 PM, 11/30/2026] You: ",  # 13 is no 12-hour time
        "[25:05, 30/11/2026] You: ",
        "[14:05, 31/02/2026] You: ",  # no such day
        "[14:05, 30/13/2026] You: ",  # month 13
        "[2:05 PM, Nov 30, 2026] You: ",  # a date in words: not read, never guessed
        "[14:05, 30/11/126] You: ",
    ],
)
def test_unreadable_times_are_none(pre: str | None) -> None:
    assert parse_pre_plain(pre, "DMY") is None


def test_day_first_date_is_unreadable_as_month_first() -> None:
    assert parse_pre_plain("[14:05, 30/11/2026] You: ", "MDY") is None


# ----------------------------------------------------------------------------- the verdict

CLAIM = at(2026, 11, 30, 14, 5, 40)


def pre(ts: float, who: str = "You") -> str:
    lt = time.localtime(ts)
    h = lt.tm_hour % 12 or 12
    return f"[{h}:{lt.tm_min:02d} {'AM' if lt.tm_hour < 12 else 'PM'}, {lt.tm_mon}/{lt.tm_mday}/{lt.tm_year}] {who}: "


def row(
    text: str | None,
    ts: float | None,
    *,
    ack: bool = True,
    media: bool = False,
    more: bool = False,
    full: str | None = None,
) -> Row:
    return Row(
        id=None,
        text=text,
        full=full if full is not None else (text or ""),
        pre=pre(ts) if ts else None,
        media=media,
        ack=ack,
        pending=not ack,
        more=more,
    )


def view(rows: list[Row], *, start: bool = True, incoming: list[float] = ()) -> ChatView:
    metas = [pre(t, "+1 202 555 0101") for t in incoming] + [r.pre for r in rows]
    return ChatView(
        rows=rows,
        total=len(rows),
        structural=False,
        any_rows=len(metas),
        metas=metas,
        start=start,
        expanded=0,
        box="",
        logged_in=True,
        qr=False,
        phone_disconnected=False,
    )


MSG = {
    "id": 1,
    "text": "Hi *Ana* 👋🏽\nsee https://example.com",
    "claimed_at": CLAIM - 1,
    "clicked_at": CLAIM,
    "attachment": None,
}


def verdict(v: ChatView, msg: dict = MSG, attachment: Path | None = None, covered: bool | None = None) -> str:
    cov = history_covers(v, msg["clicked_at"], "MDY") if covered is None else covered
    return judge(v, msg, date_order="MDY", covered=cov, attachment=attachment).outcome


def test_found_when_the_text_is_there_after_the_claim_with_a_tick() -> None:
    # As the page shows it: markers consumed, emoji read from its image.
    assert verdict(view([row("Hi Ana 👋🏽\nsee https://example.com", CLAIM + 20)])) == "found"


def test_a_reply_at_the_end_of_the_chat_does_not_hide_our_bubble() -> None:
    v = view([row("Hi Ana 👋🏽\nsee https://example.com", CLAIM)])
    v.metas.append(pre(CLAIM + 60, "+1 202 555 0101"))  # the contact answered after it
    v.any_rows += 1
    assert verdict(v) == "found"


def test_absent_when_the_loaded_history_reaches_back_and_no_bubble_holds_it() -> None:
    assert verdict(view([row("another text", CLAIM + 20)])) == "absent"
    assert verdict(view([], start=True)) == "absent"
    # Only an older copy of the same text (an earlier campaign): provably not this one.
    assert verdict(view([row("Hi Ana 👋🏽\nsee https://example.com", CLAIM - 86400)], start=False)) == "absent"


def test_a_bubble_whose_time_cannot_be_read_is_undetermined() -> None:
    r = row("Hi Ana 👋🏽\nsee https://example.com", None)
    r.pre = "[2:05 PM, Nov 30, 2026] You: "
    assert verdict(view([r])) == "undetermined"
    r.pre = None
    assert verdict(view([r])) == "undetermined"


def test_a_copy_just_before_the_claim_is_a_doubt_not_an_absence() -> None:
    assert verdict(view([row("Hi Ana 👋🏽\nsee https://example.com", CLAIM - CLOCK_SKEW / 2)])) == "undetermined"


def test_history_that_did_not_load_back_to_the_claim_is_undetermined() -> None:
    v = view([row("another text", CLAIM + 30)], start=False)
    assert not history_covers(v, CLAIM, "MDY")
    assert verdict(v) == "undetermined"
    assert verdict(view([], start=False)) == "undetermined"  # nothing rendered at all


def test_unreadable_text_or_unrecognised_own_bubbles_are_undetermined() -> None:
    assert verdict(view([row(None, CLAIM + 10)])) == "undetermined"  # message_text matched nothing
    v = view([])
    v.metas.append(pre(CLAIM + 10))  # "You:" but not taken for outgoing (status icons changed)
    v.any_rows += 1
    assert verdict(v) == "undetermined"


def test_a_cut_bubble_that_may_be_ours_is_undetermined_until_expanded() -> None:
    full = MSG["text"]
    assert verdict(view([row("Hi Ana 👋🏽", CLAIM + 5, more=True)])) == "undetermined"
    assert verdict(view([row("Hi Bob", CLAIM + 5, more=True)])) == "absent"
    assert verdict(view([row(full.replace("*", ""), CLAIM + 5)])) == "found"


def test_a_bubble_on_the_clock_is_not_found_yet() -> None:
    assert verdict(view([row("Hi Ana 👋🏽\nsee https://example.com", CLAIM + 5, ack=False)])) == "undetermined"


def test_attachments_are_recognised_by_caption_and_media_or_file_name(tmp_path: Path) -> None:
    photo = tmp_path / "offer.jpg"
    doc = tmp_path / "price list.pdf"
    msg = dict(MSG, text="Our offer 🍕")
    assert verdict(view([row("Our offer 🍕", CLAIM + 5, media=True)]), msg, photo) == "found"
    assert verdict(view([row("Our offer 🍕", CLAIM + 5, media=False)]), msg, photo) == "absent"
    assert (
        verdict(view([row("Our offer 🍕", CLAIM + 5, full="price list.pdf 12 kB Our offer 🍕")]), msg, doc) == "found"
    )
    assert verdict(view([row("Our offer 🍕", CLAIM + 5, full="other.pdf Our offer 🍕")]), msg, doc) == "absent"
    # A photo without caption next to a text message: media with no text element is not our caption.
    assert verdict(view([row(None, CLAIM + 5, media=True)]), msg, photo) == "absent"


def test_floor_is_the_minute_of_the_click() -> None:
    assert floor_minute(CLAIM) == at(2026, 11, 30, 14, 5)
    assert verdict(view([row("Hi Ana 👋🏽\nsee https://example.com", at(2026, 11, 30, 14, 5))])) == "found"
