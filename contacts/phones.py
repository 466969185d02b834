"""Normalising phone numbers to E.164 with `phonenumbers`.

``normalise_phone(raw, region)`` is the reference: it cleans what people type
(spaces, dashes, dots, brackets, a leading ``'``, Excel's ``="..."``, ``00``
instead of ``+``) and asks phonenumbers.

``normalise_many(raws, region)`` gives the same answers for a whole column, fast:
identical cleaned numbers are looked up once, clean digit strings go through a
shortcut that calls phonenumbers' own metadata and helpers without its generic
string handling (any case the shortcut is not sure about goes the full way), and
above a threshold the work is split with one forked worker process.
"""
from __future__ import annotations

import multiprocessing
import os
import re
import sys
from typing import Callable, Iterable, Sequence

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumber, ValidationResult

from .errors import ContactsError

Result = tuple  # (e164 | None, reason | None)

# Characters people put between digits. Removed before parsing.
_SEPARATORS = " \t\u00a0\u2007\u202f-\u2010\u2011\u2012\u2013\u2014\u2212.()[]/\\\u200e\u200f\u202a\u202b\u202c\u202d\u202e\ufeff"
_STRIP_TABLE = str.maketrans("", "", _SEPARATORS)
_SCIENTIFIC = re.compile(r"^[0-9](?:[.,][0-9]+)?[eE]\+?[0-9]+$")
_HAS_DIGIT = re.compile(r"\d")
_LABEL = re.compile(r"\([^()]*[^\W\d_][^()]*\)")  # a bracketed word such as (home)

PARALLEL_THRESHOLD = 20_000  # values before a worker process is worth it


def check_region(region: str | None) -> str | None:
    """Upper-cased region, or ContactsError if phonenumbers doesn't know it."""
    if region is None or region == "":
        return None
    reg = str(region).strip().upper()
    if reg not in phonenumbers.SUPPORTED_REGIONS:
        raise ContactsError(
            f"unknown default region {region!r}: use a two-letter country code such as US, IN, GB, DE"
        )
    return reg


_STRIP_TABLE_X = str.maketrans("", "", _SEPARATORS + "'\"=")


def clean_key(raw: str) -> tuple[str | None, Result | None]:
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
        return None, (None, "number in scientific notation (Excel dropped its digits): "
                            "format the column as text or number and export again")
    if not _HAS_DIGIT.search(s):
        return None, (None, "no digits")
    return s, None


def _region_name(cc: int, fallback: str | None) -> str:
    reg = phonenumbers.region_code_for_country_code(cc)
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


def _slow(key: str, region: str | None) -> Result:
    """The full phonenumbers path; also the source of every reason string."""
    try:
        num = phonenumbers.parse(key, region)
    except NumberParseException as e:
        if (e.error_type == NumberParseException.INVALID_COUNTRY_CODE
                and region is None and not key.startswith("+")):
            return None, "no country code: write it as +<country code> or set a default region"
        return None, _PARSE_REASONS.get(e.error_type, "not a phone number")
    if phonenumbers.is_valid_number(num):
        return phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164), None
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


# ---------------------------------------------------------------------------
# Shortcut for clean digit strings. It mirrors phonenumbers.parse() followed by
# is_valid_number() step by step (same metadata, same helper functions), and
# only ever answers "valid, here is the E.164"; anything else returns None and
# the caller takes the full path, which also writes the reason. A test compares
# it with the full path on many generated numbers of many regions.

_BAD_LENGTH = (ValidationResult.TOO_SHORT, ValidationResult.IS_POSSIBLE_LOCAL_ONLY,
               ValidationResult.INVALID_LENGTH)
_TOO_SHORT, _LOCAL_ONLY, _INVALID_LENGTH, _TOO_LONG, _POSSIBLE = (
    ValidationResult.TOO_SHORT, ValidationResult.IS_POSSIBLE_LOCAL_ONLY,
    ValidationResult.INVALID_LENGTH, ValidationResult.TOO_LONG, ValidationResult.IS_POSSIBLE)
_CC_TO_REGIONS = phonenumbers.COUNTRY_CODE_TO_REGION_CODE
_CC_STR = {str(cc): cc for cc in _CC_TO_REGIONS}
_meta_for = phonenumbers.PhoneMetadata.metadata_for_region_or_calling_code


def _never(_s):
    return None


