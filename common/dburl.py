"""Where the database is: an SQLite file (a path) or a PostgreSQL server (a URL).

No project imports: the settings, the store and the CLI all ask these questions. A URL
is checked here once (host, port, database) so that a malformed one is one clear line,
and no error line ever shows a password.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

from .errors import UserError

Target = str | Path

_SCHEMES = ("postgresql://", "postgres://", "postgresql+psycopg://")
# A libpq connection string ("host=db user=wa password=..."): not a file name.
_LIBPQ_WORDS = re.compile(r"(^|\s)(host|hostaddr|port|dbname|user|password|sslmode|service)\s*=", re.I)


class DatabaseURLError(UserError):
    """A database given as something that is neither a usable file path nor a valid URL."""


def is_url(target: object) -> bool:
    return isinstance(target, str) and target.strip().lower().startswith(_SCHEMES)


def exists(target: Target) -> bool:
    """A server database is assumed to be there (connecting says otherwise); a file must exist."""
    return True if is_url(target) else Path(target).exists()


def not_a_path(text: str) -> str | None:
    """Why `text` cannot be an SQLite file path (None: it can)."""
    if "://" in text:
        return f"must be a file path or a postgresql:// URL, not {redact(text)!r}"
    if _LIBPQ_WORDS.search(text):
        return (
            "looks like a libpq connection string (host=... dbname=...): write it as a URL, "
            "postgresql://USER@HOST:PORT/DBNAME (passwords in ~/.pgpass or PGPASSWORD)"
        )
    return None


def check_url(url: str, *, what: str = "database") -> str:
    """The URL stripped, after checking that it parses (host, port, database name)."""
    text = url.strip()
    try:
        parts = urlsplit(text)
        port = parts.port  # raises ValueError on a port such as "abc" or 99999
        host = parts.hostname
    except ValueError as exc:
        raise DatabaseURLError(f"{what}: {redact(text)!r} is not a valid URL ({exc})") from None
    if not host and not dict(parse_qsl(parts.query)).get("host"):
        raise DatabaseURLError(f"{what}: {redact(text)!r} names no server (postgresql://USER@HOST/DBNAME)")
    if port == 0:
        raise DatabaseURLError(f"{what}: {redact(text)!r}: port 0 is not a server port")
    if not parts.path.strip("/"):
        raise DatabaseURLError(f"{what}: {redact(text)!r} names no database (postgresql://USER@HOST/DBNAME)")
    return text


def normalize(target: Target, base: Path | None = None, *, what: str = "--db") -> Target:
    """A URL as written (checked); a path made absolute (relative to `base`, else the cwd)."""
    if is_url(target):
        return check_url(str(target), what=what)
    problem = not_a_path(str(target))
    if problem:
        raise DatabaseURLError(f"{what}: {problem}")
    path = Path(os.path.expanduser(str(target)))
    if not path.is_absolute() and base is not None:
        path = base / path
    return path.resolve()


def sqlalchemy_url(url: str) -> str:
    """The URL for SQLAlchemy with the psycopg 3 driver."""
    scheme, rest = url.split("://", 1)
    return f"postgresql+psycopg://{rest}" if scheme.lower() in ("postgresql", "postgres") else url


def redact(target: Target) -> str:
    """For messages and logs: a URL (of any scheme) without its password, also one given
    as a `password=` query parameter; a libpq string without its `password=` value."""
    text = str(target)
    if "://" not in text:
        return re.sub(r"(?i)(\bpassword\s*=\s*)('[^']*'|\S+)", r"\1***", text)
    text = re.sub(r"(://[^:/@\s]*):[^@/\s]*@", r"\1:***@", text)
    if "?" in text:
        base, _, query = text.partition("?")
        text = base + "?" + re.sub(r"(?i)((?:^|&)password=)[^&]*", r"\1***", query)
    return text
