"""Reading contact files: CSV (any usual delimiter and encoding), XLSX, vCard."""

from __future__ import annotations

import csv
import datetime as _dt
import io
import os
import quopri
import re
import stat
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypedDict

from .columns import find_name_columns, find_phone_column, norm_name
from .errors import ContactsError

# -- the table -----------------------------------------------------------------


@dataclass
class ContactTable:
    """What a contact file holds, as strings.

    rows[i] maps every column to a stripped str ('' when empty); row_numbers[i]
    is where the user finds that row: the spreadsheet row (header is row 1) for
    CSV/XLSX, the card number (1 = first card) for vCard. Blank rows are kept.
    """

    path: Path
    format: str  # 'csv' | 'xlsx' | 'vcf'
    columns: list[str]
    rows: list[dict[str, str]]
    row_numbers: list[int]
    phone_column: str = ""
    name_columns: list[str] = field(default_factory=list)  # joined with ' '
    name_fallback: list[str] = field(default_factory=list)  # used when those are empty
    encoding: str | None = None  # text formats
    delimiter: str | None = None  # csv
    sheet: str | None = None  # xlsx
    has_header: bool = True

    @property
    def name_column(self) -> str | None:
        """The single display-name column, if the name is one column."""
        return self.name_columns[0] if len(self.name_columns) == 1 else None

    def name_of(self, row: Mapping[str, str]) -> str:
        """Display name of a row: Name / FN, or First (+Middle) + Last, or ''."""
        for cols in (self.name_columns, self.name_fallback):
            n = len(cols)
            if n == 1:
                name = row.get(cols[0], "")
            elif n == 2:
                a, b = row.get(cols[0], ""), row.get(cols[1], "")
                name = a + " " + b if a and b else a or b
            elif n:
                name = " ".join([v for v in [row.get(c, "") for c in cols] if v])
            else:
                continue
            if name:
                return name
        return ""


# -- entry point ------------------------------------------------------------------

# (signature, what it is, also refused when the extension says text?)
_MAGIC = [
    (b"\x89PNG", "a PNG image", True),
    (b"\xff\xd8\xff", "a JPEG image", True),
    (b"GIF8", "a GIF image", True),
    (b"%PDF", "a PDF document", True),
    (b"\x1f\x8b", "a gzip archive", True),
    (b"Rar!\x1a", "a RAR archive", True),
    (b"7z\xbc\xaf", "a 7-Zip archive", True),
    (b"\x7fELF", "a program", True),
    (b"{\\rtf", "an RTF document (save it as CSV)", True),
    (b"SQLite format 3\x00", "an SQLite database", True),
    (b"MZ", "a Windows program", False),
    (b"BM", "a bitmap image", False),
    (b"RIFF", "a media file", False),
]
MAX_FILE_BYTES = 200 * 1024 * 1024  # a contact file; millions of rows fit
_TEXT_EXT = {".csv", ".txt", ".tsv", ".tab", ".psv", ""}
_XLSX_EXT = {".xlsx", ".xlsm", ".xltx", ".xltm"}
_VCF_EXT = {".vcf", ".vcard"}


