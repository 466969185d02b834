"""The settings of config.toml: typed sections with their bounds (`model`), reading and
validating the file (`parse`), the run context every process shares (`context`) and
editing the file in place (`tomledit`)."""

from .context import DEFAULT_PATH, ENV_VAR, PROJECT_DIR, RunContext, config_path, load, resolve
from .model import (
    ACCOUNT_NAME,
    ACCOUNT_OVERRIDES,
    DEFAULT_ACCOUNT,
    AccountSettings,
    AlertSettings,
    ApiSettings,
    BrowserSettings,
    Config,
    ConfigError,
    DashboardSettings,
    DeliverySettings,
    PathSettings,
    ReplySettings,
    SendingSettings,
    SupervisorSettings,
    WebhookSettings,
    WorkerSettings,
    day_number,
    resolve_selectors,
)
from .parse import MAX_CONFIG_BYTES, check_webhook_url, is_loopback, parse
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
    "AlertSettings",
    "ApiSettings",
    "BrowserSettings",
    "Config",
    "ConfigError",
    "DashboardSettings",
    "DeliverySettings",
    "PathSettings",
    "ReplySettings",
    "RunContext",
    "SendingSettings",
    "SupervisorSettings",
    "WebhookSettings",
    "WorkerSettings",
    "add_account",
    "check_webhook_url",
    "config_path",
    "day_number",
    "is_loopback",
    "load",
    "parse",
    "prepend_selectors",
    "resolve",
    "resolve_selectors",
    "set_account_enabled",
]
