"""The limit texts of docs/whatsapp-dom.md ("Account limits") read into states, ends and
counters, in every modelled language; unknown words fall back to where the notice sits."""

from __future__ import annotations

import time

import pytest

import settings
from store import states as S
from worker.limits import LimitReader, UnreadableCounter

# 2026-12-06 10:00 local time.
NOW = time.mktime((2026, 12, 6, 10, 0, 0, 0, 0, -1))


def reader(tmp_path, language: str) -> LimitReader:
    path = tmp_path / "config.toml"
    path.write_text(f'[browser]\nlanguage = "{language}"\n', encoding="utf-8")
    return LimitReader(settings.load(path))


def local(y: int, mo: int, d: int, h: int, mi: int) -> float:
    return time.mktime((y, mo, d, h, mi, 0, 0, 0, -1))


NEW_CHAT = {
    "en-US": "You can't message new people right now. You can message them again in 11 hours.",
    "en-GB": "You can\u2019t message new people right now. You can message them again in 11 hours.",
    "pt-BR": "Você não pode enviar mensagens para novas pessoas no momento. "
    "Você poderá enviar mensagens para elas novamente em 11 horas.",
    "de-DE": "Du kannst gerade keine Nachrichten an neue Personen senden. "
    "Du kannst ihnen in 11 Stunden wieder schreiben.",
    "es-ES": "No puedes enviar mensajes a personas nuevas en este momento. "
    "Podrás volver a enviarles mensajes en 11 horas.",
    "fr-FR": "Vous ne pouvez pas envoyer de messages à de nouvelles personnes pour le moment. "
    "Vous pourrez de nouveau leur écrire dans 11 heures.",
}


@pytest.mark.parametrize("language", sorted(NEW_CHAT))
def test_new_chat_notice_in_every_language_with_its_end(tmp_path, language):
    r = reader(tmp_path, language)
    limit = r.notice(NEW_CHAT[language], known=False, now=NOW)
    assert limit.state == S.LIMITED_NEW and limit.by_words
    assert limit.until == NOW + 11 * 3600


def test_new_chat_notice_later_states_no_end(tmp_path):
    limit = reader(tmp_path, "de-DE").notice(
        "Du kannst gerade keine Nachrichten an neue Personen senden. Du kannst ihnen später wieder schreiben.",
        known=False,
        now=NOW,
    )
    assert (limit.state, limit.until) == (S.LIMITED_NEW, None)


RESTRICTED = [
    ("en-US", "Your account is restricted. You can't send messages until 2:35\u202fPM.", local(2026, 12, 6, 14, 35)),
    ("en-GB", "Your account is restricted. You can't send messages until 14:35.", local(2026, 12, 6, 14, 35)),
    (
        "en-US",
        "Your account is restricted. You can't send messages until 12/7/2026, 9:05 AM.",
        local(2026, 12, 7, 9, 5),
    ),
    (
        "pt-BR",
        "Sua conta está restrita. Você não pode enviar mensagens até 07/12/2026, 14:35.",
        local(2026, 12, 7, 14, 35),
    ),
    (
        "de-DE",
        "Dein Konto ist eingeschränkt. Du kannst bis 07.12.2026, 08:00 keine Nachrichten senden.",
        local(2026, 12, 7, 8, 0),
    ),
    ("es-ES", "Tu cuenta está restringida. No puedes enviar mensajes hasta las 9:30.", local(2026, 12, 7, 9, 30)),
    (
        "fr-FR",
        "Votre compte est restreint. Vous ne pouvez pas envoyer de messages jusqu'à 14:35.",
        local(2026, 12, 6, 14, 35),
    ),
]


@pytest.mark.parametrize(("language", "text", "until"), RESTRICTED)
def test_restriction_and_the_time_it_states(tmp_path, language, text, until):
    """A time earlier than now is tomorrow's (es-ES 9:30 at 10:00); a date in the page's order."""
    limit = reader(tmp_path, language).notice(text, known=True, now=NOW)
    assert limit.state == S.RESTRICTED
    assert limit.until == until


