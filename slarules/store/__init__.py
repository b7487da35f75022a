"""EDGE: storage on Pony ORM (SQLite by default, PostgreSQL by URL).

`Store.open(config)` gives a bound, migrated store; its repositories are
synchronous and return engine objects and plain views (call them through
`run_in_threadpool` from async code).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from pony.orm import db_session

from slarules.engine.policy import Policy
from slarules.engine.ticket import TicketHistory
from slarules.settings import DatabaseConfig
from slarules.store.database import open_database
from slarules.store.entities import Entities
from slarules.store.queries import Queries
from slarules.store.records import Measure, ValidateFields
from slarules.store.sql import Sql
from slarules.store.tickets import TicketRepository
from slarules.store.times import from_db, to_db

__all__ = ["Store", "engine_measure", "engine_validate_fields"]


def engine_measure(policy: Policy, history: TicketHistory, now: datetime) -> Any:
    from slarules.engine.timers import measure

    return measure(policy, history, now)


def engine_validate_fields(
    policy: Policy, mapping: Mapping[str, Any], where: str
) -> dict[str, Any]:
    from slarules.fixtures import validate_fields

    return dict(validate_fields(policy, mapping, where))


class Store:
    def __init__(
        self,
        entities: Entities,
        config: DatabaseConfig,
        measure: Measure | None = None,
        validate: ValidateFields | None = None,
    ) -> None:
        self.entities = entities
        self.config = config
        self.db = entities.db
        self.sql = Sql(self.db)
        self.tickets = TicketRepository(
            self.sql, measure or engine_measure, validate or engine_validate_fields
        )
        self.queries = Queries(self.tickets)

    @classmethod
    def open(
        cls,
        config: DatabaseConfig,
        measure: Measure | None = None,
        validate: ValidateFields | None = None,
    ) -> Store:
        """Connect, migrate, map (SettingsError with one line when that fails)."""
        return cls(open_database(config), config, measure, validate)

    def close(self) -> None:
        """Close this thread's connection (worker threads' ones close with the process)."""
        self.db.disconnect()

    def save_ruleset(
        self, policy: Policy, sources: Mapping[str, str], loaded_at: datetime
    ) -> datetime:
        """Record a ruleset that went live (once per version); its first `loaded_at`."""
        R = self.entities.Ruleset
        with db_session:
            row = R.get(version=policy.version)
            if row is None:
                row = R(
                    version=policy.version,
                    loaded_at=to_db(loaded_at),
                    files=list(policy.files),
                    sources=dict(sources),
                )
            return from_db(row.loaded_at)

    def notify(self, channel: str, payload: str) -> None:
        """PostgreSQL NOTIFY (other server processes listen); nothing on SQLite."""
        if not self.sql.pg:
            return
        with self.sql.write() as cur:
            self.sql.execute(cur, "SELECT pg_notify(?, ?)", (channel, payload))

    def ping(self) -> bool:
        """The database answers a query."""
        try:
            with self.sql.read() as cur:
                cur.execute("SELECT 1")
                return bool(cur.fetchone()[0] == 1)
        except Exception:
            return False

    def cycle_states(self, now: datetime) -> dict[str, int]:
        """Stored cycles by state as of `now` (an active one past its breach instant is
        breached): the `slarules_cycles` metric."""
        s = self.sql
        with s.read() as cur:
            s.execute(cur, 'SELECT "state", COUNT(*) FROM "cycle" GROUP BY "state"')
            out = {r[0]: int(r[1]) for r in cur.fetchall()}
            s.execute(
                cur,
                'SELECT COUNT(*) FROM "cycle" WHERE "state" = \'active\' AND "breach_at" <= ?',
                (s.t(now),),
            )
            late = int(cur.fetchone()[0])
        if late:
            out["active"] = out.get("active", 0) - late
            out["breached"] = out.get("breached", 0) + late
        return out

    def ruleset_versions(self) -> Sequence[str]:
        with db_session:
            return [
                r.version
                for r in self.entities.Ruleset.select().order_by(self.entities.Ruleset.loaded_at)
            ]
