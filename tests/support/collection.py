"""A run that collected far fewer tests than there are is red, whatever else it says.

An import error that hides a folder, a wrong `testpaths`, a module renamed so that pytest
no longer sees it: pytest says nothing about tests it never found. So the number of tests
collected in each level is compared with a floor kept here, whenever that whole level is
run (`pytest`, `pytest tests`, `pytest tests/unit`, ...; not with `-k`, `-m`, `--deselect`,
`--ignore` or single files). Adding tests needs nothing; removing or merging tests on
purpose means lowering the floor here, in the same commit."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pytest

LEVELS = ("unit", "integration", "e2e")

# Tests collected per level when this was last set (tests/README.md says when to change it).
FLOORS = {"unit": 294, "integration": 369, "e2e": 168}


def level_of(nodeid: str) -> str | None:
    parts = nodeid.split("/")
    if len(parts) > 2 and parts[0] == "tests" and parts[1] in LEVELS:
        return parts[1]
    return None


def count(nodeids: Iterable[str]) -> dict[str, int]:
    out = dict.fromkeys(LEVELS, 0)
    for nodeid in nodeids:
        level = level_of(nodeid)
        if level is not None:
            out[level] += 1
    return out


def whole_levels(config: pytest.Config) -> set[str]:
    """The levels this run covers entirely: none when tests are filtered or files chosen."""
    opt = config.option
    if (
        opt.keyword
        or opt.markexpr
        or getattr(opt, "deselect", None)
        or getattr(opt, "ignore", None)
        or getattr(opt, "ignore_glob", None)
        or getattr(opt, "lf", False)
        or getattr(opt, "stepwise", False)
    ):
        return set()
    tests = config.rootpath / "tests"
    whole: set[str] = set()
    for arg in config.args:
        path = Path(arg.split("::", 1)[0])
        path = (config.invocation_params.dir / path).resolve() if not path.is_absolute() else path.resolve()
        if "::" in arg:
            continue
        if path in (tests, config.rootpath):
            whole.update(LEVELS)
        elif path.parent == tests and path.name in LEVELS:
            whole.add(path.name)
    return whole


def shortfalls(config: pytest.Config, nodeids: Iterable[str]) -> list[str]:
    """One line per level run whole that collected fewer tests than its floor."""
    got = count(nodeids)
    return [
        f"tests/{level}: {got[level]} tests collected, at least {FLOORS[level]} expected "
        "(a module that no longer loads? tests removed on purpose: lower FLOORS in tests/support/collection.py)"
        for level in LEVELS
        if level in whole_levels(config) and got[level] < FLOORS[level]
    ]
