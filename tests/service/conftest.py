"""Service test fixtures: databases (SQLite temp files, throw-away PostgreSQL databases),
apps with a frozen clock, and a small GraphQL client."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from slarules.app import create_app
from slarules.clock import FrozenClock
from slarules.runtime import LiveRuleset
from slarules.settings import DatabaseConfig, Settings, parse_database_url
from tests.service.rules import T0, make_policy

PG = {"host": "127.0.0.1", "port": 5432, "user": "postgres", "dbname": "test"}


def _pg_admin() -> Any:
    import psycopg2

    conn = psycopg2.connect(connect_timeout=3, **PG)
    conn.autocommit = True
    return conn


@pytest.fixture(scope="session")
def pg_available() -> bool:
    try:
        _pg_admin().close()
        return True
    except Exception as e:
        if os.environ.get("SLA_TEST_POSTGRES") == "require":
            pytest.fail(f"PostgreSQL required (SLA_TEST_POSTGRES=require) but unreachable: {e}")
        return False


@pytest.fixture
def pg_database(pg_available: bool) -> Iterator[Callable[..., DatabaseConfig]]:
    """A factory of throw-away PostgreSQL databases, dropped after the test."""
    if not pg_available:
        pytest.skip("PostgreSQL unreachable on 127.0.0.1:5432 (user postgres, database test)")
    made: list[str] = []

    def make(timezone: str | None = None) -> DatabaseConfig:
        name = f"slarules_t_{uuid.uuid4().hex[:12]}"
        admin = _pg_admin()
        with admin.cursor() as cur:
            cur.execute(f'CREATE DATABASE "{name}"')
            if timezone:  # a server whose sessions default to another zone
                cur.execute(f"ALTER DATABASE \"{name}\" SET timezone TO '{timezone}'")
        admin.close()
        made.append(name)
        return DatabaseConfig(
            "postgres", host=PG["host"], port=PG["port"], user=PG["user"], database=name
        )

    yield make
    admin = _pg_admin()
    with admin.cursor() as cur:
        for name in made:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()


@pytest.fixture(params=["sqlite", "postgres"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> DatabaseConfig:
    if request.param == "sqlite":
        return parse_database_url(f"sqlite:///{tmp_path / 'store.db'}")
    factory = request.getfixturevalue("pg_database")
    return factory()  # type: ignore[no-any-return]


@pytest.fixture
def sqlite_db(tmp_path: Path) -> DatabaseConfig:
    return parse_database_url(f"sqlite:///{tmp_path / 'store.db'}")


class Api:
    """A TestClient plus helpers to post GraphQL and read data/errors."""

    def __init__(self, client: TestClient, clock: FrozenClock, app: Any) -> None:
        self.client = client
        self.clock = clock
        self.app = app
        self.token: str | None = None

    @property
    def runtime(self) -> Any:
        return self.app.state.runtime

    def post(
        self, query: str, variables: dict[str, Any] | None = None, token: str | None = None
    ) -> dict[str, Any]:
        headers = {}
        tok = token or self.token
        if tok:
            headers["Authorization"] = f"Bearer {tok}"
        r = self.client.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )
        assert r.status_code == 200, r.text
        return r.json()  # type: ignore[no-any-return]

    def data(
        self, query: str, variables: dict[str, Any] | None = None, token: str | None = None
    ) -> dict[str, Any]:
        body = self.post(query, variables, token)
        assert "errors" not in body, body["errors"]
        return body["data"]  # type: ignore[no-any-return]

    def error(
        self, query: str, variables: dict[str, Any] | None = None, token: str | None = None
    ) -> dict[str, Any]:
        body = self.post(query, variables, token)
        assert body.get("errors"), body
        return body["errors"][0]  # type: ignore[no-any-return]

    def counts(self) -> dict[str, int]:
        return self.runtime.store.tickets.counts()  # type: ignore[no-any-return]


@contextmanager
def open_api(db: DatabaseConfig, **settings_kw: Any) -> Iterator[Api]:
    # the suite seeds tickets ahead of its frozen clock: allow a day of skew unless a test
    # sets it (tests/service/test_intake.py checks the default)
    settings_kw.setdefault("max_clock_skew", 86_400.0)
    settings = replace(Settings(database=db), **settings_kw)
    clock = FrozenClock(T0)
    app = create_app(
        settings,
        clock,
        ruleset=LiveRuleset(make_policy(), T0, {"rules.sla": "…"}),
    )
    with TestClient(app) as client:
        yield Api(client, clock, app)


@pytest.fixture
def api(sqlite_db: DatabaseConfig) -> Iterator[Api]:
    with open_api(sqlite_db) as a:
        yield a


@pytest.fixture
def api_any(database: DatabaseConfig) -> Iterator[Api]:
    """The same API on SQLite and on PostgreSQL."""
    with open_api(database) as a:
        yield a