def read_contacts(path: str | os.PathLike[str], phone_column: str | None = None) -> ContactTable:
    """Read a CSV / XLSX / vCard file and pick its phone and name columns.

    Raises ContactsError (one line naming the file) for anything the user must fix.
    """
    p = Path(path)
    try:
        st = p.stat()
        # Only a regular file: a FIFO would hang the read, /dev/zero would never end.
        if stat.S_ISDIR(st.st_mode):
            raise ContactsError(f"{p}: is a directory, not a contact file")
        if not stat.S_ISREG(st.st_mode):
            raise ContactsError(f"{p}: is not a regular file (a pipe or a device), not a contact file")
        if st.st_size > MAX_FILE_BYTES:
            raise ContactsError(
                f"{p}: too big for a contact file ({st.st_size:,} bytes; at most "
                f"{MAX_FILE_BYTES:,}): split it into several files"
            )
        with open(p, "rb") as fh:
            data = fh.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise ContactsError(f"{p}: file not found") from None
    except PermissionError:
        raise ContactsError(f"{p}: permission denied") from None
    except OSError as e:
        raise ContactsError(f"{p}: cannot read ({e.strerror or e})") from None
    if len(data) > MAX_FILE_BYTES:  # it grew while we read it
        raise ContactsError(f"{p}: too big for a contact file (more than {MAX_FILE_BYTES:,} bytes)")
    if not data:
        raise ContactsError(f"{p}: file is empty (0 bytes)")
    ext = p.suffix.lower()

    if data[:4] == b"PK\x03\x04" or ext in _XLSX_EXT:
        if data[:4] != b"PK\x03\x04":
            hint = (
                "an old Excel .xls file: save it as .xlsx or CSV"
                if data[:4] == b"\xd0\xcf\x11\xe0"
                else "not a zip archive"
            )
            raise ContactsError(f"{p}: not a valid .xlsx file ({hint})")
        table = _read_xlsx(p, data)
    elif data[:4] == b"\xd0\xcf\x11\xe0":
        raise ContactsError(
            f"{p}: this is an old Excel .xls (or other Office) file; save it as .xlsx or CSV and import that"
        )
    else:
        for magic, what, strong in _MAGIC:
            if data.startswith(magic) and (strong or ext not in _TEXT_EXT | _VCF_EXT):
                raise ContactsError(f"{p}: not a contact file (looks like {what}); use CSV, XLSX or vCard (.vcf)")
        text, encoding = decode_text(p, data)
        head = text.lstrip("\ufeff \t\r\n")[:11].upper()
        if head.startswith("BEGIN:VCARD"):
            table = _read_vcf(p, text)
        elif ext in _VCF_EXT:
            raise ContactsError(f"{p}: not a vCard file (no BEGIN:VCARD at the start)")
        elif ext not in _TEXT_EXT:
            raise ContactsError(f"{p}: unknown file type {ext!r}; use CSV, XLSX or vCard (.vcf)")
        else:
            table = _read_csv(p, text)
        table.encoding = encoding

    if not any(any(r.values()) for r in table.rows):
        what = "no contact cards" if table.format == "vcf" else "a header row but no data rows"
        raise ContactsError(f"{p}: {what}")
    table.phone_column = find_phone_column(table, phone_column)
    table.name_columns, table.name_fallback = find_name_columns(table.columns, table.phone_column)
    return table


# -- text decoding ----------------------------------------------------------------


def decode_text(p: Path, data: bytes) -> tuple[str, str]:
    """Bytes → str: BOMs, UTF-16 without BOM, strict UTF-8, then charset-normalizer."""
    if data.startswith(b"\xef\xbb\xbf"):
        enc = "utf-8-sig"
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        enc = "utf-16"
    else:
        enc = None
        sample = data[:4096]
        if b"\x00" in sample:
            even, odd = sample[0::2], sample[1::2]
            if odd.count(0) > 0.4 * len(odd) and even.count(0) < 0.05 * len(even):
                enc = "utf-16-le"
            elif even.count(0) > 0.4 * len(even) and odd.count(0) < 0.05 * len(odd):
                enc = "utf-16-be"
            else:
                raise ContactsError(f"{p}: not a contact file (binary data); use CSV, XLSX or vCard (.vcf)")
    if enc is not None:
        try:
            text = data.decode(enc)
        except UnicodeDecodeError:
            raise ContactsError(f"{p}: cannot read the text: broken {enc.upper()} encoding") from None
        return _check_text(p, text), enc
    try:
        return _check_text(p, data.decode("utf-8")), "utf-8"
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    matches = from_bytes(data[:200_000] if len(data) > 200_000 else data)
    candidates = [m.encoding for m in matches]
    # Spreadsheets on Windows write cp1252. Short files fool the detector into
    # cp775, cp1250, mac_roman...: when its guess reads as Latin letters and
    # cp1252 decodes the bytes too, take cp1252.
    if "cp1252" not in candidates[:1]:
        try:
            data.decode("cp1252")
            cp1252_ok = True
        except UnicodeDecodeError:
            cp1252_ok = False
        if cp1252_ok and (not candidates or _latin_only(data, candidates[0])):
            candidates.insert(0, "cp1252")
    for enc in candidates:
        try:
            text = data.decode(enc)
        except (UnicodeDecodeError, LookupError):
            continue
        if _too_many_controls(text):
            continue
        return text, enc
    raise ContactsError(f"{p}: cannot tell the text encoding; save the file as UTF-8 CSV and try again")


