"""The narrow reads of a list page (store/pages.py, store/cycles.py, store/codec.py) give
what the full reads give: heads without the creation fields, cycles without their JSON
columns, the stopped cycles alone of a ticket whose running ones are projected, stored
instants; the shared decodings (states, folds, stopped cycles) follow what is read."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from slarules.engine.policy import Decision
from slarules.instants import InvalidInstant, parse_rfc3339
from slarules.service import RawEvent, TicketService, checkpoints
from slarules.settings import parse_database_url
from slarules.store import Store, codec, cycles
from tests.service.reports_store import Seeded, seed


@pytest.fixture(params=[1, 2])
def seeded(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Seeded]:
    store = Store.open(parse_database_url(f"sqlite:///{tmp_path / 'store.db'}"))
    yield seed(TicketService(store), request.param)
    store.close()


def _bare(c: object) -> object:
    return replace(c, warnings=(), timeline=(), thresholds=())  # type: ignore[type-var]


def test_heads_and_checkpoints_in_one_read(seeded: Seeded) -> None:
    store = seeded.service.store
    with store.read() as cur:
        full = store.tickets.heads(cur, seeded.ids)
        points = store.tickets.checkpoints(cur, [t for t, h in full.items() if not h.done])
        heads, got = store.tickets.heads_and_checkpoints(cur, seeded.ids)
    assert any(h.initial_fields for h in full.values()) and points
    assert heads == {t: h._replace(initial_fields={}) for t, h in full.items()}
    assert got == points
    assert any(h.done for h in full.values())


def test_a_checkpoints_decoded_state_is_shared_read_only_and_follows_its_text(
    seeded: Seeded,
) -> None:
    store, svc, policy = seeded.service.store, seeded.service, seeded.policy
    with store.read() as cur:
        _, first = store.tickets.heads_and_checkpoints(cur, seeded.ids)
        _, again = store.tickets.heads_and_checkpoints(cur, seeded.ids)
    t = "X-1"
    assert again[t].state is first[t].state  # decoded once
    with pytest.raises(TypeError):
        first[t].state["events"] = 99  # type: ignore[index]
    before = svc.views(policy, [t], seeded.now, history=False, detail=False)[t]
    svc.record_events(
        policy,
        [RawEvent(t, "x1-m", {"at": seeded.now, "type": "message", "by": "agent"})],
        seeded.now,
    )
    with store.read() as cur:
        _, after = store.tickets.heads_and_checkpoints(cur, [t])
        fresh = store.tickets.checkpoints(cur, [t])
    assert after[t].state == fresh[t].state != first[t].state
    view = svc.views(policy, [t], seeded.now, history=False, detail=False)[t]
    full = svc.views(policy, [t], seeded.now, history=False)[t]
    assert view.cycles != before.cycles  # the agent's answer stopped the first response
    assert view.cycles == tuple(_bare(c) for c in full.cycles)


def test_stopped_cycles_are_read_again_only_when_the_ticket_changed(
    seeded: Seeded, tmp_path: Path
) -> None:
    """A page shown again reads no stopped cycle of a ticket whose change mark stands; an
    event or a measuring moves the mark, and another store's tickets are its own."""
    store, svc, policy = seeded.service.store, seeded.service, seeded.policy
    statements: list[str] = []
    real = store.sql.execute

    def spy(cur: object, text: str, params: object = ()) -> object:
        statements.append(text)
        return real(cur, text, params)

    store.sql.execute = spy  # type: ignore[method-assign]

    def page() -> dict[str, object]:
        statements.clear()
        with store.read() as cur:
            heads, points = store.tickets.heads_and_checkpoints(cur, seeded.ids)
            wanted = [heads[t] for t in points]
            got = store.tickets.stored(cur, wanted, stopped_only=points, detail=False)
        return {t: st.cycles for t, st in got.items()}

    def read_cycles() -> bool:
        return any('FROM "cycle"' in s for s in statements)

    first = page()
    assert read_cycles() and first
    assert page() == first and not read_cycles()
    t = "X-1"
    svc.record_events(
        policy,
        [RawEvent(t, "x1-m2", {"at": seeded.now, "type": "message", "by": "agent"})],
        seeded.now,
    )
    after = page()
    assert read_cycles() and after[t] != first[t]  # the answer stopped a response cycle
    with store.read() as cur:
        fresh = store.tickets.stored(
            cur, list(store.tickets.heads(cur, [t]).values()), detail=False
        )[t]
    assert sorted(after[t]) == sorted(c for c in fresh.cycles if c.stopped_at is not None)
    svc.remeasure(policy, list(first), seeded.now + timedelta(hours=1))
    page()
    assert read_cycles()  # measured again: read again
    # another store of the same tickets and marks (the same seed) reads its own rows
    other = Store.open(parse_database_url(f"sqlite:///{tmp_path / 'other.db'}"))
    try:
        mine = seed(TicketService(other), 1)
        with other.read() as cur:
            heads, points = other.tickets.heads_and_checkpoints(cur, mine.ids)
            wanted = [heads[x] for x in points]
            statements.clear()
            other.sql.execute = spy  # type: ignore[method-assign]
            got = other.tickets.stored(cur, wanted, stopped_only=points, detail=False)
        assert read_cycles() and got.keys() == points.keys()
    finally:
        other.close()


