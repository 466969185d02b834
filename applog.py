"""The one place where logging is configured (each process calls `setup` once, in its main)."""
from __future__ import annotations

import logging
import logging.handlers
import sys
from pathlib import Path

FORMAT = "%(asctime)s %(levelname)-7s %(name)s[%(process)d]: %(message)s"


def setup(log_dir: Path, name: str, *, stream: bool = True, level: int = logging.INFO) -> Path:
    """Log to `log_dir/name.log` (rotated at 5 MB, 5 kept) and, if `stream`, to stderr."""
    log_dir.mkdir(parents=True, exist_ok=True)
    path = log_dir / f"{name}.log"
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
        handler.close()
    formatter = logging.Formatter(FORMAT)
    file_handler = logging.handlers.RotatingFileHandler(path, maxBytes=5_000_000, backupCount=5, encoding="utf-8")
    file_handler.setFormatter(formatter)
    root.addHandler(file_handler)
    if stream:
        console = logging.StreamHandler(sys.stderr)
        console.setFormatter(formatter)
        root.addHandler(console)
    root.setLevel(level)
    # Selenium and urllib3 log every HTTP call to the driver at DEBUG/INFO.
    for noisy in ("selenium", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    return path
