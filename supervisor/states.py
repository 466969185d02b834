"""The states of one supervised worker and the only legal moves between them (as the
message states in store/states.py): every change goes through `check`, so a bug in the
restart policy raises instead of showing a state that cannot be."""

from __future__ import annotations

STARTING, RUNNING, BACKOFF, PAUSED, FATAL, STOPPED = "starting", "running", "backoff", "paused", "fatal", "stopped"
STATES = (STARTING, RUNNING, BACKOFF, PAUSED, FATAL, STOPPED)
IDLE = "idle"  # the supervisor's own state when no account is enabled (never a worker's)

MOVES: dict[str, frozenset[str]] = {
    # a start: the supervisor's first, an account enabled, its stop file removed
    STOPPED: frozenset({STARTING}),
    # up (heartbeat and start_seconds), a failed start, a user error, a stop, exit 75 at once
    STARTING: frozenset({RUNNING, PAUSED, BACKOFF, FATAL, STOPPED}),
    RUNNING: frozenset({PAUSED, STARTING, BACKOFF, FATAL, STOPPED}),
    PAUSED: frozenset({RUNNING, STARTING, BACKOFF, FATAL, STOPPED}),
    # the wait is over, or a stop came first; the worker cannot even be started
    BACKOFF: frozenset({STARTING, STOPPED, FATAL}),
    # only a person's start (restart file, SIGUSR1, dashboard) or a stop ends it
    FATAL: frozenset({STARTING, STOPPED}),
}


class IllegalMove(Exception):
    """A supervisor state change that the table forbids."""


def check(current: str, new: str) -> None:
    if new != current and new not in MOVES.get(current, ()):
        raise IllegalMove(f"a worker cannot go from {current!r} to {new!r}")


def overall(states: list[str]) -> str:
    """One state for the whole supervisor: the liveliest of its workers' (running beats
    starting beats backoff beats paused beats fatal beats stopped)."""
    for s in (RUNNING, STARTING, BACKOFF, PAUSED, FATAL, STOPPED):
        if s in states:
            return s
    return IDLE