def test_cycles_without_their_json_columns(seeded: Seeded) -> None:
    store = seeded.service.store
    with store.read() as cur:
        heads = list(store.tickets.heads(cur, seeded.ids).values())
        full = store.tickets.stored(cur, heads)
        bare = store.tickets.stored(cur, heads, detail=False)
    assert any(c.timeline for st in full.values() for c in st.cycles)
    assert any(c.warnings for st in full.values() for c in st.cycles)
    assert bare.keys() == full.keys()
    for t, st in full.items():
        assert bare[t] == st._replace(cycles=tuple(_bare(c) for c in st.cycles)), t


@pytest.mark.parametrize("detail", [True, False])
def test_only_the_stopped_cycles_of_projected_tickets(seeded: Seeded, detail: bool) -> None:
    store = seeded.service.store
    with store.read() as cur:
        heads = list(store.tickets.heads(cur, seeded.ids).values())
        full = store.tickets.stored(cur, heads, detail=detail)
        _, points = store.tickets.heads_and_checkpoints(cur, [h.id for h in heads])
        projected = {h.id for h in heads if not h.done}
        assert projected == points.keys()
        got = store.tickets.stored(cur, heads, stopped_only=points, detail=detail)
    assert projected and projected != set(seeded.ids)
    assert got.keys() == full.keys()
    running = 0
    for t, st in full.items():
        if t not in projected:
            assert got[t] == st
            continue
        running += sum(c.stopped_at is None for c in st.cycles)
        key = lambda c: (c.metric, c.index)  # noqa: E731
        stopped = sorted((c for c in st.cycles if c.stopped_at is not None), key=key)
        assert sorted(got[t].cycles, key=key) == stopped
        # the ticket row is not read: a view takes the fields and level from the checkpoint
        assert got[t]._replace(cycles=()) == (st.head, {}, None, None, "", ())
    assert running


@pytest.mark.parametrize(
    "text",
    [
        "2026-03-08T07:00:00Z",
        "2026-03-08t07:00:00z",
        "2026-03-08T02:00:00-05:00",
        "2026-03-08T07:00Z",
        "2026-03-08T07:00:00.750Z",
        " 2026-03-08T07:00:00Z",
        "1899-12-31T23:59:59Z",
    ],
)
def test_a_stored_instant_reads_as_parsed(text: str) -> None:
    got = codec.decode_value({"$datetime": text})
    assert got == parse_rfc3339(text) and got.tzinfo is UTC
    assert codec.decode_fields({"at": {"$datetime": text}, "n": 3}) == {"at": got, "n": 3}


@pytest.mark.parametrize("text", ["2026-02-30T00:00:00Z", "2026-03-08T07:00:00", "x" * 20, 7])
def test_a_bad_stored_instant_is_refused(text: object) -> None:
    with pytest.raises(InvalidInstant):
        codec.decode_value({"$datetime": text})