class _Ctx:
    """What the shortcut needs of one PhoneMetadata, compiled once."""
    __slots__ = ("cc", "ccs", "main_region", "gfull", "lengths", "local", "npp", "transform",
                 "single", "types")

    def __init__(self, meta):
        gd = meta.general_desc
        self.cc = meta.country_code
        self.ccs = str(meta.country_code)
        self.main_region = phonenumbers.region_code_for_country_code(meta.country_code)
        self.gfull = (re.compile(gd.national_number_pattern).fullmatch
                      if gd is not None and gd.national_number_pattern else _never)
        self.lengths = tuple(gd.possible_length) if gd is not None else ()
        self.local = frozenset(gd.possible_length_local_only or ()) if gd is not None else frozenset()
        npp = meta.national_prefix_for_parsing
        self.npp = re.compile(npp) if npp else None
        self.transform = meta.national_prefix_transform_rule or None
        self.single = len(_CC_TO_REGIONS.get(meta.country_code, ())) == 1
        # _number_type_helper(...) != UNKNOWN is: general desc matches and any
        # type desc matches. Mobile and fixed line first (the usual answers).
        types = []
        for desc in (meta.mobile, meta.fixed_line, meta.toll_free, meta.premium_rate,
                     meta.shared_cost, meta.voip, meta.personal_number, meta.pager, meta.uan,
                     meta.voicemail):
            if desc is not None and desc.national_number_pattern:
                types.append((frozenset(desc.possible_length or ()),
                              re.compile(desc.national_number_pattern).fullmatch))
        self.types = tuple(types)


_cc_ctx_cache: dict[int, _Ctx | None] = {}
_reg_ctx_cache: dict[str, tuple | None] = {}


def _cc_ctx(cc: int) -> _Ctx | None:
    try:
        return _cc_ctx_cache[cc]
    except KeyError:
        meta = _meta_for(cc, phonenumbers.region_code_for_country_code(cc))
        ctx = _Ctx(meta) if meta is not None else None
        if ctx is not None and not ctx.lengths:
            ctx = None
        _cc_ctx_cache[cc] = ctx
        return ctx


def _reg_ctx(region: str):
    try:
        return _reg_ctx_cache[region]
    except KeyError:
        meta = _meta_for(0, region)
        entry = None
        if meta is not None:
            ctx = _Ctx(meta)
            if ctx.lengths:
                idd = re.compile(meta.international_prefix) if meta.international_prefix else None
                entry = (ctx, idd)
        _reg_ctx_cache[region] = entry
        return entry


def _strip_np(number: str, ctx: _Ctx) -> str:
    """phonenumbers' _maybe_strip_national_prefix_carrier_code(number, meta)[1]."""
    pat = ctx.npp
    if pat is None or not number:
        return number
    m = pat.match(number)
    if not m:
        return number
    gfull = ctx.gfull
    viable = gfull(number) is not None
    groups = m.groups()
    if ctx.transform is None or groups[len(groups) - 1] is None:
        after = number[m.end():]
    else:
        after = pat.sub(ctx.transform, number, count=1)
    if viable and gfull(after) is None:
        return number
    return after


def _len_check(number: str, ctx: _Ctx):
    """phonenumbers' _test_number_length(number, meta) for the UNKNOWN type."""
    lengths = ctx.lengths
    n = len(number)
    if n in ctx.local:
        return _LOCAL_ONLY
    mn = lengths[0]
    if mn == n:
        return _POSSIBLE
    if mn > n:
        return _TOO_SHORT
    if lengths[-1] < n:
        return _TOO_LONG
    return _POSSIBLE if n in lengths[1:] else _INVALID_LENGTH


def _fast(key: str, region: str | None) -> str | None:
    if key[0] == "+":
        d = key[1:]
        if len(d) <= 2 or d[0] == "0":
            return None
        cc = _CC_STR.get(d[:1]) or _CC_STR.get(d[:2]) or _CC_STR.get(d[:3])
        if not cc:
            return None
        ctx = _cc_ctx(cc)
        if ctx is None:
            return None
        nn = d[len(ctx.ccs):]
    else:
        if region is None or len(key) < 2:
            return None
        entry = _reg_ctx(region)
        if entry is None:
            return None
        ctx, idd = entry
        if idd is not None and idd.match(key):
            return None
        nn = key
        ccs = ctx.ccs
        if key.startswith(ccs):
            pot = _strip_np(key[len(ccs):], ctx)
            gfull = ctx.gfull
            if ((gfull(key) is None and gfull(pot) is not None)
                    or _len_check(key, ctx) == _TOO_LONG):
                nn = pot
                if ctx.main_region != region:
                    ctx = _cc_ctx(ctx.cc)
                    if ctx is None:
                        return None
        cc = ctx.cc
    if len(nn) < 2:
        return None
    pot = _strip_np(nn, ctx)
    if _len_check(pot, ctx) not in _BAD_LENGTH:
        nn = pot
    n = len(nn)
    if n < 2 or n > 17 or nn[0] == "0":
        return None
    vctx = _cc_ctx(cc)
    if vctx is None:
        return None
    if vctx.single:
        gfull = vctx.gfull
        if (n not in vctx.lengths) or gfull(nn) is None:
            return None
        for lengths, fullmatch in vctx.types:
            if (not lengths or n in lengths) and fullmatch(nn) is not None:
                return "+" + vctx.ccs + nn
        return None
    if phonenumbers.is_valid_number(PhoneNumber(country_code=cc, national_number=int(nn))):
        return "+" + vctx.ccs + nn
    return None


