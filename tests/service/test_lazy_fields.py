"""Selection-driven conversion (issue 18): a cycle's clock, warnings and timeline and a
level's targets are resolved only when selected, and equal the engine's values when they
are; stored cycle JSON decodes to what was written."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from slarules.engine import counting
from slarules.engine.measurement import Cycle, CycleEvent, Threshold, WarningMark
from slarules.graphql import convert
from slarules.instants import parse_rfc3339, rfc3339
from slarules.store import cycles as stored
from tests.service.conftest import Api
from tests.service.gql import RECORD_EVENTS, RECORD_TICKET, status, ticket
from tests.service.rules import T0, make_policy

INSTANTS = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31), timezones=st.just(UTC)
).map(lambda t: t.replace(microsecond=0))


@given(INSTANTS)
def test_json_column_instants_read_as_parse_rfc3339_reads_them(t: datetime) -> None:
    text = rfc3339(t)
    stored._instant.cache_clear()
    got = stored._instant(text)
    assert got == parse_rfc3339(text) == t
    assert got.tzinfo is parse_rfc3339(text).tzinfo


def test_other_instant_texts_still_parse() -> None:
    assert stored._instant("2026-03-02T09:30:00-03:00") == datetime(2026, 3, 2, 12, 30, tzinfo=UTC)


def _cycle(warned: bool) -> Cycle:
    at = T0 + timedelta(minutes=30)
    return Cycle(
        metric="resolution",
        index=1,
        state="active",
        started_at=T0,
        stopped_at=None,
        due_at=T0 + timedelta(hours=1),
        breached_at=None,
        target=3600,
        elapsed=1800,
        remaining=1800,
        warnings=(WarningMark("resolution", at, 50.0, None),) if warned else (),
        timeline=(CycleEvent("started", T0),) + ((CycleEvent("warned", at),) if warned else ()),
        ruleset_version="v1",
        thresholds=(
            Threshold("warning", at if warned else None, warned, 50.0, None),
            Threshold("breach", None, False, None, 900),
        ),
    )


def test_stored_cycles_read_back_as_written_and_shared_texts_once() -> None:
    for warned in (False, True, False):
        c = _cycle(warned)
        w, t, th = stored.cycle_json(c)
        row = [None] * len(stored.CYCLE_COLUMNS)
        values = {
            "metric": c.metric,
            "idx": c.index,
            "state": c.state,
            "started_at": "2026-03-02 12:00:00",
            "due_at": "2026-03-02 13:00:00",
            "target": c.target,
            "elapsed": c.elapsed,
            "remaining": c.remaining,
            "ruleset_version": c.ruleset_version,
            "warnings": w,
            "timeline": t,
            "thresholds": th,
        }
        for k, v in values.items():
            row[stored.CYCLE_COLUMNS.index(k)] = v
        assert stored.cycle_from_row(row) == c
    # PostgreSQL's JSON columns arrive decoded
    for k, v in (("warnings", []), ("timeline", []), ("thresholds", [])):
        row[stored.CYCLE_COLUMNS.index(k)] = v
    assert stored.cycle_from_row(row).thresholds == ()


def test_lazy_cycle_fields_equal_the_engine_values() -> None:
    policy = make_policy()
    c = _cycle(True)
    level = next(iter(policy.levels))
    now = T0 + timedelta(minutes=40)
    g = convert.cycle_type(c, policy, level, {}, now)
    clock = counting.clock(policy, level, c, {}, now)
    assert (g.counting(), g.counting_changes_at()) == (clock.counting, clock.changes_at)
    assert [(w.percent, w.before_seconds, w.at) for w in g.warnings()] == [
        (w.percent, w.before, w.at) for w in c.warnings
    ]
    assert [(e.kind, e.at) for e in g.timeline()] == [(e.kind, e.at) for e in c.timeline]
    assert g.ruleset_version() == "v1"
    lv = convert.level_type(policy, level)
    assert lv is not None and lv.targets() == convert.targets_of(policy.levels[level])
    assert lv.targets() and convert.level_type(policy, "gone").targets() == []  # type: ignore[union-attr]


PAGE = """query($detail: Boolean!) { tickets(first: 10, filter: {orderBy: "id"}) { edges { node {
  id cycles { metric index state startedAt stoppedAt dueAt breachedAt elapsedSeconds
              remainingSeconds counting countingChangesAt
              warnings @include(if: $detail) { percent beforeSeconds at }
              timeline @include(if: $detail) { kind at } } } } } }"""
ONE = """query($id: ID!) { ticket(id: $id) { cycles { warnings { percent beforeSeconds at }
  timeline { kind at } } } }"""


def test_a_page_without_warnings_or_timeline_shows_the_same_cycles(api: Api) -> None:
    """A page that selects neither reads stored cycles without their JSON columns; one that
    selects them shows what `ticket(id)` shows, for done and open tickets alike."""
    for t in ("A-done", "B-warned", "C-open"):
        api.data(RECORD_TICKET, ticket(t))
    api.clock.advance(hours=5)  # past the 50% warning of a 4h/8h resolution target
    events = [status("s1", "A-done", "2026-03-02T13:00:00Z", "solved")]
    api.data(RECORD_EVENTS, {"events": events})
    api.clock.advance(minutes=5)
    plain = api.data(PAGE, {"detail": False})["tickets"]["edges"]
    full = api.data(PAGE, {"detail": True})["tickets"]["edges"]
    assert [e["node"]["id"] for e in full] == ["A-done", "B-warned", "C-open"]
    for p, f in zip(plain, full, strict=True):
        shown = [
            {k: v for k, v in c.items() if k not in ("warnings", "timeline")}
            for c in f["node"]["cycles"]
        ]
        assert p["node"]["cycles"] == shown
        one = api.data(ONE, {"id": f["node"]["id"]})["ticket"]["cycles"]
        assert [
            {"warnings": c["warnings"], "timeline": c["timeline"]} for c in f["node"]["cycles"]
        ] == one
    assert any(c["timeline"] for e in full for c in e["node"]["cycles"])
    assert any(c["warnings"] for e in full for c in e["node"]["cycles"])