def test_decoded_values() -> None:
    stored = {
        "s": "a",
        "i": 1,
        "f": 1.5,
        "b": True,
        "none": None,
        "d": {"$date": "2026-03-08"},
        "tags": ["x", {"$datetime": "2026-03-08T07:00:00Z"}],
        "obj": {"k": [1, 2]},
    }
    got = codec.decode_fields(stored)
    assert got == {
        "s": "a",
        "i": 1,
        "f": 1.5,
        "b": True,
        "none": None,
        "d": datetime(2026, 3, 8).date(),
        "tags": ("x", datetime(2026, 3, 8, 7, tzinfo=UTC)),
        "obj": {"k": (1, 2)},
    }
    assert type(got["b"]) is bool


def test_a_stopped_cycle_per_row_value() -> None:
    row = (
        "T-1",
        "resolution",
        1,
        "met",
        "2026-03-08 06:00:00",
        "2026-03-08 08:00:00",
        "2026-03-08 09:00:00",
        None,
        10800,
        7200,
        3600,
        "v1",
    )
    got = cycles.figures_of_row(row)
    assert got == cycles.cycle_of_figures(row) and cycles.figures_of_row(tuple(row)) is got
    assert got.stopped_at == datetime(2026, 3, 8, 8, tzinfo=UTC) and got.remaining == 3600
    later = (*row[:5], "2026-03-08 08:30:00", *row[6:10], 1800, *row[11:])
    other = cycles.figures_of_row(later)
    assert other.stopped_at == datetime(2026, 3, 8, 8, 30, tzinfo=UTC) and other.remaining == 1800


def test_the_fold_of_a_shared_state_is_a_fresh_copy_each_time(seeded: Seeded) -> None:
    store, policy = seeded.service.store, seeded.policy
    with store.read() as cur:
        _, points = store.tickets.heads_and_checkpoints(cur, seeded.ids)
    assert points
    for p in points.values():
        want = checkpoints.from_plain(policy, dict(p.state))  # a plain dict: not cached
        first = checkpoints.from_plain(policy, p.state)
        assert first == want
        first[0].fields["status"] = "changed"
        first[0].runs.append((0, "done", ()))
        first[0].counts["resolution"] = 99
        first[1].append("alert")
        again = checkpoints.from_plain(policy, p.state)
        assert again == want and again[0] is not first[0]
    # another ruleset version decides the level again (here: none for every ticket)
    other = replace(policy, version="other", decide_fn=lambda fields: Decision(None, None))
    p = next(iter(points.values()))
    got, _ = checkpoints.from_plain(other, p.state)
    assert (
        got.decision == Decision(None, None) != checkpoints.from_plain(policy, p.state)[0].decision
    )


def test_a_page_reads_in_one_session(seeded: Seeded, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every read of a tickets or log page joins one session: one transaction (one
    snapshot on SQLite), ended once (a round trip on PostgreSQL); a page used to end a
    session per read."""
    from pony.orm.core import DBSessionContextManager

    from slarules.service import LogFilter, TicketFilter
    from slarules.store.sql import Sql

    ended, reads = [0], [0]
    end, read = DBSessionContextManager._commit_or_rollback, Sql.read

    def ending(self: object, *a: object, **k: object) -> object:
        ended[0] += 1
        return end(self, *a, **k)  # type: ignore[arg-type]

    def reading(self: Sql) -> object:
        reads[0] += 1
        return read(self)

    monkeypatch.setattr(DBSessionContextManager, "_commit_or_rollback", ending)
    monkeypatch.setattr(Sql, "read", reading)
    svc, policy, now = seeded.service, seeded.policy, seeded.now
    for page in (
        lambda: svc.ticket_page(policy, TicketFilter(state="active", metric="resolution"), 5,
                                None, now),
        lambda: svc.ticket_page(policy, TicketFilter(), 5, None, now, history=False),
        lambda: svc.sla_log(policy, LogFilter(state="active"), 5, None, now),
        lambda: svc.sla_log(policy, LogFilter(assignee="agent1"), 5, None, now),
    ):  # fmt: skip
        ended[0] = reads[0] = 0
        page()
        assert reads[0] >= 2, "the page reads more than once"
        assert ended[0] == 1, (reads[0], ended[0])
