"""Fixtures: loopback servers, config files and databases (SQLite and PostgreSQL)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import kill_leftovers
from tests.servers import HTTPServer, SMTPServer

PG_HOST = "127.0.0.1"
PG_PORT = 5432
PG_ADMIN = f"postgresql://postgres@{PG_HOST}:{PG_PORT}/postgres"
REQUIRE_PG = os.environ.get("NEWSMONITOR_REQUIRE_POSTGRES") == "1"


@pytest.fixture(autouse=True)
def _no_daemon_outlives_its_test() -> Iterator[None]:
    yield
    kill_leftovers()


@pytest.fixture
def http() -> Iterator[HTTPServer]:
    server = HTTPServer().start()
    yield server
    server.stop()


@pytest.fixture
def receiver() -> Iterator[HTTPServer]:
    """A second HTTP server, for webhooks."""
    server = HTTPServer().start()
    yield server
    server.stop()


@pytest.fixture
def smtp() -> Iterator[SMTPServer]:
    server = SMTPServer().start()
    yield server
    server.stop()


def _pg_available() -> str | None:
    try:
        import psycopg
    except ImportError:
        return "psycopg is not installed"
    try:
        with psycopg.connect(PG_ADMIN, connect_timeout=3):
            return None
    except psycopg.Error as exc:
        return f"PostgreSQL is not reachable on {PG_HOST}:{PG_PORT} ({str(exc).strip()[:120]})"


@pytest.fixture(scope="session")
def pg_server() -> None:
    problem = _pg_available()
    if problem is not None:
        if REQUIRE_PG:
            pytest.fail(f"NEWSMONITOR_REQUIRE_POSTGRES=1 but {problem}")
        pytest.skip(problem)


@pytest.fixture
def pg_url(pg_server: None) -> Iterator[str]:
    """A fresh PostgreSQL database for one test, dropped afterwards."""
    import psycopg

    name = f"newsmonitor_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield f"postgresql+psycopg://postgres@{PG_HOST}:{PG_PORT}/{name}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each storage test runs on a SQLite file and on a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'newsmonitor.db'}"
    return str(request.getfixturevalue("pg_url"))
