"""What a request brings in: a contact file (or a JSON list of contacts, written as a CSV
so that the very same reader checks it) in a private temporary folder, and an
attachment kept under `[api] upload_dir` for the worker. Error lines name the uploaded
file's own name, never the temporary path."""

from __future__ import annotations

import csv
import re
import shutil
import tempfile
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from common import safefiles

from .errors import ApiError

CONTACT_SUFFIXES = (".csv", ".txt", ".tsv", ".xlsx", ".vcf")
MAX_CONTACTS_JSON = 1_000_000  # rows in a JSON list
_UNSAFE = re.compile(r"[^A-Za-z0-9._ -]+")


def safe_name(filename: str | None, default: str) -> str:
    name = Path((filename or "").replace("\\", "/")).name
    name = _UNSAFE.sub("_", name).strip(" .")[:120]
    return name or default


@contextmanager
def workspace() -> Iterator[Path]:
    """A private temporary folder, removed afterwards whatever happens."""
    root = Path(tempfile.mkdtemp(prefix="wa-api-"))
    try:
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


def hide(text: str, root: Path) -> str:
    """An error line without the temporary folder (the caller knows its file by name)."""
    return text.replace(str(root) + "/", "")


def copy_upload(src: Any, dest: Path, *, max_bytes: int, what: str) -> int:
    """Copy an uploaded file (a file object) to `dest`, at most `max_bytes`."""
    n = 0
    with open(dest, "wb") as out:
        while True:
            chunk = src.read(1024 * 1024)
            if not chunk:
                break
            n += len(chunk)
            if n > max_bytes:
                raise ApiError(413, f"{dest.name}: the {what} is too big (at most {max_bytes:,} bytes)")
            out.write(chunk)
    return n


def contacts_file(upload: Any, root: Path, *, max_bytes: int) -> Path:
    """The uploaded contact file in `root`, under its own name (its suffix tells the reader its format)."""
    name = safe_name(getattr(upload, "filename", None), "contacts.csv")
    if Path(name).suffix.lower() not in CONTACT_SUFFIXES:
        raise ApiError(
            415, f"{name}: not a contact file: send a {', '.join(CONTACT_SUFFIXES)} file (the file name's suffix)"
        )
    dest = root / name
    copy_upload(upload.file, dest, max_bytes=max_bytes, what="contact file")
    return dest


def contacts_from_json(rows: Any, root: Path) -> Path:
    """A JSON list of contacts (objects with a phone and any other columns) as a CSV file."""
    if not isinstance(rows, list) or not rows:
        raise ApiError(422, 'contacts: must be a non-empty list of objects such as {"phone": "+14155550100"}')
    if len(rows) > MAX_CONTACTS_JSON:
        raise ApiError(413, f"contacts: at most {MAX_CONTACTS_JSON:,} rows in one request")
    columns: dict[str, None] = {}
    for i, row in enumerate(rows, start=1):
        if not isinstance(row, Mapping) or not row:
            raise ApiError(422, f'contacts[{i - 1}]: must be an object of column: value, such as {{"phone": ...}}')
        for k, v in row.items():
            if not isinstance(k, str) or not k.strip():
                raise ApiError(422, f"contacts[{i - 1}]: a column name must be a non-empty string")
            if v is not None and not isinstance(v, (str, int, float)):
                raise ApiError(422, f"contacts[{i - 1}].{k}: must be a string or a number")
            columns.setdefault(k, None)
    dest = root / "contacts.csv"
    with open(dest, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(list(columns))
        for row in rows:
            w.writerow(["" if row.get(k) is None else str(row.get(k)) for k in columns])
    return dest


def keep_attachment(upload: Any, upload_dir: Path, *, max_bytes: int) -> Path:
    """The attachment under `upload_dir/UUID/NAME` (owner-only), for the worker to send."""
    name = safe_name(getattr(upload, "filename", None), "attachment")
    folder = safefiles.private_dir(Path(upload_dir) / uuid.uuid4().hex)
    dest = folder / name
    try:
        size = copy_upload(upload.file, dest, max_bytes=max_bytes, what="attachment")
        if size == 0:
            raise ApiError(422, f"{name}: the attachment is empty")
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return dest


def drop_attachment(path: Path | None) -> None:
    if path is not None:
        shutil.rmtree(path.parent, ignore_errors=True)
