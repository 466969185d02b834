"""normalise_phone / normalise_many."""

from __future__ import annotations

import random

import phonenumbers
import pytest

from contacts import ContactsError, normalise_many, normalise_phone


@pytest.mark.parametrize(
    "raw,region,want",
    [
        ("+91 98765 43210", "IN", "+919876543210"),
        ("+91-98765-43210", "US", "+919876543210"),
        ("0091 98765 43210", "IN", "+919876543210"),
        ("0091 98765 43210", "US", "+919876543210"),  # 00 means international anywhere
        ("98765 43210", "IN", "+919876543210"),
        ("098765 43210", "IN", "+919876543210"),  # trunk 0
        ("919876543210", "IN", "+919876543210"),  # country code without +
        ("'9876543210", "IN", "+919876543210"),  # Excel apostrophe
        ('="09876543210"', "IN", "+919876543210"),  # Excel formula-quoted
        ("(415) 555-0100", "US", "+14155550100"),
        ("415.555.0100", "us", "+14155550100"),
        ("+1 (415) 555-0100", None, "+14155550100"),
        ("07911 123456", "GB", "+447911123456"),
        ("+44 (0)7911 123456", "DE", "+447911123456"),
        ("0151 12345678", "DE", "+4915112345678"),
        ("+39 06 1234 5678", "IT", "+390612345678"),  # Italian leading zero kept
        ("tel:+1-415-555-0100", "US", "+14155550100"),
        ("447911123456", "US", "+447911123456"),  # wa.me form: valid only as international
        ("  +55 11 91234-5678 ", "BR", "+5511912345678"),
        ("+٩١ ٩٨٧٦٥ ٤٣٢١٠", "IN", "+919876543210"),  # Arabic-Indic digits
        ("+91 98765 43210 (mobile)", "US", "+919876543210"),  # a label in brackets
    ],
)
def test_valid(raw, region, want):
    assert normalise_phone(raw, region) == (want, None)


@pytest.mark.parametrize(
    "raw,region,reason",
    [
        ("", "IN", "no phone number"),
        ("   ", "IN", "no phone number"),
        ("call me", "IN", "no digits"),
        ("n/a", "US", "no digits"),
        ("12", "US", "too short"),
        ("+91 12345", "IN", "too short"),
        ("9.19877E+11", "IN", "scientific notation"),
        ("+999 123 4567", "US", "unknown country code"),
        ("98765432101234567890", "IN", "too long"),
        ("2025550123", None, "no country code"),
        ("555 0123", "US", "area code"),
        ("+1 123 456 7890", "US", "not a valid number for region US"),
        ("0123456789", "IN", "not a valid number for region IN"),
        ("+49 123 4567890", "IN", "not a valid number for region DE"),
    ],
)
def test_invalid_reasons(raw, region, reason):
    e164, why = normalise_phone(raw, region)
    assert e164 is None
    assert reason in why


def test_unknown_region():
    with pytest.raises(ContactsError, match="region 'XX'"):
        normalise_phone("123", "XX")


def _generated_keys(n_per_region=400, seed=7):
    rng = random.Random(seed)
    regions = [
        "IN",
        "US",
        "CA",
        "GB",
        "DE",
        "IT",
        "BR",
        "MX",
        "AR",
        "RU",
        "KZ",
        "CN",
        "FR",
        "NG",
        "AU",
        "ES",
        "ID",
        "PK",
        "AE",
        "ZA",
        "JP",
        "CH",
        "AT",
        "NL",
        "GG",
        "IM",
        "SM",
        "VA",
        "AG",
        "PR",
        None,
    ]
    out = []
    for region in regions:
        for _ in range(n_per_region):
            ex = None
            if region and rng.random() < 0.6:
                ex = phonenumbers.example_number_for_type(
                    region, rng.choice([phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE])
                )
            if ex is not None:
                nat = str(ex.national_number)
                nat = nat[:-3] + "".join(rng.choice("0123456789") for _ in range(3))
                key = rng.choice(
                    [f"+{ex.country_code}{nat}", f"0{nat}", nat, f"{ex.country_code}{nat}", nat[:-1], nat + "5"]
                )
            else:
                d = str(rng.randint(1, 9)) + "".join(rng.choice("0123456789") for _ in range(rng.randint(2, 15)))
                key = rng.choice(["+" + d, d, "0" + d])
            out.append((key, region))
    return out


def test_phonenumbers_is_the_only_judge():
    """Every clean digit string gets exactly phonenumbers' own verdict (parse + is_valid_number)."""
    valid = 0
    for key, region in _generated_keys():
        try:
            num = phonenumbers.parse(key, region)
            want = (
                phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164)
                if phonenumbers.is_valid_number(num)
                else None
            )
        except phonenumbers.NumberParseException:
            want = None
        got, _reason = normalise_phone(key, region)
        if want is not None:
            valid += 1
            assert got == want, (key, region)
        elif got is not None:  # only the wa.me form (country code without '+') may rescue it
            alt = phonenumbers.parse("+" + key, None)
            assert key.isdigit() and phonenumbers.is_valid_number(alt), (key, region, got)
            assert got == phonenumbers.format_number(alt, phonenumbers.PhoneNumberFormat.E164)
    assert valid > 2000


def test_normalise_many_matches_normalise_phone_both_ways():
    rng = random.Random(1)
    raws = []
    for key, region in _generated_keys(60, seed=3):
        if region != "IN":
            key = key if key.startswith("+") else "+" + key
        raws.append(rng.choice([key, f" {key} ", key.replace("+", "00"), f"'{key}", ""]))
    raws += ["n/a", "9.1E+11", "+91 98765 43210", "+91 98765 43210"]
    want = [normalise_phone(r, "IN") for r in raws]
    assert normalise_many(raws, "IN") == want


def test_normalise_many_progress_reaches_total():
    calls = []
    raws = [f"+1415555{i:04d}" for i in range(10000)]
    res = normalise_many(raws, "US", progress=lambda d, t: calls.append((d, t)))
    assert len(res) == 10000
    assert calls[-1] == (10000, 10000)
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)
