import signal

pytest_plugins = ["tests.sim_fixtures", "tests.pg_fixtures"]

# A run started in the background (`cmd &`, nohup) inherits SIGINT or SIGHUP ignored, and
# so would every program the tests start; the tests that stop programs with Ctrl-C or a
# hang-up need them as a terminal delivers them.
for _sig, _handler in ((signal.SIGINT, signal.default_int_handler), (signal.SIGHUP, signal.SIG_DFL)):
    if signal.getsignal(_sig) is signal.SIG_IGN:
        signal.signal(_sig, _handler)


def pytest_sessionfinish(session, exitstatus):
    """A skipped test is a check that did not run: the run is red (PostgreSQL, Chromium
    and tmux are all installed by `make test`). No tests collected is red too (exit 5)."""
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = len(reporter.stats.get("skipped", [])) if reporter is not None else 0
    if skipped and exitstatus == 0:
        reporter.write_line(f"{skipped} test(s) skipped: a skipped check fails the run", red=True)
        session.exitstatus = 1
