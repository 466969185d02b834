"""Normalising phone numbers to E.164 with `phonenumbers`.

``normalise_phone(raw, region)`` is the reference: it cleans what people type
(spaces, dashes, dots, brackets, a leading ``'``, Excel's ``="..."``, ``00``
instead of ``+``) and asks phonenumbers.

``normalise_many(raws, region)`` gives the same answers for a whole column:
identical cleaned numbers are asked once. phonenumbers is the only judge of a
number: nothing here knows a country's rules. Given a dict, it also fills in each valid
number's time zones (phonenumbers' `time_zones_for_number`, from the number type the
validation computed anyway: asking phonenumbers again would cost as much as the check).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberType, ValidationResult
from phonenumbers.phonenumberutil import is_number_type_geographical

from .errors import ContactsError

# (e164, None) for a valid number, (None, reason) for any other: `res[0] is None` tells which.
Result = tuple[str, None] | tuple[None, str]
# E.164 number -> its IANA time zones as phonenumbers gives them (("Etc/Unknown",): none).
Zones = dict[str, tuple[str, ...]]
UNKNOWN_ZONE = "Etc/Unknown"

# Characters people put between digits. Removed before parsing.
_SEPARATORS = (
    " \t\u00a0\u2007\u202f-\u2010\u2011\u2012\u2013\u2014\u2212.()[]/\\\u200e\u200f\u202a\u202b\u202c\u202d\u202e\ufeff"
)
_SCIENTIFIC = re.compile(r"^[0-9](?:[.,][0-9]+)?[eE]\+?[0-9]+$")
_HAS_DIGIT = re.compile(r"\d")
_LABEL = re.compile(r"\([^()]*[^\W\d_][^()]*\)")  # a bracketed word such as (home)


def check_region(region: str | None) -> str | None:
    """Upper-cased region, or ContactsError if phonenumbers doesn't know it."""
    if region is None or region == "":
        return None
    reg = str(region).strip().upper()
    if reg not in phonenumbers.SUPPORTED_REGIONS:
        raise ContactsError(f"unknown default region {region!r}: use a two-letter country code such as US, IN, GB, DE")
    return reg


_STRIP_TABLE_X = str.maketrans("", "", _SEPARATORS + "'\"=")


def clean_key(raw: str) -> tuple[str, None] | tuple[None, Result]:
    """Turn a raw cell into the string handed to phonenumbers.

    Returns (key, None) or (None, (None, reason)) when the cell can be judged
    without phonenumbers. A key is '+digits' or 'digits' when the cell held
    only digits and separators (plus a leading ' or Excel's ="..."), otherwise
    the trimmed cell itself.
    """
    k = raw.translate(_STRIP_TABLE_X)
    if k.isascii():
        if k.isdigit():
            if k[:2] == "00":
                return "+" + k[2:], None
            return k, None
        if k[:1] == "+" and k[1:].isdigit():
            return k, None
    s = raw.strip()
    if "(" in s and _LABEL.search(s):  # "+91 98765 43210 (mobile)"
        s2 = _LABEL.sub(" ", s).strip()
        if s2 and s2 != s:
            return clean_key(s2)
    if s[:1] == "'":  # Excel users type '0987... to keep the leading zero
        s = s[1:].strip()
    if s[:2] == '="' and s[-1:] == '"':  # ="0987..." as some exports write it
        s = s[2:-1].strip()
    if s[:4].lower() == "tel:":
        return clean_key(s[4:]) if s[4:].strip() else (None, (None, "no phone number"))
    if not s:
        return None, (None, "no phone number")
    if _SCIENTIFIC.match(s):
        return None, (
            None,
            "number in scientific notation (Excel dropped its digits): "
            "format the column as text or number and export again",
        )
    if not _HAS_DIGIT.search(s):
        return None, (None, "no digits")
    return s, None


def _region_name(cc: int | None, fallback: str | None) -> str:
    reg = phonenumbers.region_code_for_country_code(cc) if cc is not None else None
    if reg in (None, "ZZ"):
        return fallback or f"+{cc}"
    if reg == "001":
        return f"+{cc}"
    return reg


_PARSE_REASONS = {
    NumberParseException.INVALID_COUNTRY_CODE: "unknown country code",
    NumberParseException.NOT_A_NUMBER: "not a phone number",
    NumberParseException.TOO_SHORT_AFTER_IDD: "too short",
    NumberParseException.TOO_SHORT_NSN: "too short",
    NumberParseException.TOO_LONG: "too long",
}


