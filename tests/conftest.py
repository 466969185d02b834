pytest_plugins = ["tests.sim_fixtures"]
