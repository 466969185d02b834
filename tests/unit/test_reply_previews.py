"""The chat list's preview tells the reply reader whether a chat has news: a preview that
is our own message (as WhatsApp shows it) or the last reply stored is none."""

from __future__ import annotations

from worker.replies import _news


def test_our_own_text_is_no_news_even_as_whatsapp_rewrote_it() -> None:
    ours = "Hello there :-) see you <3\nsecond line"
    assert not _news("Hello there \U0001f642 see you \u2764\ufe0f", ours, None)  # its emoticons as emoji
    assert not _news("Hello there :-) see you <3", ours, None)
    assert not _news("Hello there \U0001f642 se…", ours, None)  # cut
    assert not _news("Hi Bruno, 50% off", "Hi *Bruno*, 50% off", None)  # markers consumed
    assert not _news("Thanks!", "Hi", "Thanks!")  # the reply already stored


def test_anything_else_is_news() -> None:
    ours = "Hello there :-) see you <3"
    assert _news("STOP", ours, None)
    assert _news("Hello there \U0001f642\U0001f642", ours, None)
    assert _news("\U0001f642", ours, None)
    assert _news("Thanks!", ours, "ok")
    assert not _news("", ours, None)  # no preview: nothing to go by
