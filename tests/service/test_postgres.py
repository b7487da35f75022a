"""PostgreSQL specifics: a server whose sessions default to another time zone; migrations."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import psycopg2
import pytest

from slarules.settings import DatabaseConfig
from slarules.store import Store
from slarules.store.database import migrate, migrations
from tests.service.conftest import open_api
from tests.service.gql import RECORD_EVENTS, RECORD_TICKET, TICKET, message, ticket

pytestmark = pytest.mark.postgres


def _raw(cfg: DatabaseConfig) -> psycopg2.extensions.connection:
    return psycopg2.connect(host=cfg.host, port=cfg.port, user=cfg.user, dbname=cfg.database)


def test_instants_round_trip_when_the_server_zone_is_not_utc(
    pg_database: Callable[..., DatabaseConfig],
) -> None:
    cfg = pg_database(timezone="America/New_York")
    with _raw(cfg) as conn, conn.cursor() as cur:
        cur.execute("SHOW timezone")
        assert cur.fetchone()[0] == "America/New_York"  # what a plain session gets
    with open_api(cfg) as api:
        with api.runtime.store.sql.read() as cur:
            cur.execute("SHOW timezone")
            assert cur.fetchone()[0] == "UTC"  # the store's sessions: -c timezone=UTC
            cur.execute("SHOW max_parallel_workers_per_gather")
            assert cur.fetchone()[0] == "0"  # and no parallel workers for its page queries
        api.clock.advance(hours=1)  # the ticket below is created at 12:30Z
        api.data(RECORD_TICKET, ticket("T-1", "2026-03-02T09:30:00-03:00", tags=["urgent"]))
        api.clock.advance(hours=1)
        api.data(RECORD_EVENTS, {"events": [message("e1", "T-1", "2026-03-02T12:45:00Z")]})
        got = api.data(TICKET, {"id": "T-1"})["ticket"]
        assert got["createdAt"] == "2026-03-02T12:30:00Z"
        assert got["events"][0]["at"] == "2026-03-02T12:45:00Z"
        assert got["cycles"][0]["dueAt"] == "2026-03-02T13:30:00Z"
    # stored as naive UTC wall time, whatever the server's zone
    with _raw(cfg) as conn, conn.cursor() as cur:
        cur.execute('SELECT "created_at" FROM "ticket" WHERE "id" = %s', ("T-1",))
        assert cur.fetchone()[0] == datetime(2026, 3, 2, 12, 30)


def test_migrations_apply_once(pg_database: Callable[..., DatabaseConfig]) -> None:
    cfg = pg_database()
    every = [v for v, _, _ in migrations("postgres")]
    assert every == [1, 2, 3, 4, 5, 6, 7, 8]  # 0003 checkpoints, 0004 reports, 0005 credit,
    # 0006 alerts, 0007 evaluation copies, 0008 ticket filter indexes with the id
    assert migrate(cfg) == every
    assert migrate(cfg) == []
    store = Store.open(cfg)  # maps onto the migrated tables
    assert store.ping()
    with _raw(cfg) as conn, conn.cursor() as cur:
        cur.execute('SELECT "version" FROM "schema_version"')
        assert [r[0] for r in cur.fetchall()] == every
        cur.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'cycle' ORDER BY 1")
        names = [r[0] for r in cur.fetchall()]
        assert {"ix_cycle_next_at", "ix_cycle_state_breach", "ix_cycle_state_due"} <= set(names)
