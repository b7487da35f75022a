"""EDGE: storage on Pony ORM (SQLite by default, PostgreSQL by URL): a repository.

`Store.open(config)` gives a bound, migrated store. Its parts are synchronous
(call them through a thread from async code) and know rows and SQL, not SLA
rules: `tickets` (ticket rows, events, derived rows), `queries` (lists),
`alerts` (the outbox). The service (`slarules.service`) measures tickets
with the engine and hands the results here inside `write()` transactions.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from pony.orm import db_session

from slarules.engine.policy import Policy, fold
from slarules.settings import DatabaseConfig
from slarules.store.alerts import AlertOutbox
from slarules.store.database import open_database
from slarules.store.entities import Entities
from slarules.store.queries import Queries
from slarules.store.sql import Sql
from slarules.store.tickets import KEY_COLUMNS, TicketRepository
from slarules.store.times import from_db, to_db

__all__ = ["Store"]


class Store:
    def __init__(self, entities: Entities, config: DatabaseConfig) -> None:
        self.entities = entities
        self.config = config
        self.db = entities.db
        self.sql = Sql(self.db)
        self.tickets = TicketRepository(self.sql)
        self.queries = Queries(self.sql)
        self.alerts = AlertOutbox(self.sql)

    @classmethod
    def open(cls, config: DatabaseConfig) -> Store:
        """Connect, migrate, map (SettingsError with one line when that fails)."""
        store = cls(open_database(config), config)
        store.fill_keys()
        return store

    def close(self) -> None:
        """Close this thread's connection (worker threads' ones close with the process)."""
        self.db.disconnect()

    @contextmanager
    def write(self) -> Iterator[Any]:
        """A write transaction: a cursor, committed on exit (rolled back on an exception)."""
        with self.sql.write() as cur:
            yield cur

    @contextmanager
    def read(self) -> Iterator[Any]:
        with self.sql.read() as cur:
            yield cur

    @contextmanager
    def session(self) -> Iterator[None]:
        """One session around several reads (each `read` inside it joins it): one
        transaction, so the reads of a page see one snapshot on SQLite, and PostgreSQL
        pays one end of transaction (a round trip) for the page instead of one per read."""
        with db_session:
            yield

    def fill_keys(self) -> int:
        """Fill the folded `_key` columns of rows written before schema v2 (once)."""
        s = self.sql
        cols = ", ".join(f'"{c}"' for c in KEY_COLUMNS)
        missing = " OR ".join(f'("{c}" IS NOT NULL AND "{c}_key" IS NULL)' for c in KEY_COLUMNS)
        with s.write() as cur:
            s.execute(cur, f'SELECT "id", {cols} FROM "ticket" WHERE {missing}')
            rows = cur.fetchall()
            sets = ", ".join(f'"{c}_key" = ?' for c in KEY_COLUMNS)
            s.executemany(
                cur,
                f'UPDATE "ticket" SET {sets} WHERE "id" = ?',
                [(*(None if v is None else fold(v) for v in r[1:]), r[0]) for r in rows],
            )
        return len(rows)

    def save_ruleset(
        self, policy: Policy, sources: Mapping[str, str], loaded_at: datetime
    ) -> datetime:
        """Record a ruleset that went live (once per version); its first `loaded_at`.

        Processes reloading the same files at once may both insert: the loser reads the
        winner's row (the unique version decides)."""
        try:
            return self._save_ruleset(policy, sources, loaded_at)
        except Exception as e:
            if "Integrity" not in type(e).__name__ and "Unique" not in type(e).__name__:
                raise
        return self._save_ruleset(policy, sources, loaded_at)

    def _save_ruleset(
        self, policy: Policy, sources: Mapping[str, str], loaded_at: datetime
    ) -> datetime:
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

    def ruleset_versions(self) -> Sequence[str]:
        with db_session:
            return [
                r.version
                for r in self.entities.Ruleset.select().order_by(self.entities.Ruleset.loaded_at)
            ]
