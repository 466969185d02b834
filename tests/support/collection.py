"""The levels of the suite (tests/README.md): a test's level is the folder it is in."""

from __future__ import annotations

LEVELS = ("unit", "integration", "e2e")


def level_of(nodeid: str) -> str | None:
    parts = nodeid.split("/")
    if len(parts) > 2 and parts[0] == "tests" and parts[1] in LEVELS:
        return parts[1]
    return None