def test_a_stated_end_that_cannot_be_right_is_none(tmp_path):
    r = reader(tmp_path, "en-US")
    assert r.until("until 12/7/2031, 9:05 AM", NOW) is None  # years away
    assert r.until("until 25:70", NOW) is None
    assert r.until("until 1/1/2020, 10:00 AM", NOW) is None  # the past


def test_unknown_words_are_judged_by_where_the_notice_sits(tmp_path):
    """A notice in words nobody wrote: a new chat refuses new people, a chat with history
    refuses everything; never a broken selector."""
    r = reader(tmp_path, "en-US")
    text = "Zzz qqq 3 hours."
    new = r.notice(text, known=False, now=NOW)
    old = r.notice(text, known=True, now=NOW)
    assert (new.state, new.by_words, new.until) == (S.LIMITED_NEW, False, NOW + 3 * 3600)
    assert (old.state, old.by_words) == (S.RESTRICTED, False)
    assert "words not recognised" in new.describe()


BANNED = {
    "en-US": "This account is not allowed to use WhatsApp\nYour phone number is banned from using WhatsApp.",
    "pt-BR": "Esta conta não tem permissão para usar o WhatsApp",
    "de-DE": "Dieses Konto darf WhatsApp nicht verwenden",
    "es-ES": "Esta cuenta no tiene permiso para usar WhatsApp",
    "fr-FR": "Ce compte n\u2019est pas autorisé à utiliser WhatsApp",
}


@pytest.mark.parametrize("language", sorted(BANNED))
def test_ban_screen_in_every_language(tmp_path, language):
    limit, counter = reader(tmp_path, language).outside_chats(["Learn more", BANNED[language]], NOW)
    assert limit is not None and limit.state == S.BANNED and limit.until is None
    assert counter is None


UNANSWERED = {
    "en-US": "You've sent 180 of 200 messages to people who haven't replied this month",
    "pt-BR": "Você enviou 180 de 200 mensagens para pessoas que não responderam este mês",
    "de-DE": "Du hast diesen Monat 180 von 200 Nachrichten an Personen gesendet, die nicht geantwortet haben",
    "es-ES": "Has enviado 180 de 200 mensajes a personas que no han respondido este mes",
    "fr-FR": "Vous avez envoyé 180 messages sur 200 à des personnes qui n'ont pas répondu ce mois-ci",
}


@pytest.mark.parametrize("language", sorted(UNANSWERED))
def test_unanswered_counter_in_every_language(tmp_path, language):
    limit, counter = reader(tmp_path, language).outside_chats([UNANSWERED[language]], NOW)
    assert limit is None
    assert counter == (180, 200)


def test_a_counter_in_an_unknown_format_is_an_error_to_report_not_a_number(tmp_path):
    r = reader(tmp_path, "en-US")
    with pytest.raises(UnreadableCounter):
        r.counter("You've sent many messages to people who haven't replied")
    with pytest.raises(UnreadableCounter):
        r.counter("You've sent 300 of 200 messages to people who haven't replied")
    assert r.counter("You've sent 1,180 of 2,000 messages to people who haven't replied") == (1180, 2000)


def test_restriction_banner_outranks_the_counter_and_keeps_its_end(tmp_path):
    r = reader(tmp_path, "en-GB")
    limit, counter = r.outside_chats(
        [UNANSWERED["en-US"], "Your account is restricted\nYou can't send messages until 14:35."], NOW
    )
    assert limit is not None and limit.state == S.RESTRICTED and limit.until == local(2026, 12, 6, 14, 35)
    assert counter == (180, 200)


def test_failure_mark_is_compared_whole(tmp_path):
    r = reader(tmp_path, "de-DE")
    assert r.is_not_sent(" Nicht gesendet ")
    assert r.is_not_sent(" Not sent ")
    assert not r.is_not_sent(" Gesendet ")
