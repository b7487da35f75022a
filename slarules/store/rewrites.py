"""Rewrite derived rows by the columns that changed, not whole.

SQLite and PostgreSQL rewrite a row's entry in every index over a column an UPDATE
sets, even to the value it holds, and a DELETE + INSERT rewrites every index of the
table. Saving a ticket used to set every column of its ticket row (ten indexes, two of
them over `fields`) and delete and insert its cycle rows (nine indexes): a single-event
`recordEvents` wrote about 29 pages to SQLite's write-ahead log, most of them index
pages holding the same keys.

`rewrite` compares each new row with the stored one (read in the same transaction) and
sets only the columns whose value differs, inserts the rows that are new and, when
asked, deletes the stored rows the new set no longer holds. The rows after it are those
the whole rewrite left, apart from the rowids of rows kept in place (nothing reads them
as a key).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from slarules.store.sql import Sql, chunks

__all__ = ["rewrite", "same", "select_keys"]

Row = tuple[Any, ...]


def same(stored: Any, new: Any) -> bool:
    """Does the column already hold the parameter `new`? (PostgreSQL reads JSON columns
    back as values: they hold `new` when they encode to its text.)"""
    if stored == new:  # 1 for True, 1.0 for 1: what storing `new` would leave
        return True
    return isinstance(stored, dict | list) and isinstance(new, str) and Sql.j(stored) == new


def select_keys(
    sql: Sql,
    cur: Any,
    select: str,
    key_columns: Sequence[str],
    keys: Sequence[Row],
    size: int = 100,
) -> list[Row]:
    """The rows of `select` (a `SELECT … FROM "t" ` text) whose `key_columns` are one of
    `keys`: an OR of equalities, which both databases answer from the key's index."""
    term = "(" + " AND ".join(f'"{c}" = ?' for c in key_columns) + ")"
    out: list[Row] = []
    for part in chunks(keys, size):
        sql.execute(cur, select + "WHERE " + " OR ".join([term] * len(part)), _flat(part))
        out.extend(tuple(r) for r in cur.fetchall())
    return out


def rewrite(
    sql: Sql,
    cur: Any,
    table: str,
    columns: Sequence[str],
    key: Sequence[int],
    stored: Mapping[Row, Row],
    rows: Iterable[Row],
    prune: Iterable[Row] = (),
) -> None:
    """Make the rows of `table` with these keys hold `rows` (tuples in `columns` order,
    `key` the positions of the key columns): set the changed columns of the `stored` ones
    (by key, in `columns` order), insert the others, then delete the keys of `prune` (a
    subset of `stored`'s) that `rows` does not hold."""
    names = [f'"{c}"' for c in columns]
    where = " AND ".join(f"{names[i]} = ?" for i in key)
    inserts: list[Row] = []
    updates: dict[tuple[int, ...], list[Row]] = {}
    written: set[Row] = set()
    for row in rows:
        k = tuple(row[i] for i in key)
        written.add(k)
        old = stored.get(k)
        if old is None:
            inserts.append(row)
            continue
        changed = tuple(i for i, v in enumerate(row) if not same(old[i], v))
        if changed:
            updates.setdefault(changed, []).append(
                (*(row[i] for i in changed), *(row[i] for i in key))
            )
    if inserts:
        sql.executemany(
            cur,
            f'INSERT INTO "{table}" ({", ".join(names)}) VALUES ({sql.marks(len(names))})',
            inserts,
        )
    for changed, params in updates.items():
        sets = ", ".join(f"{names[i]} = ?" for i in changed)
        sql.executemany(cur, f'UPDATE "{table}" SET {sets} WHERE {where}', params)
    gone = [k for k in prune if k not in written]
    if gone:
        sql.executemany(cur, f'DELETE FROM "{table}" WHERE {where}', gone)


def _flat(rows: Sequence[Row]) -> list[Any]:
    return [v for r in rows for v in r]
