"""Is this bubble our message? Shared by the sender (after the click) and the verifier (after
a crash): a row's text or caption, its media or document name, against the stored message."""

from __future__ import annotations

import mimetypes
from pathlib import Path

from settings import Config

from .errors import SelectorNotFound, SendFailure
from .page import Row
from .textmatch import comparable, is_prefix, same


def resolve_attachment(cfg: Config, path: str) -> Path:
    """An attachment path as stored, relative to the config file's folder when not absolute."""
    p = Path(path).expanduser()
    if not p.is_absolute():
        base = Path(cfg.path).resolve().parent if cfg.path else Path.cwd()
        if (base / p).exists():
            p = base / p
    return p.resolve()


def is_media(path: Path) -> bool:
    """Images and videos go as media (a photo bubble); anything else as a document."""
    mime = mimetypes.guess_type(path.name)[0] or ""
    return mime.startswith(("image/", "video/"))


def row_matches(row: Row, text: str, attachment: Path | None, media: bool) -> bool | None:
    """Whether a row is this message, read as a person would: its text (or caption), the
    media or the document's name. None: cannot tell (text not readable, or cut behind a
    "Read more" that is still there)."""
    want = comparable(text)
    if row.text is None and want:
        # Media with no text element cannot carry our caption; anything else unreadable is a doubt.
        return False if row.media else None
    if not same(row.text or "", text):
        if row.more and is_prefix(row.text, text):
            return None
        return False
    if attachment is None:
        return not row.media or bool(want)
    if media:
        return row.media or attachment.name in row.full
    return attachment.name in row.full


def short_error(exc: BaseException) -> str:
    """A one-line reason for last_error."""
    if isinstance(exc, (SelectorNotFound, SendFailure)):
        return str(exc)[:500]
    lines = str(exc).strip().splitlines()
    return f"{exc.__class__.__name__}: {lines[0] if lines else ''}"[:300]
