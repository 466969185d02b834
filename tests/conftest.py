pytest_plugins = ["tests.sim_fixtures", "tests.pg_fixtures"]


def pytest_sessionfinish(session, exitstatus):
    """A skipped test is a check that did not run: the run is red (PostgreSQL, Chromium
    and tmux are all installed by `make test`). No tests collected is red too (exit 5)."""
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = len(reporter.stats.get("skipped", [])) if reporter is not None else 0
    if skipped and exitstatus == 0:
        reporter.write_line(f"{skipped} test(s) skipped: a skipped check fails the run", red=True)
        session.exitstatus = 1
