"""The SLA-log export from driver tuples writes exactly the bytes of the `LogRow` path
(`TicketService.iter_log` + `engine.reports.csv_chunk`): randomized stores with a DST
change in the ruleset's zone, cycles at their exact breach instant, open tickets whose
running cycles are brought up to `now`, small chunks, every sort and random filters."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from slarules.engine.reports import LOG_COLUMNS, LogRow, csv_chunk, csv_lines
from slarules.service import LogFilter, _fold_filter
from slarules.store.cells import instant_cell, log_cells
from slarules.store.cells import writer as csv_writer
from tests.service.reports_store import START, Seeded, random_log_filter
from tests.service.test_reports import seeded  # noqa: F401 (the shared randomized stores)

SORTS = ["started_at", "ticket_id", "due_at", "stopped_at", "elapsed", "state", "department"]


def old_export(s: Seeded, f: LogFilter, now: datetime, chunk: int) -> str:
    """The export as the endpoint wrote it before issue 18's last step (`LogRow` chunks of
    `Queries.iter_log` brought up to `now` by `TicketService._current`, `csv_chunk`)."""
    svc = s.service
    parts = [next(csv_lines(LOG_COLUMNS, ()))]
    for rows in svc.store.queries.iter_log(_fold_filter(f), now, chunk):
        parts.append(csv_chunk(LOG_COLUMNS, svc._current(s.policy, rows, now)))
    return "".join(parts)


def new_export(s: Seeded, f: LogFilter, now: datetime, chunk: int) -> str:
    return "".join(s.service.log_csv(s.policy, f, now, chunk))


def nows(s: Seeded) -> list[datetime]:
    dst = datetime(2026, 3, 8, 7, 0, tzinfo=UTC)  # 02:00 in New York: clocks jump to 03:00
    return [
        s.now,
        s.now - timedelta(seconds=1),
        s.now + timedelta(seconds=1),
        dst,
        s.now + 4 * (s.now - START),
    ]


def test_the_export_from_tuples_writes_the_bytes_of_the_row_path(seeded: Seeded) -> None:  # noqa: F811
    s = seeded
    rng = random.Random(18)
    for now in nows(s):
        for chunk in (3, 2000):
            f = LogFilter()
            assert new_export(s, f, now, chunk) == old_export(s, f, now, chunk), (now, chunk)
    for i in range(20):
        f = random_log_filter(rng) if i % 3 else LogFilter()
        f = replace(f, order_by=rng.choice(SORTS), descending=rng.random() < 0.5)
        now = rng.choice(nows(s))
        chunk = rng.choice([1, 4, 7, 2000])
        assert new_export(s, f, now, chunk) == old_export(s, f, now, chunk), (f, now, chunk)
    # the store has rows the comparison must cover: running cycles and the breach instant
    text = old_export(s, LogFilter(), s.now, 1000)
    # the reference at its default chunk is what the endpoint wrote (`iter_log`)
    rows = s.service.iter_log(s.policy, LogFilter(), s.now)
    assert text == next(csv_lines(LOG_COLUMNS, ())) + "".join(
        csv_chunk(LOG_COLUMNS, r) for r in rows
    )
    assert ",active," in text and ",breached," in text and ",met," in text


def test_instant_cells_are_the_row_paths_cells() -> None:
    values = [
        "2026-03-08 07:00:00",
        "9999-12-31 00:00:00",
        "2026-03-08 07:00:00.250000",
        "2026-03-08T02:00:00-05:00",
        datetime(2026, 3, 8, 7, 0),
        datetime(2026, 3, 8, 7, 0, 0, 5),
        datetime(2026, 3, 8, 2, 0, tzinfo=UTC).astimezone(START.tzinfo),
        None,
    ]
    from slarules.store.times import opt_from_db

    for v in values:
        row = LogRow(
            "T", None, None, None, "", "m", 0, START, opt_from_db(v), None, "met", 1, 1, 0, "v"
        )
        expected = csv_chunk(LOG_COLUMNS, [row]).split(",")[8]
        assert instant_cell(v) == expected, v


def test_cells_of_a_tuple_are_the_row_paths_cells() -> None:
    raw = (
        "T-1",
        None,
        'Straße, "B"',
        "",
        None,
        "resolution",
        2,
        "2026-03-08 06:59:59",
        None,
        "2026-03-08 07:00:01",
        "breached",
        3600,
        3602,
        -2,
        "v1",
        0,
    )
    buf, w = csv_writer()
    w.writerow(log_cells(raw))
    from slarules.store.queries import log_row_of

    assert buf.getvalue() == csv_chunk(LOG_COLUMNS, [log_row_of(raw)])
