"""The settings of config.toml: typed sections with their bounds (`model`), reading and
validating the file (`parse`), the run context every process shares (`context`) and
editing the file in place (`tomledit`)."""

from .context import DEFAULT_PATH, ENV_VAR, PROJECT_DIR, RunContext, config_path, load, resolve
from .model import (
    ACCOUNT_NAME,
    ACCOUNT_OVERRIDES,
    DEFAULT_ACCOUNT,
    AccountSettings,
    BrowserSettings,
    Config,
    ConfigError,
    DashboardSettings,
    PathSettings,
    ReplySettings,
    SendingSettings,
    SupervisorSettings,
    WorkerSettings,
    day_number,
    resolve_selectors,
)
from .parse import MAX_CONFIG_BYTES, parse
from .tomledit import add_account, prepend_selectors, set_account_enabled

__all__ = [
    "ACCOUNT_NAME",
    "ACCOUNT_OVERRIDES",
    "DEFAULT_ACCOUNT",
    "DEFAULT_PATH",
    "ENV_VAR",
    "MAX_CONFIG_BYTES",
    "PROJECT_DIR",
    "AccountSettings",
    "BrowserSettings",
    "Config",
    "ConfigError",
    "DashboardSettings",
    "PathSettings",
    "ReplySettings",
    "RunContext",
    "SendingSettings",
    "SupervisorSettings",
    "WorkerSettings",
    "add_account",
    "config_path",
    "day_number",
    "load",
    "parse",
    "prepend_selectors",
    "resolve",
    "resolve_selectors",
    "set_account_enabled",
]
