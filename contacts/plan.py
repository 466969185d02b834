"""plan_import: read a file, normalise, de-duplicate, drop opt-outs, render.

Every data row ends up in exactly one place: ``messages`` (to be queued),
``invalid``, ``duplicates``, ``opted_out`` or ``blank``.
"""

from __future__ import annotations

import os
import random
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypedDict

from .phones import UNKNOWN_ZONE, Zones, check_region, normalise_many, normalise_phone
from .readers import ContactTable, read_contacts
from .template import Template

MAX_MESSAGE_CHARS = 65_536  # WhatsApp's own limit for one message


class PlannedMessage(TypedDict):
    """A message to queue, as the store's create_job reads it (plus where it came from)."""

    phone: str  # E.164
    name: str
    columns: dict[str, str]  # the contact's row
    text: str  # rendered
    row: int  # spreadsheet row or vCard card number
    # The number's IANA time zones as phonenumbers gives them (("Etc/Unknown",): none
    # known); the import gives a number without one the job's zone.
    zones: tuple[str, ...]


@dataclass(frozen=True)
class RowProblem:
    """A data row that will not be sent, and why (invalid, duplicate, opted out, blank)."""

    row: int  # spreadsheet row (header = 1) or vCard card number
    raw: str  # the phone cell as written
    reason: str  # for humans: 'too short', 'duplicate of row 5', 'opted out', ...
    name: str = ""
    phone: str = ""  # the E.164 number when it is valid (opted out, duplicates)

    def to_dict(self) -> dict[str, str | int]:
        return {"row": self.row, "raw": self.raw, "reason": self.reason, "name": self.name, "phone": self.phone}

    def line(self, kind: str) -> str:
        """One line for people: 'row 7: invalid: '12345': too short'."""
        raw = self.raw if len(self.raw) <= 60 else self.raw[:59] + "…"
        return f"row {self.row}: {kind}: {raw!r}: {self.reason}"


@dataclass
class ImportPlan:
    """What an import would do, before anything is written: the messages to queue and
    every other row with why it is left out (the CLI prints it, the wizard shows it,
    `jobs.importing` turns it into a job)."""

    table: ContactTable
    template: str
    region: str | None
    messages: list[PlannedMessage] = field(default_factory=list)
    invalid: list[RowProblem] = field(default_factory=list)
    duplicates: list[RowProblem] = field(default_factory=list)
    opted_out: list[RowProblem] = field(default_factory=list)
    blank: list[RowProblem] = field(default_factory=list)
    total_rows: int = 0

    @property
    def path(self) -> Path:
        return self.table.path

    @property
    def format(self) -> str:
        return self.table.format

    @property
    def columns(self) -> list[str]:
        return self.table.columns

    @property
    def phone_column(self) -> str:
        return self.table.phone_column

    @property
    def name_columns(self) -> list[str]:
        return self.table.name_columns

    def problems(self) -> list[tuple[str, RowProblem]]:
        """Every row that will not be sent, with its kind, in file order (the CLI and the
        wizard list the same thing)."""
        kinds = [
            ("invalid", self.invalid),
            ("duplicate", self.duplicates),
            ("opted out", self.opted_out),
            ("blank", self.blank),
        ]
        return sorted(((kind, p) for kind, rows in kinds for p in rows), key=lambda kp: kp[1].row)

    def summary(self) -> dict[str, int]:
        return {
            "total_rows": self.total_rows,
            "queued": len(self.messages),
            "invalid": len(self.invalid),
            "duplicates": len(self.duplicates),
            "opted_out": len(self.opted_out),
            "blank": len(self.blank),
        }

    def to_dict(self, messages: bool = True) -> dict[str, Any]:
        """The plan as JSON (`import --dry-run --json`); Any: JSON values."""
        t = self.table
        d: dict[str, Any] = {
            "file": str(t.path),
            "format": t.format,
            "columns": t.columns,
            "phone_column": t.phone_column,
            "name_columns": t.name_columns,
            "encoding": t.encoding,
            "delimiter": t.delimiter,
            "sheet": t.sheet,
            "region": self.region,
            "template": self.template,
            "summary": self.summary(),
            "invalid": [p.to_dict() for p in self.invalid],
            "duplicates": [p.to_dict() for p in self.duplicates],
            "opted_out": [p.to_dict() for p in self.opted_out],
            "blank": [p.to_dict() for p in self.blank],
        }
        if messages:
            d["messages"] = self.messages
        return d


_MULTI_SEP = re.compile(r"\s*(?: ::: |[,;/\n]|\bor\b)\s*")
_DIGIT = re.compile(r"\d")
_MAYBE_MULTI = re.compile(r"[:,;/\n]|or")


