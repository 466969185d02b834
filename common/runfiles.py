"""The run directory's protocol, in one place: signal files, the supervisor's own files,
the environment it gives the worker, and the worker's exit codes.

Imports nothing of the product (the worker, the supervisor and the CLI all use it).
Signal files steer a host's supervisor from any shell: `touch run/pause`, `rm run/pause`,
`touch run/stop`, `touch run/restart` (docs/supervisor.md). The same names under
`run/accounts/NAME/` act on one account's worker; the global `pause` and `stop` act on
every account, a global `restart` is handed to every account by the supervisor.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

# Signal files.
PAUSE = "pause"  # present: sending waits (the current step ends safely)
STOP = "stop"  # present: the worker and the supervisor stop (the supervisor removes it)
RESTART = "restart"  # present: the worker restarts between two messages; also clears `fatal`
HOLD = "hold"  # present: the worker lets go of the browser profile (for the doctor) and waits
SIGNALS = (PAUSE, STOP, RESTART, HOLD)

# The supervisor's files.
STATE_FILE = "supervisor.json"  # its published state (also in the store)
PID_FILE = "supervisor.pid"  # who it is (pid, creation time, command line)
LOCK_FILE = "supervisor.lock"  # flock-ed for its whole life

# Environment of the worker and of everything it starts.
TAG_VAR = "WA_SENDER_TAG"  # unique per worker start
RUN_DIR_VAR = "WA_SENDER_RUN_DIR"  # the run directory of the supervisor that started it
ACCOUNT_VAR = "WA_SENDER_ACCOUNT"  # the account the worker sends for
SUPERVISOR_PID_VAR = "WA_SENDER_SUPERVISOR_PID"  # the worker stops when this process is gone
# The name this host goes by in a shared (PostgreSQL) database; default: its hostname.
# Set it where hostnames say nothing (containers), or to run several "hosts" on one machine.
HOST_VAR = "WA_SENDER_HOST"
# A worker row whose heartbeat (every 5 s at most) is this old, not marked stopped: its
# process or its whole host is gone ("lost").
LOST_AFTER = 30.0

# Worker exit codes.
EXIT_OK = 0  # stopped on request
EXIT_CRASH = 1  # an unexpected exception: restarted
EXIT_USER = 2  # bad config, browser missing: restarting will not help
EXIT_RESTART = 75  # restart requested (new config, browser recycling)


ACCOUNTS_DIR = "accounts"


def account_dir(run_dir: str | os.PathLike[str], account: str) -> Path:
    """Where one account's signal files live: `run/accounts/NAME`."""
    return Path(run_dir) / ACCOUNTS_DIR / account


def flag(run_dir: str | os.PathLike[str], name: str) -> Path:
    if name not in SIGNALS:
        raise ValueError(f"not a signal file: {name!r}")
    return Path(run_dir) / name


def is_set(run_dir: str | os.PathLike[str], name: str) -> bool:
    return flag(run_dir, name).exists()


def set_flag(run_dir: str | os.PathLike[str], name: str) -> Path:
    path = flag(run_dir, name)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.touch(mode=0o600)
    return path


def clear_flag(run_dir: str | os.PathLike[str], name: str) -> bool:
    try:
        flag(run_dir, name).unlink()
        return True
    except FileNotFoundError:
        return False


def host_name() -> str:
    return os.environ.get(HOST_VAR, "").strip() or socket.gethostname()


def supervisor_doc(host: str | None = None) -> str:
    """The store document holding one host's supervisor state (hosts share a database)."""
    return f"supervisor@{host or host_name()}"
