pytest_plugins = ["tests.sim_fixtures", "tests.pg_fixtures"]
