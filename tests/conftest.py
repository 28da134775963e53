"""Shared pytest fixtures: throwaway PostgreSQL 15 and MariaDB servers (tests/servers.py).

servers.py is imported inside the fixtures, so a test that uses neither server never needs
their drivers.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from servers import Kind, Server

# What each kind of server needs from Python, besides its own programs.
_MODULES: dict[Kind, list[str]] = {
    "postgresql": ["pyarrow", "duckdb", "adbc_driver_postgresql"],
    "mysql": ["pyarrow", "duckdb", "pymysql"],
}


def _require(kind: Kind) -> None:
    """Skip when this kind of server cannot run here; on CI fail instead, so it really runs."""
    from servers import missing_binaries

    missing = missing_binaries(kind)
    missing += [name for name in _MODULES[kind] if importlib.util.find_spec(name) is None]
    if not missing:
        return
    reason = f"{kind} test server needs what is missing here: {', '.join(missing)}"
    if os.environ.get("CI") == "true":
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)


def _serve(kind: Kind) -> Iterator[Server]:
    _require(kind)
    from servers import start_mariadb, start_postgresql

    server = start_postgresql() if kind == "postgresql" else start_mariadb()
    try:
        yield server
    finally:
        server.stop()


def _fresh(server: Server) -> Iterator[Server]:
    database = server.fresh_database()
    try:
        yield database
    finally:
        database.stop()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[Server]:
    """One throwaway PostgreSQL 15 for the session, database `reconcile`, socket only."""
    yield from _serve("postgresql")


@pytest.fixture(scope="session")
def mariadb_server() -> Iterator[Server]:
    """One throwaway MariaDB for the session, database `reconcile` (utf8mb4_bin), socket only."""
    yield from _serve("mysql")


@pytest.fixture
def postgres_database(postgres_server: Server) -> Iterator[Server]:
    """A fresh empty database on the session's PostgreSQL, dropped after the test."""
    yield from _fresh(postgres_server)


@pytest.fixture
def mariadb_database(mariadb_server: Server) -> Iterator[Server]:
    """A fresh empty database on the session's MariaDB, dropped after the test."""
    yield from _fresh(mariadb_server)
