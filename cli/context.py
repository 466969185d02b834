"""What every command shares: the run context (resolved once), the store, argument types,
and printing (times, JSON, a one-line progress).

Every user error ends as one line on stderr and exit status 2 (`common.errors`);
nothing is written before the input has been checked.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, NoReturn

import settings
from common import dburl, safefiles
from common.errors import EXIT_USER_ERROR, UserError, one_line
from store import Store

MAX_ID = 2**63 - 1


class CliError(UserError):
    """A user error: shown as one line, exit status 2."""


class OneLineParser(argparse.ArgumentParser):
    """argparse, but its own errors are one line too (no usage block): `--help` shows it."""

    def error(self, message: str) -> NoReturn:
        print(f"error: {one_line(f'{self.prog}: {message} (see {self.prog} --help)')}", file=sys.stderr)
        raise SystemExit(EXIT_USER_ERROR)


def context(args: argparse.Namespace) -> settings.RunContext:
    """The run context of this command, resolved once (and its privacy checked once)."""
    if getattr(args, "ctx", None) is None:
        args.ctx = settings.resolve(args.config, args.db)
        cfg = args.ctx.cfg
        db = cfg.paths.database
        files = [] if dburl.is_url(db) else [Path(db), Path(f"{db}-wal"), Path(f"{db}-shm")]
        warning = safefiles.exposure_warning([*files, cfg.paths.log_dir, cfg.paths.run_dir])
        if warning:
            print(warning, file=sys.stderr)
    ctx: settings.RunContext = args.ctx
    return ctx


def load_config(args: argparse.Namespace) -> settings.Config:
    return context(args).cfg


def has_database(cfg: settings.Config) -> bool:
    return dburl.exists(cfg.paths.database)


def open_store(cfg: settings.Config, *, must_exist: bool = True) -> Store:
    db = cfg.paths.database
    if must_exist and not dburl.exists(db):
        raise CliError(f"{db}: no database yet (import a contact file first)")
    return Store(db)


def id_arg(text: str) -> int:
    """A job or message id as typed: a whole number from 1 to 2**63 - 1."""
    value = text.strip()
    if not value.isdigit() or not 0 < int(value) <= MAX_ID:
        raise argparse.ArgumentTypeError(f"not an id: {one_line(text, 40)!r}")
    return int(value)


def ids(values: list[str], option: str) -> list[int]:
    """Message ids given as several arguments or comma-separated."""
    out = []
    for v in values:
        for part in v.replace(",", " ").split():
            if not part.isdigit() or not 0 < int(part) <= MAX_ID:
                raise CliError(f"{option}: {part[:40]!r} is not a message id")
            out.append(int(part))
    return out


def jsonable(value: Any) -> Any:
    """json.dumps' hook for the store's typed records (Any: whatever json.dumps could not
    encode in, plain JSON out)."""
    from store.records import jsonable as plain

    out = plain(value)
    if out is value:
        raise TypeError(f"not JSON: {type(value).__name__}")
    return out


def fmt_time(ts: float | None) -> str:
    return datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M:%S") if ts else "-"


def progress_line(every: float = 0.2) -> Callable[[int, int], None]:
    """A progress callback that redraws one line on a terminal (big files take seconds)."""
    last = [0.0]

    def show(done: int, total: int) -> None:
        now = time.monotonic()
        if total < 2000 or (now - last[0] < every and done < total):
            return
        last[0] = now
        print(
            f"\rchecking numbers and writing messages: {100 * done // max(total, 1):3d}% "
            f"({done:,} of {total:,} rows)\033[K",
            end="",
            file=sys.stderr,
            flush=True,
        )

    return show


def region(args: argparse.Namespace, cfg: settings.Config) -> str:
    """--region, else [sending] default_region; checked by contacts (the one region check)."""
    from contacts import ContactsError
    from contacts.phones import check_region

    try:
        return check_region(getattr(args, "region", None) or cfg.sending.default_region) or ""
    except ContactsError:
        raise CliError(
            f"--region: unknown region {one_line(args.region, 20)!r} (use a two-letter country code such as US, IN, GB)"
        ) from None


def phone(raw: str, region_code: str) -> str:
    from contacts import normalise_phone

    e164, reason = normalise_phone(raw, region_code)
    if e164 is None:
        raise CliError(f"{one_line(raw, 40)!r} is not a phone number: {reason}")
    return e164


AddCommand = Callable[[str, Callable[[argparse.Namespace], int], str], argparse.ArgumentParser]