def time_zones(num: phonenumbers.PhoneNumber, ntype: int, e164: str) -> tuple[str, ...]:
    """phonenumbers' `timezone.time_zones_for_number(num)` for a number whose type is
    `ntype` (the same data and steps, without computing the type a second time)."""
    from phonenumbers.tzdata import TIMEZONE_DATA, TIMEZONE_LONGEST_PREFIX

    if ntype == PhoneNumberType.UNKNOWN:
        return (UNKNOWN_ZONE,)
    cc = num.country_code or 0
    digits = e164[1:] if is_number_type_geographical(ntype, cc) else str(cc)
    for n in range(min(TIMEZONE_LONGEST_PREFIX, len(digits)), 0, -1):
        found = TIMEZONE_DATA.get(digits[:n])
        if found is not None:
            return tuple(found)
    return (UNKNOWN_ZONE,)


def _slow(key: str, region: str | None, zones: Zones | None = None) -> Result:
    """The full phonenumbers path; also the source of every reason string."""
    try:
        num = phonenumbers.parse(key, region)
    except NumberParseException as e:
        if e.error_type == NumberParseException.INVALID_COUNTRY_CODE and region is None and not key.startswith("+"):
            return None, "no country code: write it as +<country code> or set a default region"
        return None, _PARSE_REASONS.get(e.error_type, "not a phone number")
    # A number is valid exactly when its type is known (phonenumbers' is_valid_number
    # computes the type and compares it with UNKNOWN); the type also gives its zones.
    ntype = phonenumbers.number_type(num)
    if ntype != PhoneNumberType.UNKNOWN:
        e164 = phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164)
        if zones is not None:
            zones[e164] = time_zones(num, ntype, e164)
        return e164, None
    reg = _region_name(num.country_code, region)
    why = phonenumbers.is_possible_number_with_reason(num)
    if why == ValidationResult.TOO_SHORT:
        return None, "too short"
    if why == ValidationResult.TOO_LONG:
        return None, "too long"
    if why == ValidationResult.INVALID_COUNTRY_CODE:
        return None, "unknown country code"
    if why == ValidationResult.IS_POSSIBLE_LOCAL_ONLY:
        return None, f"too short for region {reg} (area code missing?)"
    if why == ValidationResult.INVALID_LENGTH:
        return None, f"wrong number of digits for region {reg}"
    return None, f"not a valid number for region {reg}"


def _judge(key: str, region: str | None, zones: Zones | None = None) -> Result:
    res = _slow(key, region, zones)
    if res[0] is None and key.isdigit() and len(key) >= 11 and key[0] != "0":
        # Digits with the country code but no '+' (the wa.me form, or Excel
        # dropped the '+'): accept it when it is a valid international number.
        alt = _slow("+" + key, None, zones)
        if alt[0] is not None:
            return alt
    return res


def normalise_phone(raw: str | None, region: str | None) -> Result:
    """('+919876543210', None) or (None, 'too short').

    region is the default region (ISO code such as 'IN') used for numbers
    written without a country code; None accepts only international numbers.
    Raises ContactsError for an unknown region.
    """
    region = check_region(region)
    if raw is None:
        return None, "no phone number"
    cleaned = clean_key(str(raw))
    if cleaned[1] is not None:
        return cleaned[1]
    return _judge(cleaned[0], region)


def normalise_many(
    raws: Iterable[str],
    region: str | None,
    progress: Callable[[int, int], None] | None = None,
    zones: Zones | None = None,
) -> list[Result]:
    """normalise_phone() for every value, in order; identical cleaned numbers are asked
    once. progress(done, total) is called now and then. `zones`, when given, receives
    each valid number's time zones."""
    region = check_region(region)
    raws = [r if isinstance(r, str) else ("" if r is None else str(r)) for r in raws]
    total = len(raws)
    cache: dict[str, Result] = {}
    out: list[Result] = []
    append = out.append
    no_number: Result = (None, "no phone number")
    for i, raw in enumerate(raws):
        if not raw:
            append(no_number)
            continue
        cleaned = clean_key(raw)
        if cleaned[1] is not None:
            append(cleaned[1])
            continue
        key = cleaned[0]
        res = cache.get(key)
        if res is None:
            res = cache[key] = _judge(key, region, zones)
        append(res)
        if progress is not None and (i & 4095) == 4095:
            progress(i + 1, total)
    if progress is not None:
        progress(total, total)
    return out
