"""Editing config.toml in place: comments and order kept (tomlkit), the result validated
before anything is written, written whole (atomic rename), under an exclusive lock so that
two processes editing at once (two accounts' workers repairing their selectors, the
dashboard's editor) never lose each other's change: each edit re-reads the file inside
the lock.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import tomlkit
from tomlkit import TOMLDocument

from common import safefiles
from worker import knowledge

from .model import ACCOUNT_NAME, DEFAULT_ACCOUNT, Config, ConfigError
from .parse import parse


@contextmanager
def locked(path: Path) -> Iterator[None]:
    """An exclusive lock on the config file's edits (a `.lock` file beside it)."""
    lock = path.with_name(f".{path.name}.lock")
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def rewrite(path: str | Path, edit: Callable[[TOMLDocument, Config], None], *, backup: bool) -> Path | None:
    """Edit the config file at `path`: `edit(doc, current)` changes the tomlkit document;
    nothing is written that would not load. With `backup`, the old file is kept beside
    it (returned)."""
    src = Path(path)
    with locked(src):
        text = src.read_text(encoding="utf-8")
        doc = tomlkit.parse(text)
        edit(doc, parse(text, src))
        new_text = tomlkit.dumps(doc)
        parse(new_text, src)
        if new_text == text:
            return None
        kept = None
        if backup:
            stamp = time.strftime("%Y%m%d-%H%M%S") + f"-{int(time.time() * 1000) % 1000:03d}"
            kept = src.with_name(f"{src.name}.bak-{stamp}")
            shutil.copy2(src, kept)
        safefiles.write_atomic(src, new_text, what="config file", mode=None)
        return kept


def prepend_selectors(path: str | Path, winners: dict[str, list[str]]) -> Path | None:
    """Put `winners` first in their keys' lists in the config file at `path`, keeping the
    others after them; the old file is kept beside it. Returns the backup's path (None
    when the file already read so)."""

    def edit(doc: TOMLDocument, current: Config) -> None:
        table = doc.get("selectors")
        if table is None:
            table = tomlkit.table()
            doc["selectors"] = table
        for key, first in winners.items():
            if key not in knowledge.DEFAULT_SELECTORS:
                raise ConfigError(f"{path}: selectors.{key}: unknown selector key")
            rest = [s for s in current.selectors.get(key, ()) if s not in first]
            values = tomlkit.array()
            values.extend([*first, *rest])
            values.multiline(len(first) + len(rest) > 2)
            table[key] = values

    return rewrite(path, edit, backup=True)


def _accounts_table(doc: TOMLDocument) -> None:
    """A file without [[accounts]] gets one for its current account ("default", on
    [browser] profile_dir), so that its login keeps working."""
    if "accounts" in doc:
        return
    aot = tomlkit.aot()
    first = tomlkit.table()
    first["name"] = DEFAULT_ACCOUNT
    first["profile_dir"] = str(doc.get("browser", {}).get("profile_dir", "profile"))
    aot.append(first)
    doc.append("accounts", aot)


def add_account(path: str | Path, name: str, *, profile_dir: str | None = None, **overrides: object) -> None:
    """Add an [[accounts]] table."""
    if not ACCOUNT_NAME.match(name):
        raise ConfigError(f"account name {name!r}: use 1-32 lower-case letters, digits, '-' or '_'")

    def edit(doc: TOMLDocument, current: Config) -> None:
        if name in current.account_names() and current.accounts:
            raise ConfigError(f"{path}: account {name!r} exists already")
        if "accounts" not in doc:
            if name == DEFAULT_ACCOUNT:
                doc.append("accounts", tomlkit.aot())
            else:
                _accounts_table(doc)
        table = tomlkit.table()
        table["name"] = name
        if profile_dir:
            table["profile_dir"] = profile_dir
        for key, value in overrides.items():
            table[key] = value
        doc["accounts"].append(table)

    rewrite(path, edit, backup=False)


def set_account_enabled(path: str | Path, name: str, enabled: bool) -> None:
    """`enabled = true/false` in the account's table (a file without [[accounts]] gets one)."""

    def edit(doc: TOMLDocument, current: Config) -> None:
        current.get_account(name)  # unknown: ConfigError
        _accounts_table(doc)
        for table in doc["accounts"]:
            if table.get("name") == name:
                table["enabled"] = enabled

    rewrite(path, edit, backup=False)
