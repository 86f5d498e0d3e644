"""Every contract test runs against each engine: SQLite always, PostgreSQL when it can start.

The PostgreSQL half starts one throwaway cluster for the session
(:func:`orca.testing.postgres_cluster`: ``initdb`` + ``pg_ctl`` in a temp dir, loopback
port) and gives each test a fresh database. Without server binaries those tests
are skipped with the reason shown in the summary (``-ra``), never silently.
"""

import itertools
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from orca.store import STORE_ENV, TraceStore, open_store
from orca.testing import PostgresCluster, postgres_bin, postgres_cluster

ENGINES = ["sqlite", "postgresql"]
NO_PG = (
    "PostgreSQL half skipped: no server binaries under /usr/lib/postgresql/*/bin"
    " (apt-get install postgresql; see .ci/apt-packages)"
)
_names = itertools.count()

StoreFactory = Callable[[Path], TraceStore]


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PostgresCluster | None]:
    """One throwaway cluster for the whole session, stopped at its end (None: no binaries)."""
    if postgres_bin() is None:
        yield None
        return
    with postgres_cluster() as cluster:
        yield cluster


@pytest.fixture
def pg_url(pg_cluster: PostgresCluster | None) -> str:
    """A fresh, empty database for one test."""
    if pg_cluster is None:
        pytest.skip(NO_PG)
    return pg_cluster.create_database(f"t{os.getpid()}_{next(_names)}")


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def store_url(engine: str, request: pytest.FixtureRequest, home: Path) -> str:
    """The URL of an empty store of ``engine``."""
    if engine == "sqlite":
        return f"sqlite://{home / 'store.sqlite'}"
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
def make_store(store_url: str, monkeypatch: pytest.MonkeyPatch) -> StoreFactory:
    """Open the test's store as the collector of ``home`` would (its origin is that home)."""
    monkeypatch.setenv(STORE_ENV, store_url)

    def make(home: Path) -> TraceStore:
        return open_store(home, create=True)

    return make


@pytest.fixture
def store(make_store: StoreFactory, home: Path) -> Iterator[TraceStore]:
    s = make_store(home)
    yield s
    s.close()
