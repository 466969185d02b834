"""The whole suite: the levels (tests/unit, tests/integration, tests/e2e, each with its
own conftest.py), the shared fixtures, and the rules that keep a run honest:

- a skipped test fails the run (PostgreSQL, Chromium and tmux are all installed by
  `make test`; a check that did not run is not a green check);
- a run of a whole level that collected fewer tests than its floor fails
  (tests/support/collection.py); no tests at all is exit status 5, red as well.

Shared code lives in tests/support/; no test module imports another test module."""

from __future__ import annotations

import signal
from typing import Any

import pytest

from tests.support import collection

pytest_plugins = ["tests.support.pg_fixtures", "tests.support.sim_fixtures"]

# A run started in the background (`cmd &`, nohup) inherits SIGINT or SIGHUP ignored, and
# so would every program the tests start; the tests that stop programs with Ctrl-C or a
# hang-up need them as a terminal delivers them.
for _sig, _handler in ((signal.SIGINT, signal.default_int_handler), (signal.SIGHUP, signal.SIG_DFL)):
    if signal.getsignal(_sig) is signal.SIG_IGN:
        signal.signal(_sig, _handler)

COLLECTED = pytest.StashKey[list[str]]()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Each test gets its level's marker (`-m "not e2e"`). In one process the levels run
    fastest first (a broken unit test says so at once); shared out by pytest-xdist, the
    slowest first (a long end-to-end test started last would keep the run waiting)."""
    levels = collection.LEVELS[::-1] if hasattr(config, "workerinput") else collection.LEVELS
    order = {level: i for i, level in enumerate(levels)}
    for item in items:
        level = collection.level_of(item.nodeid)
        if level is not None:
            item.add_marker(level)
    items.sort(key=lambda item: order.get(collection.level_of(item.nodeid) or "", len(order)))


def pytest_collection_finish(session: pytest.Session) -> None:
    if not hasattr(session.config, "workerinput"):  # an xdist worker: the controller checks
        _check_floor(session.config, [item.nodeid for item in session.items])


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_node_collection_finished(node: Any, ids: list[str]) -> None:
    config = node.config
    if config.stash.get(COLLECTED, None) is None:  # every worker collects the same tests
        config.stash[COLLECTED] = list(ids)
        _check_floor(config, ids)


def _check_floor(config: pytest.Config, nodeids: list[str]) -> None:
    problems = collection.shortfalls(config, nodeids)
    if problems:
        pytest.exit("too few tests collected:\n" + "\n".join(problems), returncode=pytest.ExitCode.TESTS_FAILED)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """A skipped test is a check that did not run: the run is red."""
    if hasattr(session.config, "workerinput"):
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = len(reporter.stats.get("skipped", [])) if reporter is not None else 0
    if skipped and exitstatus == 0:
        reporter.write_line(f"{skipped} test(s) skipped: a skipped check fails the run", red=True)
        session.exitstatus = 1
