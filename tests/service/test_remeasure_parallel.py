"""Re-measuring in worker processes writes the rows the serial re-measure writes."""

from __future__ import annotations

import asyncio
import random
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from slarules.service import RawEvent, TicketService, remeasure
from slarules.service.remeasure import remeasure_all, workers_for
from slarules.settings import parse_database_url
from slarules.store import Store
from tests.service.test_checkpoints import KINDS, NOW, POLICY, T0, raw_event

V2 = replace(POLICY, version="v2")  # a reload: every checkpoint is a miss
TICKETS = 23


def _dump(svc: TicketService) -> dict[str, Any]:
    """Every derived row (ticket, cycle, evaluation, checkpoint), without row ids."""
    sql = svc.store.sql
    out = {}
    with sql.read() as cur:
        for table, order in (
            ("ticket", '"id"'),
            ("cycle", '"ticket_id", "metric", "idx"'),
            ("evaluation", '"ticket_id", "seq"'),
            ("checkpoint", '"ticket_id"'),
        ):
            sql.execute(cur, f'SELECT * FROM "{table}" ORDER BY {order}')
            names = [d[0] for d in cur.description]
            out[table] = [
                {n: v for n, v in zip(names, r, strict=True) if n != "id" or table == "ticket"}
                for r in cur.fetchall()
            ]
    return out


@pytest.fixture
def seeded(tmp_path: Path) -> Path:
    """A store of tickets with random histories (5 to 40 events), some done, some assigned."""
    path = tmp_path / "seed.db"
    store = Store.open(parse_database_url(f"sqlite:///{path}"))
    svc = TicketService(store)
    rnd = random.Random(17)
    for i in range(TICKETS):
        tid = f"T{i:02}"
        fields = {"status": "new", **({"assignee": "Ann"} if i % 2 else {})}
        svc.record_ticket(POLICY, {"id": tid, "created_at": T0, "fields": fields}, NOW)
        minute, events = 0, []
        for k in range(rnd.randint(5, 40)):
            minute = max(0, minute + rnd.choice([0, 5, 40, 300, -20]))
            events.append(RawEvent(tid, f"e{k}", raw_event(minute, rnd.choice(KINDS))))
        svc.record_events(POLICY, events, NOW)
    store.close()
    return path


@contextmanager
def _open(path: Path) -> Iterator[TicketService]:
    store = Store.open(parse_database_url(f"sqlite:///{path}"))
    try:
        yield TicketService(store)
    finally:
        store.close()


def _copy(seeded: Path, name: str) -> Path:
    out = seeded.with_name(name)
    shutil.copy(seeded, out)
    return out


@pytest.mark.parametrize("workers", [0, 2])
def test_parallel_remeasure_stores_what_the_serial_one_stores(seeded: Path, workers: int) -> None:
    later = NOW + timedelta(hours=5)
    with _open(_copy(seeded, "serial.db")) as serial:
        ids = serial.open_ids()
        assert serial.remeasure(V2, ids, later) == len(ids)
        expected = _dump(serial)
    with _open(_copy(seeded, "par.db")) as par:
        assert par.open_ids() == ids
        left: list[int] = []
        saved = asyncio.run(
            remeasure_all(
                par.recorder,
                V2,
                ids,
                lambda: later,
                batch=4,
                workers=workers,
                done=lambda n, rest: left.append(rest),
            )
        )
        assert saved == len(ids)
        assert left[-1] == 0 and left == sorted(left, reverse=True)
        got = _dump(par)
        assert got == expected
        assert {r["credited_assignee"] for r in got["cycle"]} >= {"Ann"}


def test_a_ticket_that_changed_while_it_was_measured_is_measured_again(
    seeded: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    later = NOW + timedelta(hours=5)
    event = RawEvent("T03", "late", raw_event(2000, "agent"))
    with _open(_copy(seeded, "serial.db")) as serial:
        ids = serial.open_ids()
        serial.record_events(POLICY, [event], later)
        serial.remeasure(V2, ids, later)
        expected = _dump(serial)
    with _open(_copy(seeded, "par.db")) as par:
        rec = par.recorder
        real = remeasure.save_batch

        def meanwhile(r: Any, policy: Any, inputs: Any, measured: Any, now: Any) -> int:
            if "T03" in inputs.heads:  # an event arrives after the read, before the write
                par.record_events(POLICY, [event], later)
            return real(r, policy, inputs, measured, now)

        monkeypatch.setattr(remeasure, "save_batch", meanwhile)
        asyncio.run(remeasure_all(rec, V2, ids, lambda: later, batch=4, workers=2))
        assert _dump(par) == expected


def test_a_newer_reload_stops_the_re_measure_between_batches(seeded: Path) -> None:
    with _open(_copy(seeded, "stop.db")) as svc:
        ids = svc.open_ids()
        batches: list[int] = []
        saved = asyncio.run(
            remeasure_all(
                svc.recorder,
                V2,
                ids,
                lambda: NOW,
                batch=4,
                workers=0,
                go_on=lambda: len(batches) < 2,
                done=lambda n, rest: batches.append(n),
            )
        )
        assert saved == sum(batches) and 0 < saved < len(ids)


def test_worker_processes_are_asked_for_and_never_for_one_batch() -> None:
    assert workers_for(10_000) == 0  # the default (DEFAULT_PROCESSES)
    assert workers_for(200, processes=4) == 0 and workers_for(0, processes=4) == 0
    assert 1 <= workers_for(10_000, processes=4) <= 4
    assert workers_for(300, processes=4) <= 2
