"""The supervisor: keeps the worker process running, restarts it, stops it cleanly.

API for the command line and the dashboard (details in docs/supervisor.md):

- ``run_foreground(ctx, *, worker_cmd=None) -> int``: ``python tui.py worker``.
- ``start_detached(ctx) -> int``: start it in a new session with the same run context; its pid.
- ``stop(config_path_or_cfg, *, timeout=None) -> bool``: stop it (and the worker) and wait.
- ``status(config_path_or_cfg, *, store=None) -> dict | None``: published state + liveness.
- ``paused / pause_all / request_restart``: the run directory's signal files.
- ``account_paused / pause_account``: one account's pause file (``run/accounts/NAME/pause``).

`ctx` is a ``settings.RunContext`` (a config path or a Config is accepted too).
"""

from .api import (
    SupervisorError,
    account_paused,
    pause_account,
    pause_all,
    paused,
    request_restart,
    run_foreground,
    start_detached,
    status,
    stop,
)
from .core import Supervisor
from .pidfile import AlreadyRunning

__all__ = [
    "AlreadyRunning",
    "Supervisor",
    "SupervisorError",
    "account_paused",
    "pause_account",
    "pause_all",
    "paused",
    "request_restart",
    "run_foreground",
    "start_detached",
    "status",
    "stop",
]
