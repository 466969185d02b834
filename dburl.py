"""Where the database is: an SQLite file (a path) or a PostgreSQL server (a URL).

No project imports: the config, the store and the CLI all ask these questions.
"""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Union

Target = Union[str, Path]

_SCHEMES = ("postgresql://", "postgres://", "postgresql+psycopg://")


def is_url(target: object) -> bool:
    return isinstance(target, str) and target.strip().lower().startswith(_SCHEMES)


def exists(target: Target) -> bool:
    """A server database is assumed to be there (connecting says otherwise); a file must exist."""
    return True if is_url(target) else Path(target).exists()


def normalize(target: Target, base: Path | None = None) -> Target:
    """A URL as written; a path made absolute (relative to `base`, else the cwd)."""
    if is_url(target):
        return str(target).strip()
    path = Path(os.path.expanduser(str(target)))
    if not path.is_absolute() and base is not None:
        path = base / path
    return path.resolve()


def sqlalchemy_url(url: str) -> str:
    """The URL for SQLAlchemy with the psycopg 3 driver."""
    scheme, rest = url.split("://", 1)
    return f"postgresql+psycopg://{rest}" if scheme.lower() in ("postgresql", "postgres") else url


def libpq_url(url: str) -> str:
    scheme, rest = url.split("://", 1)
    return f"postgresql://{rest}"


def redact(target: Target) -> str:
    """For messages and logs: a URL without its password."""
    return re.sub(r"(://[^:/@]+):[^@/]*@", r"\1:***@", str(target))
