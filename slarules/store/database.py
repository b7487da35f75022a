"""Opening a store: a fresh Pony `Database`, bound once, migrated, mapped.

`open_database(config)` applies the versioned SQL in `migrations/<dialect>/`
(recorded in `schema_version`) with the driver directly, *before*
`generate_mapping(check_tables=True)` verifies the entities against it.
Each call makes a new `Database`, so tests can open several side by side.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from typing import Any

from pony.orm import Database, db_session
from pony.orm.dbapiprovider import DBException

from slarules.errors import SettingsError
from slarules.settings import DatabaseConfig
from slarules.store.entities import Entities, define_entities

MIGRATION_LOCK = 7_406_113  # PostgreSQL advisory lock key: one migrator at a time
STARTUP_LOCK = 7_406_114  # one process at a time records its start-up rows (the ruleset)


def migrations(dialect: str) -> list[tuple[int, str, str]]:
    """(version, name, sql) of every migration of a dialect, in order."""
    folder = resources.files("slarules.store") / "migrations" / dialect
    out = []
    for item in folder.iterdir():
        if item.name.endswith(".sql"):
            out.append((int(item.name.split("_", 1)[0]), item.name, item.read_text("utf-8")))
    return sorted(out)


def _statements(script: str) -> list[str]:
    lines = [ln for ln in script.splitlines() if not ln.lstrip().startswith("--")]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]


def _raw_connect(config: DatabaseConfig) -> Any:
    if config.provider == "sqlite":
        assert config.filename is not None
        if config.filename == ":sharedmemory:":
            raise ValueError("shared memory")
        conn = sqlite3.connect(config.filename, isolation_level=None, timeout=10)
        conn.execute("PRAGMA journal_mode=WAL")
        return conn
    import psycopg2

    kw = config.pony_kwargs()
    kw.pop("provider")
    if "database" in kw:
        kw["dbname"] = kw.pop("database")
    return psycopg2.connect(**kw)


def migrate(config: DatabaseConfig) -> list[int]:
    """Apply the migrations not yet recorded in `schema_version`; the versions applied."""
    dialect = "sqlite" if config.provider == "sqlite" else "postgres"
    conn = _raw_connect(config)
    applied: list[int] = []
    try:
        cur = conn.cursor()
        if dialect == "sqlite":
            cur.execute("BEGIN IMMEDIATE")
        else:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
        cur.execute(
            'CREATE TABLE IF NOT EXISTS "schema_version" ('
            '"version" INTEGER NOT NULL PRIMARY KEY, "name" TEXT NOT NULL)'
        )
        cur.execute('SELECT "version" FROM "schema_version"')
        done = {row[0] for row in cur.fetchall()}
        ph = "?" if dialect == "sqlite" else "%s"
        for version, name, script in migrations(dialect):
            if version in done:
                continue
            for stmt in _statements(script):
                cur.execute(stmt)
            cur.execute(
                f'INSERT INTO "schema_version" ("version", "name") VALUES ({ph}, {ph})',
                (version, name),
            )
            applied.append(version)
        conn.commit() if dialect == "postgres" else cur.execute("COMMIT")
    except BaseException:
        if dialect == "sqlite":
            if conn.in_transaction:
                conn.execute("ROLLBACK")
        else:
            conn.rollback()
        raise
    finally:
        conn.close()
    return applied


@contextmanager
def startup_lock(config: DatabaseConfig) -> Iterator[None]:
    """Hold PostgreSQL's session advisory lock `STARTUP_LOCK` (its own connection) around
    start-up writes that several processes make at once on a fresh database, such as
    recording the live ruleset: the next process then finds the row. Nothing on SQLite
    (one server process)."""
    if config.provider != "postgres":
        yield
        return
    conn = _raw_connect(config)
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("SELECT pg_advisory_lock(%s)", (STARTUP_LOCK,))
        try:
            yield
        finally:
            with conn.cursor() as cur:
                cur.execute("SELECT pg_advisory_unlock(%s)", (STARTUP_LOCK,))
    finally:
        conn.close()


def open_database(config: DatabaseConfig) -> Entities:
    """Connect, migrate and map; a connection problem is one-line SettingsError."""
    db = Database()
    entities = define_entities(db)
    try:
        if (
            config.provider == "sqlite" and config.filename != ":sharedmemory:"
        ) or config.provider == "postgres":
            migrate(config)

        if config.provider == "sqlite":

            def _pragmas(_db: Database, conn: Any) -> None:
                cur = conn.cursor()
                cur.execute("PRAGMA journal_mode=WAL")
                cur.execute("PRAGMA busy_timeout=10000")
                cur.execute("PRAGMA synchronous=NORMAL")
                cur.close()

            db.on_connect(provider="sqlite")(_pragmas)

        db.bind(**config.pony_kwargs())
        if config.filename == ":sharedmemory:":
            with db_session:
                conn = db.get_connection()
                for _v, _n, script in migrations("sqlite"):
                    for stmt in _statements(script):
                        conn.execute(stmt)
        db.generate_mapping(create_tables=False, check_tables=True)
    except (sqlite3.Error, DBException, OSError) as e:
        raise SettingsError(f"database {config.display}: {_one_line(e)}") from None
    except Exception as e:  # psycopg2 errors and the like
        if type(e).__module__.startswith("psycopg2"):
            raise SettingsError(f"database {config.display}: {_one_line(e)}") from None
        raise
    return entities


def _one_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return text[0] if text else type(e).__name__
