"""The API token: generated on first start into an owner-only file, compared in constant
time. Whoever can read the file can drive the API: keep it like a password."""

from __future__ import annotations

import hmac
import os
import secrets
import stat
from pathlib import Path

from common import safefiles
from common.errors import UserError

MIN_TOKEN = 16


class TokenError(UserError):
    """The token file cannot be used: one line."""


def load_or_create(path: str | os.PathLike[str]) -> tuple[str, bool]:
    """(the token, whether it was just created). A new one is 43 random URL-safe characters."""
    p = Path(path)
    if not p.exists() and not p.is_symlink():
        safefiles.private_dir(p.parent)
        token = secrets.token_urlsafe(32)
        safefiles.write_atomic(p, token + "\n", what="API token file", mode=0o600)
        return token, True
    try:
        safefiles.regular_file(p, "API token file", max_bytes=4096)
        st = p.stat()
        text = p.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError, safefiles.FileProblem) as exc:
        raise TokenError(f"{p}: cannot read the API token: {exc}") from None
    if st.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise TokenError(f"{p}: the API token file can be read by other users: chmod 600 {p}")
    if len(text) < MIN_TOKEN or any(c.isspace() for c in text):
        raise TokenError(
            f"{p}: the API token must be one word of at least {MIN_TOKEN} characters (delete the file for a new one)"
        )
    return text, False


def matches(given: str, token: str) -> bool:
    """Constant time, whatever the given string."""
    return hmac.compare_digest(given.encode("utf-8", "replace"), token.encode("utf-8"))
