"""WhatsApp's limits as the page shows them, read into the account states of the store
(docs/whatsapp-dom.md, "Account limits"): new people refused (`limited_new`), nothing can be
sent (`restricted`), the number banned (`banned`), and the unanswered-messages counter.

The words come from the page's language and English (`{Word}`s of worker/knowledge.py, so
`[labels.LANG]` corrects them); where the words are unknown, the structure decides: an open
chat with no compose box and a notice in its place is a limit, never a broken selector.
Nothing here touches the browser: the page hands over the texts it found.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass

from settings import Config
from store import states as S

from . import knowledge

log = logging.getLogger("worker")

NEW_PEOPLE = "You can't message new people"
RESTRICTED = "Your account is restricted"
BANNED = ("not allowed to use WhatsApp", "banned from using WhatsApp")
UNANSWERED = "messages to people who haven't replied"
NOT_SENT = "Not sent"
# A stated end further away than this is a misreading: the cool-down applies instead.
LONGEST_STATED = 31 * 86400.0

# "… again in 11 hours", in every modelled language: the unit's seconds.
_UNITS = {
    "minute": 60,
    "minutes": 60,
    "minuto": 60,
    "minutos": 60,
    "minuten": 60,
    "hour": 3600,
    "hours": 3600,
    "hora": 3600,
    "horas": 3600,
    "stunde": 3600,
    "stunden": 3600,
    "heure": 3600,
    "heures": 3600,
    "day": 86400,
    "days": 86400,
    "dia": 86400,
    "dias": 86400,
    "día": 86400,
    "días": 86400,
    "tag": 86400,
    "tagen": 86400,
    "tage": 86400,
    "jour": 86400,
    "jours": 86400,
}
_IN = re.compile(r"(\d{1,3})\s+([^\W\d_]+)")
_CLOCK = re.compile(r"(?<![\d:])(\d{1,2}) ?[:h] ?(\d{2})(?![\d])(?:\s*([ap])\.?\s?m\b\.?)?", re.IGNORECASE)
_DATE = re.compile(r"(?<!\d)(\d{1,4})[./-](\d{1,2})[./-](\d{2,4})(?!\d)")
_NUMBER = re.compile(r"\d[\d.,\u00a0\u202f ]*\d|\d")


def norm(text: str | None) -> str:
    """Case, spacing and apostrophes as the comparison ignores them (the page writes ’)."""
    t = re.sub(r"[\s\u00a0\u202f]+", " ", str(text or "")).strip().lower()
    return t.replace("\u2019", "'").replace("\u2018", "'")


@dataclass(frozen=True)
class Limit:
    """A limit the page shows: its state, the end the page states (None: not stated; the
    configured cool-down applies), what it said, and whether its words were recognised."""

    state: str  # S.LIMITED_NEW, S.RESTRICTED or S.BANNED
    until: float | None
    text: str
    by_words: bool = True

    def describe(self) -> str:
        how = "" if self.by_words else " (words not recognised: judged by where the notice sits)"
        return f"{str(self.state).replace('_', ' ')}: {self.text[:160]!r}{how}"


class UnreadableCounter(ValueError):
    """The unanswered-messages banner is there, in a format the worker does not know."""


class LimitReader:
    """Reads the page's limit texts in its language (and English)."""

    def __init__(self, cfg: Config) -> None:
        words = cfg.words()

        def both(label: str) -> list[str]:
            return list(dict.fromkeys(norm(w) for w in (words.get(label, label), label)))

        self.new_people = both(NEW_PEOPLE)
        self.restricted = both(RESTRICTED)
        self.banned = [w for label in BANNED for w in both(label)]
        self.unanswered = both(UNANSWERED)
        self.not_sent = both(NOT_SENT) + [norm(w) for w in knowledge.NOT_SENT_LABELS]
        self.date_order = cfg.date_order()

    @property
    def phrases(self) -> list[str]:
        """Every phrase that marks a limit: the page looks for them outside the chats."""
        return [*self.new_people, *self.restricted, *self.banned, *self.unanswered]

    def _has(self, text: str, phrases: list[str]) -> bool:
        t = norm(text)
        return any(p and p in t for p in phrases)

    # ------------------------------------------------------------------ what it says
    def notice(self, text: str, *, known: bool, now: float) -> Limit:
        """The notice an open chat shows where the compose box was. Unknown words: a chat with
        history refuses everything (restricted), a new chat refuses new people."""
        if self._has(text, self.banned):
            return Limit(S.BANNED, None, text)
        if self._has(text, self.restricted):
            return Limit(S.RESTRICTED, self.until(text, now), text)
        if self._has(text, self.new_people):
            return Limit(S.LIMITED_NEW, self.until(text, now), text)
        state = S.RESTRICTED if known else S.LIMITED_NEW
        return Limit(state, self.until(text, now), text, by_words=False)

    def outside_chats(self, texts: list[str], now: float) -> tuple[Limit | None, tuple[int, int] | None]:
        """The texts the page shows outside the chats (banners, the ban screen): the limit
        they state, and the unanswered counter (sent, cap). A counter in an unknown format
        is logged once by the caller (`UnreadableCounter`) and ignored."""
        limit: Limit | None = None
        counter: tuple[int, int] | None = None
        for text in texts:
            if self._has(text, self.banned):
                return Limit(S.BANNED, None, text), counter
            if self._has(text, self.restricted) and (limit is None or limit.state != S.RESTRICTED):
                limit = Limit(S.RESTRICTED, self.until(text, now), text)
            elif self._has(text, self.new_people) and limit is None:
                limit = Limit(S.LIMITED_NEW, self.until(text, now), text)
            elif self._has(text, self.unanswered):
                counter = self.counter(text)
        return limit, counter

    def is_not_sent(self, label: str | None) -> bool:
        """A status label that is the failure mark (compared whole: " Nicht gesendet " is not " Gesendet ")."""
        return norm(label) in self.not_sent

    @staticmethod
    def counter(text: str) -> tuple[int, int]:
        """(sent, cap) of "You've sent 180 of 200 messages to people who haven't replied":
        the first two numbers, the cap the larger. Anything else: UnreadableCounter."""
        numbers = [int(re.sub(r"\D", "", n)) for n in _NUMBER.findall(text)]
        if len(numbers) != 2:
            raise UnreadableCounter(f"expected two numbers (sent, cap), found {len(numbers)}")
        sent, cap = numbers
        if cap <= 0 or sent > cap:
            raise UnreadableCounter(f"{sent} of {cap} is no count within a cap")
        return sent, cap

    # ------------------------------------------------------------------ when it ends
    def until(self, text: str, now: float) -> float | None:
        """The end the text states: "in 11 hours", "until 2:35 PM", "até 01/12/2026, 14:35";
        None when it states none (or one that cannot be right)."""
        for number, word in _IN.findall(text):
            unit = _UNITS.get(word.lower())
            if unit:
                return self._sane(now + int(number) * unit, now)
        date = _DATE.search(text)
        clock = _CLOCK.search(_DATE.sub(" ", text))
        if clock is None:
            return None
        hour, minute = int(clock.group(1)), int(clock.group(2))
        half = (clock.group(3) or "").lower()
        if half:
            if not 1 <= hour <= 12:
                return None
            hour = hour % 12 + (12 if half == "p" else 0)
        if hour > 23 or minute > 59:
            return None
        local = time.localtime(now)
        if date:
            ymd = self._ymd(date.groups())
            if ymd is None:
                return None
            year, month, day = ymd
            return self._sane(_local(year, month, day, hour, minute), now)
        at = _local(local.tm_year, local.tm_mon, local.tm_mday, hour, minute)
        if at <= now:  # a time earlier than now is tomorrow's
            t = time.localtime(now + 86400)
            at = _local(t.tm_year, t.tm_mon, t.tm_mday, hour, minute)
        return self._sane(at, now)

    def _ymd(self, parts: tuple[str, ...]) -> tuple[int, int, int] | None:
        a, b, c = (int(p) for p in parts)
        if len(parts[0]) == 4:  # ISO order whatever the language
            year, month, day = a, b, c
        elif self.date_order == "MDY":
            month, day, year = a, b, c
        else:
            day, month, year = a, b, c
        if year < 100:
            year += 2000
        if not (1 <= month <= 12 and 1 <= day <= 31):
            return None
        return year, month, day

    @staticmethod
    def _sane(at: float | None, now: float) -> float | None:
        if at is None or at <= now or at - now > LONGEST_STATED:
            return None
        return at


def _local(year: int, month: int, day: int, hour: int, minute: int) -> float:
    return time.mktime((year, month, day, hour, minute, 0, 0, 0, -1))
