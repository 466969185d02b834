"""PostgreSQL for the tests (fixtures registered in tests/conftest.py): one throw-away
cluster per test session (started on first use; with pytest-xdist each worker process is
a session of its own, so each has its own cluster, port and folder), a fresh database
per test. `make test` installs Debian's postgresql; a machine without it fails these
tests rather than skipping them."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.pg_cluster import Cluster

BACKENDS = ("sqlite", "postgresql")


@pytest.fixture(scope="session")
def pg_cluster():
    cluster = Cluster().start()
    yield cluster
    cluster.stop()


@pytest.fixture
def pg_url(pg_cluster: Cluster) -> str:
    return pg_cluster.fresh_db()


@pytest.fixture(params=BACKENDS)
def db_target(request: pytest.FixtureRequest, tmp_path: Path) -> str | Path:
    """The same test on an SQLite file and on a PostgreSQL database."""
    if request.param == "sqlite":
        return tmp_path / "t.db"
    return request.getfixturevalue("pg_cluster").fresh_db()
