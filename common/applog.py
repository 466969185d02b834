"""The one place where logging is configured: each process calls `setup` once, in its main."""

from __future__ import annotations

import io
import logging
import logging.handlers
import os
from pathlib import Path
from typing import TextIO, cast

FILE_FORMAT = "%(asctime)s %(levelname)-7s [%(process)d] %(message)s"


class PrivateFileHandler(logging.handlers.RotatingFileHandler):
    """Log files name the numbers being sent to: owner-only whatever the umask."""

    def _open(self) -> io.TextIOWrapper:
        fd = os.open(self.baseFilename, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        # A text mode ("a": the rotating handler forces it), so open() gives a TextIOWrapper.
        return cast(io.TextIOWrapper, open(fd, self.mode, encoding=self.encoding, errors=self.errors))


def setup(
    name: str,
    log_dir: Path,
    *,
    stream: TextIO | None = None,
    stream_level: int = logging.INFO,
    stream_format: str = "%(asctime)s %(levelname)-7s %(message)s",
    level: int = logging.INFO,
) -> None:
    """Send logger `name` to `log_dir/name.log` (rotated at 10 MB, 3 kept) and, if given, `stream`.

    The log file gets everything at `level`; the stream only what a person watching the
    terminal must see (`stream_level`). A log directory that can't be written is a warning,
    not a crash.
    """
    logger = logging.getLogger(name)
    logger.setLevel(level)
    logger.propagate = False
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
        handler.close()
    if stream is not None:
        console = logging.StreamHandler(stream)
        console.setFormatter(logging.Formatter(stream_format, "%Y-%m-%d %H:%M:%S"))
        console.setLevel(stream_level)
        logger.addHandler(console)
    try:
        log_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        file_handler = PrivateFileHandler(
            log_dir / f"{name}.log", maxBytes=10 * 1024 * 1024, backupCount=3, encoding="utf-8"
        )
    except OSError as exc:
        logger.warning("cannot write the log file in %s: %s", log_dir, exc)
    else:
        file_handler.setFormatter(logging.Formatter(FILE_FORMAT, "%Y-%m-%d %H:%M:%S"))
        logger.addHandler(file_handler)
    # Losing the terminal (SSH dropped) must not turn every log line into a traceback.
    logging.raiseExceptions = False
    # Selenium and urllib3 log every call to the driver.
    for noisy in ("selenium", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
