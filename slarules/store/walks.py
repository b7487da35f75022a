"""Reading a list in SQL by walking an index (SQLite): conditions kept from the index
choice, ticket conditions asked by id, sort-key values and page cursors, text as `str`."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from slarules.store.filters import SortKey, Where
from slarules.store.sql import Sql

__all__ = ["Cursors", "by_part", "key_value", "plain_text", "unindexed", "walking"]

_COLUMN = re.compile(r'(?<![\w"+.])([ct])\."')
_TICKET = re.compile(r'(?<![\w"+.])t\."')


def unindexed(sql: str) -> str:
    """SQLite: the same terms with `+` before each column (no index chosen for them)."""
    return _COLUMN.sub(r'+\1."', sql)


def by_part(w: Where) -> list[tuple[str, list[Any]]]:
    """Each condition with its own parameters (every `?` of a part is one of its own)."""
    out, i = [], 0
    for p in w.parts:
        n = p.count("?")
        out.append((p, w.params[i : i + n]))
        i += n
    assert i == len(w.params), "a condition's text holds a literal `?`"
    return out


def walking(w: Where, key: str, by_list: bool = False) -> Where:
    """SQLite, walking the sort index: conditions on other cycle columns kept from the
    index choice (`+`); those on the ticket row asked of it by id, in one correlated
    EXISTS (in the join, SQLite first builds a Bloom filter over every ticket row), or
    with `by_list` by testing the cycle's ticket id against the list of the tickets that
    meet them (built once, through their own index)."""
    out = Where()
    ticket: list[tuple[str, list[Any]]] = []
    for p, params in by_part(w):
        if p.startswith(key):
            out.add(p, *params)
        elif 't."' in p and 'c."' not in p:
            ticket.append((_TICKET.sub('t2."' if by_list else '+t2."', p), params))
        else:
            out.add(unindexed(p), *params)
    if ticket:
        conds = " AND ".join(p for p, _ in ticket)
        if by_list:
            out.add(
                f'+c."ticket_id" IN (SELECT t2."id" FROM "ticket" t2 WHERE {conds})',
                *(v for _, params in ticket for v in params),
            )
            return out
        out.add(
            f'EXISTS (SELECT 1 FROM "ticket" t2 WHERE t2."id" = c."ticket_id" AND {conds})',
            *(v for _, params in ticket for v in params),
        )
    return out


def key_value(v: Any) -> Any:
    """A sort-key value as read (SQLite gives instants as text) → what a cursor holds."""
    return v.replace(tzinfo=None) if isinstance(v, datetime) else v


@contextmanager
def plain_text(cur: Any, s: Sql) -> Iterator[None]:
    """SQLite: read text as `str` (Pony decodes each value in Python with errors replaced;
    the store writes only valid UTF-8). A third of an export's time otherwise."""
    if s.pg:
        yield
        return
    conn = cur.connection
    old = conn.text_factory
    conn.text_factory = str
    try:
        yield
    finally:
        conn.text_factory = old


class Cursors:
    """The cursors of a page's rows, encoded only when asked for (an export needs one)."""

    def __init__(self, key: SortKey, raw: Sequence[Sequence[Any]], at: int) -> None:
        self.key, self.raw, self.at = key, raw, at

    def first(self, n: int) -> tuple[str, ...]:
        return tuple(self._one(r) for r in self.raw[:n])

    def last(self) -> str:
        return self._one(self.raw[-1])

    def _one(self, r: Sequence[Any]) -> str:
        return self.key.cursor([key_value(v) for v in r[self.at :]])
