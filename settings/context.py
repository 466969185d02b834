"""The run context: the config file and the database, resolved once from `--config` /
`WA_SENDER_CONFIG` / the default and `--db`, recording where each came from.

The CLI, the dashboard, the supervisor (also detached) and the worker all receive it
(`ctx.argv()` hands it to a child process), so every process works on the same files.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from common import dburl

from .model import Config
from .parse import load_file

ENV_VAR = "WA_SENDER_CONFIG"
PROJECT_DIR = Path(__file__).resolve().parent.parent
DEFAULT_PATH = PROJECT_DIR / "config.toml"


@dataclass(frozen=True)
class RunContext:
    """The config file, the database and where each came from, resolved once."""

    config_path: Path
    config_source: str  # "--config", "$WA_SENDER_CONFIG" or "default"
    db_override: Path | str | None  # --db, if given (a file or a postgresql:// URL)
    cfg: Config

    @property
    def db_source(self) -> str:
        return "--db" if self.db_override is not None else f"[paths] database in {self.config_path}"

    def argv(self) -> list[str]:
        """The options that give a child process this same context."""
        out = ["--config", str(self.config_path)]
        if self.db_override is not None:
            out += ["--db", str(self.db_override)]
        return out

    def describe(self) -> str:
        return (
            f"config {self.config_path} (from {self.config_source}), database "
            f"{dburl.redact(self.cfg.paths.database)} (from {self.db_source})"
        )


def config_path(explicit: str | Path | None = None) -> Path:
    if explicit:
        return Path(explicit)
    if os.environ.get(ENV_VAR):
        return Path(os.environ[ENV_VAR])
    return DEFAULT_PATH


def load(explicit: str | Path | None = None) -> Config:
    """Load the config chosen by `explicit`, else $WA_SENDER_CONFIG, else ./config.toml of the project."""
    return load_file(config_path(explicit))


def resolve(config: str | Path | None = None, db: str | Path | None = None) -> RunContext:
    """Load the config chosen by --config, else $WA_SENDER_CONFIG, else the project's
    config.toml, and apply --db. Raises ConfigError (a user error)."""
    if config:
        source = "--config"
    elif os.environ.get(ENV_VAR):
        source = f"${ENV_VAR}"
    else:
        source = "default"
    path = config_path(config).resolve()
    cfg = load(path)
    override = None
    if db:
        override = dburl.normalize(db, what="--db")
        cfg = cfg.with_database(override)
    return RunContext(config_path=path, config_source=source, db_override=override, cfg=cfg)
