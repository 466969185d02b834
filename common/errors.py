"""User errors: one line, exit status 2, no traceback (docs/design.md).

Any exception class with `user_error = True` (the settings' ConfigError, the CLI's, the
store's, the contact reader's...) is shown by `exit_on_user_error` as one line, its text
cut to `MAX_ERROR_LINE` characters in the middle, so that the cut never loses the reason.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import ParamSpec

_P = ParamSpec("_P")

EXIT_USER_ERROR = 2
MAX_ERROR_LINE = 300  # characters of an error line; longer input is cut with an ellipsis


class UserError(Exception):
    """A problem the user fixes (file, config, argument): one line, exit status 2."""

    user_error = True


def one_line(text: object, limit: int = MAX_ERROR_LINE) -> str:
    """A message on one line of at most `limit` characters. A longer one (an error may echo
    a huge input) loses its middle, not its end: the reason comes last in most messages
    ("FILE: reason") and must survive the cut."""
    flat = " ".join(str(text).split())
    if len(flat) <= limit:
        return flat
    head = max(1, limit // 3)
    return flat[:head] + "…" + flat[len(flat) - (limit - head - 1) :]


def is_user_error(exc: BaseException) -> bool:
    """Marked as one (`user_error = True`), or a file of the user's that cannot be used
    (an OSError naming its file: permission denied, no such folder, disk full...)."""
    if getattr(type(exc), "user_error", False):
        return True
    return isinstance(exc, OSError) and bool(getattr(exc, "filename", None))


def describe(exc: BaseException) -> str:
    """The one line a user error prints (without the "error: " prefix)."""
    if isinstance(exc, OSError) and not getattr(type(exc), "user_error", False):
        return one_line(f"{exc.filename}: {exc.strerror or exc}")
    return one_line(str(exc))


def exit_on_user_error(main: Callable[_P, int]) -> Callable[_P, int]:
    """Wrap an entry point: a user error is printed as `error: ...` on one line, status 2."""

    @functools.wraps(main)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> int:
        try:
            return main(*args, **kwargs)
        except Exception as exc:
            if not is_user_error(exc):
                raise
            print(f"error: {describe(exc)}", file=sys.stderr)
            return EXIT_USER_ERROR

    return wrapper
