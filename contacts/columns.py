"""Choosing the phone column and the display-name columns of a table."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from .errors import ContactsError

if TYPE_CHECKING:
    from .readers import ContactTable

_WORDS = re.compile(r"[^\W_]+")


def norm_name(name: str) -> str:
    """Column / placeholder key: case-insensitive, '_' = ' ', spaces collapsed."""
    return " ".join(name.replace("_", " ").split()).casefold()


# Name heuristics, best tier first. Words are matched whole (after splitting on
# non-letters), plus a few glued forms ("mobileno", "phonenumber").
_TIER0 = {
    "whatsapp",
    "wa",
    "mobile",
    "mobil",
    "mob",
    "cell",
    "cellphone",
    "cellular",
    "handy",
    "celular",
    "movil",
    "móvil",
    "portable",
    "mobilephone",
    "mobileno",
    "mobilenumber",
    "cellnumber",
    "whatsappnumber",
    "whatsappno",
}
_TIER1 = {
    "phone",
    "phones",
    "telephone",
    "tel",
    "tele",
    "telefon",
    "telefono",
    "teléfono",
    "téléphone",
    "telefone",
    "number",
    "no",
    "num",
    "msisdn",
    "phonenumber",
    "phoneno",
    "contactnumber",
    "contactno",
}
_TIER2 = {"contact", "contacts"}
# Columns that mention a phone but hold something else.
_NOT_PHONE = {
    "type",
    "label",
    "kind",
    "fax",
    "pager",
    "telex",
    "isdn",
    "tty",
    "tdd",
    "ext",
    "extension",
    "email",
    "mail",
    "e",
    "address",
    "name",
    "id",
    "code",
    "country",
    "status",
    "date",
    "time",
    "notes",
    "note",
    "radio",
    "callback",
}

_DIGITS = re.compile(r"\d")
_PHONE_LIKE = re.compile(r"^\s*(?:tel:)?[+'(=\"]*\s*\d[\d \-.()/\u00a0]*\"?\s*$")

SAMPLE_ROWS = 2000


def _tier(col: str) -> int | None:
    words = [w.casefold() for w in _WORDS.findall(col)]
    if not words:
        return None
    ws = set(words)
    if "whatsapp" in ws or "whatsapp" in "".join(words):
        return 0
    if ws & _NOT_PHONE:
        return None
    if ws & _TIER0:
        return 0
    if ws & _TIER1:
        # "number" alone is weak next to a real phone word, same tier though;
        # content decides between them.
        return 1
    if ws & _TIER2:
        return 2
    return None


def _phone_like(v: str) -> bool:
    if not v or not _PHONE_LIKE.match(v):
        return False
    n = len(_DIGITS.findall(v))
    return 7 <= n <= 15


def _content_score(rows: Iterable[Mapping[str, str]], col: str) -> tuple[int, int]:
    """(phone-like values, non-empty values) in a sample of rows."""
    good = filled = 0
    for row in rows:
        v = row.get(col, "")
        if v:
            filled += 1
            if _phone_like(v) or " ::: " in v:
                good += 1
    return good, filled


def find_phone_column(table: ContactTable, override: str | None) -> str:
    """The column holding the phone numbers: `override` when given (matched like a
    placeholder), else the best-named column that holds numbers, else the column where
    most values look like numbers, else a phone-named one; ContactsError when none."""
    cols = table.columns
    where = str(table.path)
    listing = ", ".join(repr(c) for c in cols)
    if override is not None and str(override).strip():
        key = norm_name(str(override))
        for c in cols:
            if norm_name(c) == key:
                return c
        raise ContactsError(f"{where}: no column named {override!r}; the columns are: {listing}")
    if table.format == "vcf":
        return "Phone"
    sample = [r for r in table.rows[: SAMPLE_ROWS * 2] if any(r.values())][:SAMPLE_ROWS]
    named: list[tuple[int, int, int, int, str]] = []  # (tier, good, filled, index, column)
    for i, c in enumerate(cols):
        t = _tier(c)
        if t is not None:
            good, filled = _content_score(sample, c)
            named.append((t, good, filled, i, c))
    # 1. by name: best tier whose column really holds numbers; more numbers, then leftmost
    usable = [x for x in named if x[1] > 0 and x[1] >= 0.3 * x[2]]
    if usable:
        usable.sort(key=lambda x: (x[0], -x[1], x[3]))
        return usable[0][4]
    # 2. by content: the column where most values look like phone numbers
    best: tuple[int, str] | None = None
    for c in cols:
        good, filled = _content_score(sample, c)
        if good and good >= 0.6 * filled and (best is None or good > best[0]):
            best = (good, c)
    if best is not None:
        return best[1]
    # 3. a column named like a phone, even if nothing in it parses: its rows get reported
    if named:
        named.sort(key=lambda x: (x[0], -x[2], x[3]))
        return named[0][4]
    raise ContactsError(
        f"{where}: no phone column found; the columns are: {listing}. Name the phone column with --phone-column NAME"
    )


_FULL = {
    "name",
    "full name",
    "fullname",
    "display name",
    "displayname",
    "contact name",
    "contact",
    "fn",
    "nome",
    "nombre",
    "nom",
    "customer name",
    "client name",
}
_FIRST = {
    "first name",
    "firstname",
    "given name",
    "givenname",
    "first",
    "given",
    "forename",
    "vorname",
    "prénom",
    "prenom",
}
_MIDDLE = {"middle name", "middlename", "additional name"}
_LAST = {"last name", "lastname", "family name", "familyname", "surname", "last", "family", "nachname"}


def find_name_columns(columns: list[str], phone_column: str) -> tuple[list[str], list[str]]:
    """(primary, fallback) lists of columns making the display name."""
    by_key: dict[str, str] = {}
    for c in columns:
        if c != phone_column:
            by_key.setdefault(norm_name(c), c)
    full = next((by_key[k] for k in by_key if k in _FULL), None)
    parts: list[str] = []
    for group in (_FIRST, _MIDDLE, _LAST):
        found = next((by_key[k] for k in by_key if k in group), None)
        if found:
            parts.append(found)
    if full:
        return [full], parts
    return parts, []
