"""The running cycles a log page brings up to `now` (service/projections.py) have the
figures of the engine's full projection of the same checkpoint: every field but the
warnings, timeline and thresholds (which no log row shows)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from slarules.engine.timers import measurement_of
from slarules.service import TicketService, checkpoints
from slarules.service.projections import running_now
from slarules.settings import parse_database_url
from slarules.store import Store
from tests.service.reports_store import Seeded, seed


@pytest.fixture(params=[1, 2, 3])
def seeded(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Seeded]:
    store = Store.open(parse_database_url(f"sqlite:///{tmp_path / 'store.db'}"))
    yield seed(TicketService(store), request.param)
    store.close()


def test_running_cycles_have_the_full_projections_figures(seeded: Seeded) -> None:
    store, policy = seeded.service.store, seeded.policy
    states: set[str] = set()
    # at the X tickets' exact breach instant, a second before and after, and days later
    for delta in (timedelta(0), timedelta(seconds=-1), timedelta(seconds=1), timedelta(days=3)):
        now = seeded.now + delta
        fast, rest = running_now(store, policy, seeded.ids, now)
        assert fast, "no open ticket has a checkpoint"
        with store.read() as cur:
            heads = store.tickets.heads(cur, list(fast))
            points = store.tickets.checkpoints(cur, list(fast))
        for t, got in fast.items():
            s, _ = checkpoints.from_plain(policy, points[t].state)
            m = measurement_of(policy, t, s, (), max(now, heads[t].created_at))
            assert got.level == m.level
            assert got.fields == m.fields
            want = {
                (c.metric, c.index): replace(c, warnings=(), timeline=(), thresholds=())
                for c in m.cycles
            }
            assert got.cycles == want
            states |= {c.state for c in m.cycles}
        assert set(rest) <= set(seeded.ids)
    assert {"active", "breached"} <= states


def test_views_without_detail_have_the_full_views_figures(seeded: Seeded) -> None:
    """`views(detail=False)` (a page that shows no warnings or timeline) projects running
    cycles without them: every other figure equals the full view's, around the breaches."""
    svc, policy = seeded.service, seeded.policy
    for delta in (timedelta(0), timedelta(seconds=-1), timedelta(seconds=1), timedelta(days=3)):
        now = seeded.now + delta
        full = svc.views(policy, seeded.ids, now)
        bare = svc.views(policy, seeded.ids, now, detail=False)
        assert full.keys() == bare.keys() and full
        for t, v in full.items():
            want = tuple(replace(c, warnings=(), timeline=(), thresholds=()) for c in v.cycles)
            got = tuple(replace(c, thresholds=()) for c in bare[t].cycles)
            assert got == want, t
            assert replace(bare[t], cycles=()) == replace(v, cycles=())
