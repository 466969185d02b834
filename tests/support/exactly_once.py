"""The one check of the promise: each message reached WhatsApp exactly once.

The simulator's ledger is the truth (what the "server" accepted, from every account);
the store is only what the program believes. `assert_exactly_once` compares the ledger
with the messages a test expects, by phone number (or by phone and text, or by text),
and fails with the lost, the duplicated and the unexpected ones named, plus the test's
note (the chaos seed, the kill schedule)."""

from __future__ import annotations

import collections
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

Entry = Mapping[str, Any]


def digits(phone: str) -> str:
    return re.sub(r"\D", "", phone)


KEYS: dict[str, Callable[[Entry], Any]] = {
    "phone": lambda m: digits(m["phone"]),
    "phone+text": lambda m: (digits(m["phone"]), m["text"]),
    "text": lambda m: m["text"],
}


def _wanted_key(kind: str, item: Any) -> Any:
    if kind == "phone":
        return digits(item)
    if kind == "phone+text":
        phone, text = item
        return (digits(phone), text)
    return item


@dataclass
class Tally:
    """The ledger against the expected messages."""

    total: int  # ledger entries
    lost: list[Any] = field(default_factory=list)  # expected, never accepted
    duplicated: dict[Any, int] = field(default_factory=dict)  # accepted more than once: how often
    unexpected: list[Any] = field(default_factory=list)  # accepted, never expected

    @property
    def ok(self) -> bool:
        return not (self.lost or self.duplicated or self.unexpected)

    def summary(self) -> str:
        extra = sum(n - 1 for n in self.duplicated.values())
        return (
            f"{self.total} in the ledger: lost {len(self.lost)}, duplicated {extra}, unexpected {len(self.unexpected)}"
        )


def tally(ledger: Sequence[Entry], wanted: Iterable[Any], *, key: str = "phone") -> Tally:
    counts = collections.Counter(KEYS[key](m) for m in ledger)
    want = collections.Counter(_wanted_key(key, w) for w in wanted)
    return Tally(
        total=len(ledger),
        lost=sorted((w for w in want if w not in counts), key=str),
        duplicated={k: n for k, n in counts.items() if n > 1},
        unexpected=sorted((k for k in counts if k not in want), key=str),
    )


def assert_exactly_once(ledger: Sequence[Entry], wanted: Iterable[Any], *, key: str = "phone", note: str = "") -> Tally:
    """Every expected message once in the ledger, nothing twice, nothing else.

    `ledger`: `sim.ledger()["messages"]`; `wanted`: phones (`key="phone"`), (phone, text)
    pairs (`key="phone+text"`) or texts (`key="text"`). Returns the tally (for a figure)."""
    t = tally(ledger, wanted, key=key)
    if not t.ok:
        details = [t.summary()]
        if t.lost:
            details.append(f"lost: {t.lost[:10]}")
        if t.duplicated:
            details.append(f"duplicated: {dict(list(t.duplicated.items())[:10])}")
        if t.unexpected:
            details.append(f"unexpected: {t.unexpected[:10]}")
        if note:
            details.append(note)
        raise AssertionError("each message exactly once: " + "; ".join(details))
    return t


def assert_at_most_once(ledger: Sequence[Entry], *, key: str = "phone", note: str = "") -> None:
    """Nothing accepted twice (a job still under way: some messages may not be sent yet)."""
    twice = {k: n for k, n in collections.Counter(KEYS[key](m) for m in ledger).items() if n > 1}
    assert not twice, f"accepted more than once: {twice}; {note}"


def assert_each_sent_once_by_its_account(
    ledger: Sequence[Entry], rows: Sequence[Any], numbers: Mapping[str, str], *, note: str = ""
) -> None:
    """Several accounts: exactly once (the ledger), every message `sent` in the store, by
    the account the store names (its number in the ledger), and every account took part.
    `rows`: the job's messages from the store; `numbers`: account name -> own number."""
    assert_exactly_once(ledger, [r["phone"] for r in rows], note=note)
    assert all(r["status"] == "sent" for r in rows), [(r["id"], r["status"]) for r in rows if r["status"] != "sent"]
    by_phone = {digits(m["phone"]): m["account"] for m in ledger}
    wrong = [(r["phone"], r["account"]) for r in rows if numbers[r["account"]] != by_phone[digits(r["phone"])]]
    assert not wrong, f"sent by another account than the store names: {wrong}; {note}"
    assert {r["account"] for r in rows} == set(numbers), note
