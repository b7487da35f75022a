"""Plain SQL inside Pony sessions: one dialect helper for SQLite and PostgreSQL.

Pony owns connections, sessions and transactions (`db_session`); hot paths
(bulk rewrites of derived rows, indexed list queries) use the session's
DB-API connection with `?` placeholders, rewritten to `%s` on PostgreSQL.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from pony.orm import Database, db_session

from slarules.store.times import to_db


class Sql:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.pg = db.provider_name == "postgres"
        self.lock = " FOR UPDATE" if self.pg else ""  # SQLite: BEGIN IMMEDIATE locks it all
        self.statements = 0  # statements sent (tests check for N+1 queries with it)

    def q(self, text: str) -> str:
        return text.replace("?", "%s") if self.pg else text

    def t(self, at: datetime | None) -> Any:
        """An aware instant as a query parameter (naive UTC; text on SQLite)."""
        if at is None:
            return None
        naive = to_db(at)
        return naive if self.pg else naive.isoformat(" ")  # whole seconds: 'YYYY-MM-DD HH:MM:SS'

    def tn(self, naive: datetime) -> Any:
        """A naive-UTC instant as a parameter."""
        return naive if self.pg else naive.replace(microsecond=0).isoformat(" ")

    @staticmethod
    def j(value: Any) -> str:
        return _ENCODE(value)

    @staticmethod
    def unj(value: Any) -> Any:
        return json.loads(value) if isinstance(value, str | bytes) else value

    def execute(self, cur: Any, text: str, params: Sequence[Any] = ()) -> Any:
        self.statements += 1
        cur.execute(self.q(text), tuple(params))
        return cur

    def executemany(self, cur: Any, text: str, rows: Sequence[Sequence[Any]]) -> None:
        if rows:
            self.statements += 1
            if self.pg:  # one round trip per page of rows, not per row
                from psycopg2.extras import execute_batch

                execute_batch(cur, self.q(text), rows, page_size=250)
            else:
                cur.executemany(self.q(text), rows)

    def marks(self, n: int) -> str:
        return ",".join("?" * n)

    @contextmanager
    def write(self) -> Iterator[Any]:
        """A write transaction (BEGIN IMMEDIATE on SQLite), committed by Pony on exit."""
        with db_session(immediate=True, serializable=False):
            conn = self.db.get_connection()
            cur = conn.cursor()
            try:
                yield cur
            finally:
                cur.close()

    @contextmanager
    def read(self) -> Iterator[Any]:
        """A read session: no write lock taken on SQLite."""
        with db_session:
            cache = self.db._get_cache()  # Pony's session cache; gives its connection
            cache.prepare_connection_for_query_execution()
            cur = cache.connection.cursor()
            try:
                yield cur
            finally:
                cur.close()


# `json.dumps(value, separators=(",", ":"), sort_keys=True)` without building an encoder
# per call (the same text)
_ENCODE = json.JSONEncoder(separators=(",", ":"), sort_keys=True).encode


def chunks(items: Sequence[Any], size: int = 500) -> Iterator[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]
