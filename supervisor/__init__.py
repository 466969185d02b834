"""The supervisor: keeps the worker process running, restarts it, stops it cleanly.

API for the command line and the dashboard (details in docs/supervisor.md):

- ``run_foreground(config_path, *, db=None, worker_cmd=None) -> int``: ``python tui.py worker``.
- ``start_detached(config_path, *, db=None) -> int``: start it in a new session; its pid.
- ``stop(config_path_or_cfg, *, timeout=None) -> bool``: stop it (and the worker) and wait.
- ``status(config_path_or_cfg, *, store=None) -> dict | None``: published state + liveness.
- ``clear_fatal(config_path_or_cfg) -> bool``: a manual start after ``fatal``.
"""
from .api import SupervisorError, clear_fatal, run_foreground, start_detached, status, stop
from .core import EXIT_OK, EXIT_RESTART, EXIT_USER_ERROR, STATES, StartError, Supervisor
from .pidfile import AlreadyRunning

__all__ = [
    "AlreadyRunning", "StartError", "SupervisorError", "Supervisor", "STATES", "EXIT_OK", "EXIT_RESTART",
    "EXIT_USER_ERROR", "clear_fatal", "run_foreground", "start_detached", "status", "stop",
]