def split_numbers(cell: str) -> list[str]:
    """Several numbers in one cell: Google's 'a ::: b', or 'a / b', 'a, b',
    'a; b', 'a or b', one per line. Split only when every part has 7+ digits
    ('0221/123456' is one German number)."""
    if " ::: " in cell:
        return [p.strip() for p in cell.split(" ::: ") if p.strip()] or [cell]
    parts = [p for p in _MULTI_SEP.split(cell) if p]
    if len(parts) > 1 and all(len(_DIGIT.findall(p)) >= 7 for p in parts):
        return parts
    return [cell]


def _expand_multi(table: ContactTable) -> None:
    """A cell with several numbers becomes one row per number (same row number)."""
    col = table.phone_column
    rows, nums = table.rows, table.row_numbers
    maybe = _MAYBE_MULTI.search
    hits = [i for i, r in enumerate(rows) if maybe(r.get(col, "")) and len(split_numbers(r.get(col, ""))) > 1]
    if not hits:
        return
    out_rows: list[dict[str, str]] = []
    out_nums: list[int] = []
    hit = set(hits)
    for i, (r, n) in enumerate(zip(rows, nums)):
        if i in hit:
            for part in split_numbers(r[col]):
                r2 = dict(r)
                r2[col] = part
                out_rows.append(r2)
                out_nums.append(n)
        else:
            out_rows.append(r)
            out_nums.append(n)
    table.rows, table.row_numbers = out_rows, out_nums


def plan_import(
    path: str | os.PathLike[str],
    template_text: str,
    region: str | None = "US",
    optouts: Iterable[str] = frozenset(),
    phone_column: str | None = None,
    seed: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ImportPlan:
    """Everything an import needs, computed before anything is written.

    Raises ContactsError (bad file, template, column or region) before any
    work is done on rows. progress(done_rows, total_rows) is called now and
    then.
    """
    region = check_region(region)
    template = Template(template_text)
    table = read_contacts(path, phone_column=phone_column)
    # a placeholder without a column is an error here, before any row work
    render = template.bind(table.columns, where=str(table.path), name_column=table.name_column)
    _expand_multi(table)

    rows, numbers = table.rows, table.row_numbers
    total = len(rows)
    pcol = table.phone_column
    where = "card" if table.format == "vcf" else "row"
    plan = ImportPlan(table=table, template=template.text, region=region, total_rows=total)
    if progress is not None:
        progress(0, total)

    blank_idx: set[int] = set()
    raws: list[str] = []
    for i, r in enumerate(rows):
        v = r.get(pcol, "")
        if not v and not any(r.values()):
            blank_idx.add(i)
        raws.append(v)

    norm_progress: Callable[[int, int], None] | None = None
    if progress is not None:
        report = progress

        # number parsing is most of the time: report it as 0..90 %
        def norm_progress(done: int, _total: int) -> None:
            report(int(done * 0.9), total)

    zones: Zones = {}
    results = normalise_many(raws, region, progress=norm_progress, zones=zones)
    no_zone = (UNKNOWN_ZONE,)

    opt = _normalise_optouts(optouts, region)
    rng = random.Random(seed)
    first_row: dict[str, int] = {}
    name_of = table.name_of
    messages, invalid, dups, opted, blank = (plan.messages, plan.invalid, plan.duplicates, plan.opted_out, plan.blank)
    step = max(1, total // 20)
    for i, r in enumerate(rows):
        num = numbers[i]
        raw = raws[i]
        if i in blank_idx:
            blank.append(RowProblem(num, "", "empty row"))
            continue
        result = results[i]
        if result[0] is None:
            invalid.append(RowProblem(num, raw, result[1], name_of(r)))
            continue
        e164 = result[0]
        if e164 in opt:
            opted.append(RowProblem(num, raw, "opted out", name_of(r), e164))
            continue
        first = first_row.get(e164)
        if first is not None:
            dups.append(RowProblem(num, raw, f"duplicate of {where} {first}", name_of(r), e164))
            continue
        first_row[e164] = num
        name = name_of(r)
        text = render(r, name, e164, rng).strip()
        if not text or len(text) > MAX_MESSAGE_CHARS:
            why = (
                "the message is empty for this row (the template's columns are empty)"
                if not text
                else f"the message is too long for WhatsApp ({len(text):,} characters; at most {MAX_MESSAGE_CHARS:,})"
            )
            invalid.append(RowProblem(num, raw, why, name, e164))
            del first_row[e164]
            continue
        messages.append(
            {"phone": e164, "name": name, "columns": r, "text": text, "row": num, "zones": zones.get(e164, no_zone)}
        )
        if progress is not None and i % step == 0:
            progress(int(total * 0.9 + i * 0.1), total)
    if progress is not None:
        progress(total, total)
    return plan


def _normalise_optouts(optouts: Iterable[str] | None, region: str | None) -> frozenset[str]:
    out: set[str] = set()
    for raw in optouts or ():
        o = str(raw).strip()
        if o.startswith("+") and o[1:].isdigit():
            out.add(o)
        else:
            e164, _ = normalise_phone(o, region)
            if e164:
                out.add(e164)
    return frozenset(out)