def _latin_only(data: bytes, enc: str) -> bool:
    try:
        text = data.decode(enc)
    except (UnicodeDecodeError, LookupError):
        return True
    for ch in set(text):
        if ord(ch) > 127 and ch.isalpha() and not unicodedata.name(ch, "").startswith("LATIN"):
            return False
    return True


_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f\ufffd]")


def _too_many_controls(text: str) -> bool:
    sample = text[:20000]
    return bool(sample) and len(_CONTROL.findall(sample)) > max(2, len(sample) // 200)


def _check_text(p: Path, text: str) -> str:
    if _too_many_controls(text):
        raise ContactsError(f"{p}: not a contact file (binary data); use CSV, XLSX or vCard (.vcf)")
    return text


# -- header / rows -------------------------------------------------------------------

_PHONEISH = re.compile(r"^[+'(]?[\d][\d \-.()/]{5,}$")


def _make_columns(header: list[str]) -> list[str]:
    cols: list[str] = []
    seen: dict[str, int] = {}
    for i, h in enumerate(header):
        name = " ".join(str(h).replace("\ufeff", "").split()) or f"Column {i + 1}"
        key = norm_name(name)
        if key in seen:
            seen[key] += 1
            name = f"{name} ({seen[key]})"
            key = norm_name(name)
        seen[key] = 1
        cols.append(name)
    return cols


def _looks_headerless(cells: list[str]) -> bool:
    """A first row holding a phone number is data, not a header: column names
    never look like phone numbers."""
    return any(_PHONEISH.match(c) and sum(ch.isdigit() for ch in c) >= 7 for c in cells if c)


def _build(p: Path, fmt: str, records: Iterable[tuple[int, list[str]]], first_number: int = 1) -> ContactTable:
    """records: iterable of (row_number, list_of_str_cells) in file order."""
    it = iter(records)
    header: tuple[int, list[str]] | None = None
    for num, cells in it:
        if any(cells):
            header = (num, cells)
            break
    if header is None:
        raise ContactsError(f"{p}: no data (only empty rows)")
    hnum, hcells = header
    rows: list[dict[str, str]] = []
    numbers: list[int] = []
    headerless = _looks_headerless(hcells)
    if headerless:
        columns = [f"Column {i + 1}" for i in range(len(hcells))]
        pending = [(hnum, hcells)]
    else:
        columns = _make_columns(hcells)
        pending = []
    ncol = len(columns)
    empty = [""] * ncol

    for num, cells in pending:
        rows.append(dict(zip(columns, cells + empty[len(cells) :])))
        numbers.append(num)
    for num, cells in it:
        if len(cells) < ncol:
            cells = cells + empty[len(cells) :]
        rows.append(dict(zip(columns, cells)))
        numbers.append(num)
    if not rows:
        # The reason last: a long header is cut from the middle of the line (common/errors.py).
        raise ContactsError(f"{p} (header: {', '.join(columns)}): header only, no data rows")
    t = ContactTable(path=p, format=fmt, columns=columns, rows=rows, row_numbers=numbers)
    t.has_header = not headerless
    return t


# -- CSV ----------------------------------------------------------------------------

_DELIMS = [",", ";", "\t", "|"]


def sniff_delimiter(text: str) -> str:
    """The delimiter of a CSV text: the one that splits the first lines into the most
    consistent number of columns (more than one column first); ',' when none does."""
    lines = []
    pos = 0
    for _ in range(60):
        nl = text.find("\n", pos)
        if nl < 0:
            lines.append(text[pos:])
            break
        lines.append(text[pos : nl + 1])
        pos = nl + 1
    sample = "".join(lines)
    best, best_score = ",", None
    for d in _DELIMS:
        try:
            counts = [len(r) for r in csv.reader(io.StringIO(sample, newline=""), delimiter=d) if any(r)]
        except csv.Error:
            continue
        if not counts:
            continue
        head = counts[0]
        same = sum(1 for c in counts if c == head) / len(counts)
        score = (head > 1, same >= 0.8, same, head)
        if best_score is None or score > best_score:
            best, best_score = d, score
    return best


def _read_csv(p: Path, text: str) -> ContactTable:
    """A CSV text (Excel's `sep=` hint line honoured, else the sniffed delimiter) as a table."""
    if text.startswith("\ufeff"):
        text = text[1:]
    skip = 0
    m = re.match(r"sep=(.)[ \t]*(\r\n|\n|\r)", text[:10], re.IGNORECASE)
    if m:  # Excel's "sep=;" hint line; Excel doesn't show it as a row
        delim = m.group(1)
        text = text[m.end() :]
    else:
        delim = sniff_delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delim)

    def records() -> Iterator[tuple[int, list[str]]]:
        num = skip
        try:
            for cells in reader:
                num += 1
                yield num, [c.strip() for c in cells]
        except csv.Error as e:
            raise ContactsError(f"{p}: row {num + 1}: cannot read the CSV ({e})") from None

    t = _build(p, "csv", records())
    t.delimiter = delim
    return t