def _judge(key: str, region: str | None) -> Result:
    if key.isascii() and (key.isdigit() or (key[:1] == "+" and key[1:].isdigit())):
        try:
            e164 = _fast(key, region)
        except Exception:  # pragma: no cover - a phonenumbers internals change
            e164 = None
        if e164 is not None:
            return e164, None
    res = _slow(key, region)
    if (res[0] is None and key.isdigit() and len(key) >= 11 and key[0] != "0"):
        # Digits with the country code but no '+' (the wa.me form, or Excel
        # dropped the '+'): accept it when it is a valid international number.
        alt = _slow("+" + key, None)
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
    key, early = clean_key(str(raw))
    if early is not None:
        return early
    return _judge(key, region)


def _chunk(raws: Sequence[str], region: str | None,
           tick: Callable[[int], None] | None = None) -> list[Result]:
    """Clean and judge a list of raw cells; identical cleaned numbers once."""
    cache: dict[str, Result] = {}
    out: list[Result] = []
    append = out.append
    no_number = (None, "no phone number")
    for i, raw in enumerate(raws):
        if not raw:
            append(no_number)
            continue
        key, early = clean_key(raw)
        if early is not None:
            append(early)
            continue
        res = cache.get(key)
        if res is None:
            res = cache[key] = _judge(key, region)
        append(res)
        if tick is not None and (i & 4095) == 4095:
            tick(i + 1)
    return out


def _child(conn, raws, region):  # runs in the forked process
    try:
        conn.send(_chunk(raws, region))
    except BaseException as e:  # pragma: no cover
        try:
            conn.send(e)
        except Exception:
            pass
    finally:
        conn.close()


def _idle_cpu() -> bool:
    """2+ CPUs and, on average over the last minute, one of them idle (a
    helper process on a CPU that Chromium already uses only adds overhead)."""
    n = os.cpu_count() or 1
    if n < 2:
        return False
    try:
        return os.getloadavg()[0] <= n - 1
    except OSError:  # pragma: no cover
        return True


def _can_fork() -> bool:
    return sys.platform.startswith("linux") and "fork" in multiprocessing.get_all_start_methods()


def normalise_many(raws: Iterable[str], region: str | None, workers: int | None = None,
                   progress: Callable[[int, int], None] | None = None) -> list[Result]:
    """normalise_phone() for every value, in order; same answers, much faster.

    workers: None = automatic (a second, forked process for the second half
    of the values from PARALLEL_THRESHOLD values on, on Linux, when a CPU is
    idle), 2 = always split on Linux, 1 = this process only. progress(done, total) is
    called now and then.
    """
    region = check_region(region)
    raws = [r if isinstance(r, str) else ("" if r is None else str(r)) for r in raws]
    total = len(raws)
    if workers is None:
        workers = 2 if (total >= PARALLEL_THRESHOLD and _idle_cpu()) else 1

    def tick(factor: int):
        if progress is None:
            return None
        return lambda done: progress(min(total, done * factor), total)

    out = None
    if workers >= 2 and total >= 2 and _can_fork():
        out = _split(raws, region, tick(2))
    if out is None:
        out = _chunk(raws, region, tick(1))
    if progress is not None:
        progress(total, total)
    return out


def _split(raws: list[str], region: str | None,
           tick: Callable[[int], None] | None) -> list[Result] | None:
    """Second half in a forked child, first half here. None if forking failed;
    if the child fails later, this process does its half too."""
    half = len(raws) // 2
    first, second = raws[:half], raws[half:]
    _judge("+14155550100", None)  # load common metadata before forking (shared pages)
    try:
        ctx = multiprocessing.get_context("fork")
        recv_conn, send_conn = ctx.Pipe(duplex=False)
        proc = ctx.Process(target=_child, args=(send_conn, second, region), daemon=True)
        proc.start()
    except Exception:
        return None
    send_conn.close()
    try:
        mine = _chunk(first, region, tick)
        theirs = None
        try:
            # the child needs about as long as we did; be generous, then give up on it
            if recv_conn.poll(300):
                theirs = recv_conn.recv()
        except (EOFError, OSError):
            theirs = None
        if not isinstance(theirs, list) or len(theirs) != len(second):
            theirs = _chunk(second, region)
        return mine + theirs
    finally:
        recv_conn.close()
        proc.join(timeout=5)
        if proc.is_alive():  # pragma: no cover
            proc.kill()
            proc.join()
