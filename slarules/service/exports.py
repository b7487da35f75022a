"""CSV exports streamed from the driver's tuples (issue 18).

Rows are read in keyset chunks and written by `csv.writer` straight from the tuples
(`store.cells`); only the running cycles of open tickets are brought up to `now`, by
the service's views (stored rows projected from the checkpoint), one view per ticket
of the chunk. The bytes are those of the `LogRow` path (`engine.reports.csv_chunk`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import chain
from typing import Any

from slarules.engine.reports import LOG_COLUMNS, LogRow, csv_chunk
from slarules.store.cells import log_cells, writer
from slarules.store.queries import DONE, log_row_of

STOPPED = LOG_COLUMNS.index("stopped_at")
Current = Callable[[Sequence[tuple[LogRow, bool]]], list[LogRow]]


def log_csv(chunks: Iterable[Sequence[Sequence[Any]]], current: Current) -> Iterator[str]:
    """The header, then one string per chunk. The first chunk is read before the header
    is given, so a bad filter fails before anything is sent."""
    it = iter(chunks)
    first = next(it, None)
    buf, w = writer()
    w.writerow(LOG_COLUMNS)
    yield buf.getvalue()
    if first is None:
        return
    for raw in chain([first], it):
        yield _chunk(raw, current)


def _chunk(raw: Sequence[Sequence[Any]], current: Current) -> str:
    buf, w = writer()
    # the rows of open tickets with a running cycle in the chunk come from their views
    # (all of such a ticket's rows: a view before its last event differs from the store)
    live = {r[0] for r in raw if not r[DONE] and r[STOPPED] is None}
    running = [i for i, r in enumerate(raw) if r[0] in live and not r[DONE]]
    if not running:
        w.writerows(map(log_cells, raw))
        return buf.getvalue()
    now = dict(zip(running, current([(log_row_of(raw[i]), False) for i in running]), strict=True))
    for i, r in enumerate(raw):
        row = now.get(i)
        if row is None:
            w.writerow(log_cells(r))
        else:
            buf.write(csv_chunk(LOG_COLUMNS, [row]))
    return buf.getvalue()