# -- XLSX ---------------------------------------------------------------------------


def cell_text(v: object) -> str:
    """A cell value as the user sees it; integral floats lose their '.0'."""
    if v is None:
        return ""
    if isinstance(v, str):
        return v.strip()
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if v.is_integer() and abs(v) < 1e17:
            return str(int(v))
        return repr(v)
    if isinstance(v, _dt.datetime):
        return v.date().isoformat() if v.time() == _dt.time() else v.isoformat(sep=" ")
    if isinstance(v, (_dt.date, _dt.time)):
        return v.isoformat()
    return str(v).strip()


def _read_xlsx(p: Path, data: bytes) -> ContactTable:
    """The first visible sheet with data (then hidden ones) of a workbook, as a table."""
    # calamine (Rust) reads a 100,000-row sheet about 15 times faster than openpyxl.
    from python_calamine import CalamineError, CalamineWorkbook, SheetVisibleEnum

    try:
        wb = CalamineWorkbook.from_filelike(io.BytesIO(data))
    except Exception as e:  # CalamineError, zip and XML errors of damaged parts
        detail = f": {e}" if isinstance(e, CalamineError) else ""
        raise ContactsError(f"{p}: broken or unsupported Excel file ({type(e).__name__}{detail})") from None
    try:
        visible = [m.name for m in wb.sheets_metadata if m.visible == SheetVisibleEnum.Visible]
        order = visible + [n for n in wb.sheet_names if n not in visible]
        for name in order:
            try:
                rows = wb.get_sheet_by_name(name).to_python(skip_empty_area=False)
            except Exception as e:
                raise ContactsError(f"{p}: broken Excel sheet {name!r} ({type(e).__name__})") from None
            records = [(i, [cell_text(v) for v in row]) for i, row in enumerate(rows, start=1)]
            while records and not any(records[-1][1]):
                records.pop()  # trailing formatted-but-empty rows are not data
            if records:
                width = max(
                    (max((j + 1 for j, c in enumerate(cells) if c), default=0) for _, cells in records), default=0
                )
                records = [(i, cells[:width]) for i, cells in records]
                t = _build(p, "xlsx", records)
                t.sheet = name
                return t
        raise ContactsError(f"{p}: the workbook has no data (all sheets are empty)")
    finally:
        wb.close()


# -- vCard --------------------------------------------------------------------------

VCF_COLUMNS = ["Name", "Phone", "Type", "Organization", "Email"]
_VCF_ESC = re.compile(r"\\(.)")


def _vcf_unescape(v: str) -> str:
    return _VCF_ESC.sub(lambda m: "\n" if m.group(1) in "nN" else m.group(1), v)


def _vcf_lines(text: str) -> list[str]:
    """Unfolded content lines (RFC 6350 folding and quoted-printable soft breaks)."""
    raw = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    out: list[str] = []
    for line in raw:
        if line[:1] in (" ", "\t") and out:
            out[-1] += line[1:]
        elif out and out[-1].endswith("=") and "QUOTED-PRINTABLE" in out[-1].split(":", 1)[0].upper():
            out[-1] = out[-1][:-1] + line
        else:
            out.append(line)
    return out


