"""Files the tool writes hold the user's customers and account: owner-only whatever the
umask (files 0600, folders 0700), written whole or not at all, and only regular files
are read.

Imports nothing of the product. `FileProblem` is a user error (one line, exit 2).
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import IO

PRIVATE_UMASK = 0o077


class FileProblem(Exception):
    """A path that cannot be used as asked (not a regular file, too big, a link...)."""

    user_error = True


def private_umask() -> None:
    """Every file and folder this process (and its children: Chromium) creates is owner-only."""
    os.umask(PRIVATE_UMASK)


def private_dir(path: str | os.PathLike[str]) -> Path:
    p = Path(path)
    p.mkdir(mode=0o700, parents=True, exist_ok=True)
    return p


def regular_file(path: str | os.PathLike[str], what: str, *, max_bytes: int | None = None) -> Path:
    """`path` if it is a regular file (a FIFO, a device or a folder would hang or mislead
    the reader), not bigger than `max_bytes`; else FileProblem naming it."""
    p = Path(path)
    try:
        st = p.stat()
    except FileNotFoundError:
        raise FileProblem(f"{p}: {what} not found") from None
    except OSError as exc:
        raise FileProblem(f"{p}: cannot read the {what}: {exc.strerror or exc}") from None
    if stat.S_ISDIR(st.st_mode):
        raise FileProblem(f"{p}: is a folder, not a {what}")
    if not stat.S_ISREG(st.st_mode):
        kind = (
            "a pipe (FIFO)"
            if stat.S_ISFIFO(st.st_mode)
            else "a device"
            if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode)
            else "not a regular file"
        )
        raise FileProblem(f"{p}: is {kind}, not a {what}")
    if max_bytes is not None and st.st_size > max_bytes:
        raise FileProblem(f"{p}: the {what} is too big ({st.st_size:,} bytes; at most {max_bytes:,})")
    try:  # readable by this user (the worker reads it much later: say so now)
        os.close(os.open(p, os.O_RDONLY | os.O_NONBLOCK))
    except OSError as exc:
        raise FileProblem(f"{p}: cannot read the {what}: {exc.strerror or exc}") from None
    return p


def writable_target(path: str | os.PathLike[str], what: str) -> Path:
    """Where a new file may be written whole: a new name or an existing regular file (never
    a folder, a device, a FIFO or a symbolic link, which a rename would silently replace)."""
    p = Path(path)
    if p.is_symlink():
        raise FileProblem(f"{p}: is a symbolic link; give the {what} a real file name")
    if p.exists():
        st = p.stat()
        if stat.S_ISDIR(st.st_mode):
            raise FileProblem(f"{p}: is a folder; give the {what} a file name")
        if not stat.S_ISREG(st.st_mode):
            raise FileProblem(f"{p}: is not a regular file (a device or a pipe); give the {what} a file name")
    parent = p.parent if str(p.parent) else Path(".")
    if not parent.is_dir():
        raise FileProblem(f"{parent}: folder not found")
    return p


def write_atomic(
    path: str | os.PathLike[str],
    write: Callable[[IO[bytes]], None] | bytes | str,
    *,
    what: str = "file",
    mode: int | None = 0o600,
) -> Path:
    """Write `path` whole through a temporary file in the same folder and a rename: a crash
    or a full disk leaves the old file (or none), never half of one. Owner-only, or with
    `mode=None` the mode the file had (a config file the user owns)."""
    target = writable_target(path, what)
    if mode is None:
        mode = stat.S_IMODE(target.stat().st_mode) if target.exists() else 0o600
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            if callable(write):
                write(fh)
            else:
                fh.write(write.encode("utf-8") if isinstance(write, str) else write)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def exposed(paths: Iterable[str | os.PathLike[str]], *, limit: int = 2000) -> list[Path]:
    """Those of `paths` (and what is inside the folders among them) that other users may
    read, write or enter: group or other permission bits set."""
    out: list[Path] = []
    seen = 0
    for root in paths:
        r = Path(root)
        if not r.exists():
            continue
        stack = [r]
        while stack and seen < limit:
            p = stack.pop()
            seen += 1
            try:
                st = p.lstat()
            except OSError:
                continue
            if stat.S_ISLNK(st.st_mode):
                continue
            if st.st_mode & 0o077:
                out.append(p)
            if stat.S_ISDIR(st.st_mode):
                try:
                    stack.extend(sorted(p.iterdir()))
                except OSError:
                    continue
    return out


def exposure_warning(paths: Iterable[str | os.PathLike[str]]) -> str | None:
    """One line saying which of the tool's files other users can read and how to fix it."""
    roots = [Path(p) for p in paths]
    found = exposed(roots)
    if not found:
        return None
    shown = ", ".join(str(p) for p in found[:3]) + (f" and {len(found) - 3} more" if len(found) > 3 else "")
    fix = " ".join(str(r) for r in roots if r.exists())
    return (
        f"warning: {len(found)} of this tool's files and folders can be read by other users ({shown}): "
        f"chmod -R go-rwx {fix}"
    )
