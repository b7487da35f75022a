"""Stored values → CSV cells without building row objects (the exports' hot loop).

Each function gives exactly the text `engine.reports`' CSV writer gives for the same
value read as a `LogRow` (a test compares whole exports byte for byte): instants in
ISO 8601 UTC with a `Z`, `None` as an empty cell, strings and integers as they are.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from slarules.engine.reports import LOG_COLUMNS
from slarules.store.times import from_db


def instant_cell(v: Any) -> str:
    """A stored instant (SQLite text `YYYY-MM-DD HH:MM:SS`, or a naive-UTC datetime)."""
    if v is None:
        return ""
    kind = type(v)
    if kind is str and len(v) == 19 and v[10] == " ":
        return f"{v[:10]}T{v[11:]}Z"
    if kind is datetime and v.tzinfo is None:
        return f"{v.isoformat()}Z"
    # anything else (an offset, a fraction in text): read it as the LogRow path does
    return from_db(v).isoformat().replace("+00:00", "Z")


def log_cells(r: Sequence[Any]) -> tuple[Any, ...]:
    """A `store.queries.LOG_SELECT` tuple as the cells of `LOG_COLUMNS` (csv.writer writes
    `None` as an empty cell and integers by `str`, as `engine.reports` does)."""
    return (
        r[0],
        r[1],
        r[2],
        r[3],
        r[4] or "",
        r[5],
        r[6],
        instant_cell(r[7]),
        instant_cell(r[8]),
        instant_cell(r[9]),
        r[10],
        r[11],
        r[12],
        r[13],
        r[14],
    )


assert len(LOG_COLUMNS) == 15  # log_cells names them by position


def writer() -> tuple[io.StringIO, Any]:
    buf = io.StringIO()
    return buf, csv.writer(buf, lineterminator="\n")