def _vcf_prop(line: str) -> tuple[str, dict[str, list[str]], str] | None:
    """A content line as (property name, parameters, value), quoted-printable decoded;
    None for a line that is no property."""
    if ":" not in line:
        return None
    head, value = line.split(":", 1)
    parts = head.split(";")
    name = parts[0].split(".")[-1].strip().upper()  # item1.TEL → TEL
    params: dict[str, list[str]] = {}
    for prm in parts[1:]:
        if "=" in prm:
            k, v = prm.split("=", 1)
            params.setdefault(k.strip().upper(), []).extend(x.strip('"').lower() for x in v.split(","))
        elif prm.strip():
            params.setdefault("TYPE", []).append(prm.strip().lower())  # vCard 2.1: TEL;CELL:
    if "QUOTED-PRINTABLE" in [x.upper() for x in params.get("ENCODING", [])] or "quoted-printable" in params.get(
        "TYPE", []
    ):
        charset = (params.get("CHARSET") or ["utf-8"])[0]
        try:
            value = quopri.decodestring(value.encode("latin-1", "replace")).decode(charset, "replace")
        except LookupError:
            value = quopri.decodestring(value.encode("latin-1", "replace")).decode("utf-8", "replace")
    return name, params, value


class _Card(TypedDict):
    """One vCard being read: its names, organisation, first e-mail and every number."""

    fn: str
    n: str
    org: str
    email: str
    tels: list[tuple[str, str]]  # (number, its types joined with ",")


def _read_vcf(p: Path, text: str) -> ContactTable:
    """A vCard file as a table: one row per phone number of each card (a card without
    a number is one row with an empty phone, reported later)."""
    rows: list[dict[str, str]] = []
    numbers: list[int] = []
    card = 0
    cur: _Card | None = None
    for line in _vcf_lines(text.lstrip("\ufeff")):
        if not line.strip():
            continue
        prop = _vcf_prop(line)
        if prop is None:
            continue
        name, params, value = prop
        if name == "BEGIN" and value.strip().upper() == "VCARD":
            card += 1
            cur = {"fn": "", "n": "", "org": "", "email": "", "tels": []}
        elif cur is None:
            continue
        elif name == "END" and value.strip().upper() == "VCARD":
            _emit_card(cur, card, rows, numbers)
            cur = None
        elif name == "FN":
            cur["fn"] = _vcf_unescape(value).strip()
        elif name == "N":
            parts = [_vcf_unescape(x).strip() for x in re.split(r"(?<!\\);", value)]
            parts += [""] * (5 - len(parts))
            family, given, middle, prefix, suffix = parts[:5]
            cur["n"] = " ".join(x for x in (prefix, given, middle, family, suffix) if x)
        elif name == "ORG":
            cur["org"] = " ".join(x.strip() for x in re.split(r"(?<!\\);", _vcf_unescape_keep(value)) if x.strip())
        elif name == "EMAIL" and not cur["email"]:
            cur["email"] = _vcf_unescape(value).strip()
        elif name == "TEL":
            v = value.strip()
            if v.lower().startswith("tel:"):
                v = v[4:]
            types = [t for t in params.get("TYPE", []) if t not in ("voice", "pref", "internet")]
            cur["tels"].append((v.strip(), ",".join(types)))
    if cur is not None:  # file ends without END:VCARD
        _emit_card(cur, card, rows, numbers)
    if not rows:
        raise ContactsError(f"{p}: no contact cards (BEGIN:VCARD … END:VCARD) found")
    return ContactTable(
        path=p, format="vcf", columns=list(VCF_COLUMNS), rows=rows, row_numbers=numbers, phone_column="Phone"
    )


def _vcf_unescape_keep(v: str) -> str:
    return v.replace("\\,", ",").replace("\\n", " ").replace("\\N", " ")


def _emit_card(cur: _Card, card: int, rows: list[dict[str, str]], numbers: list[int]) -> None:
    name = cur["fn"] or cur["n"]
    tels = cur["tels"] or [("", "")]
    for tel, typ in tels:
        rows.append({"Name": name, "Phone": tel, "Type": typ, "Organization": cur["org"], "Email": cur["email"]})
        numbers.append(card)
