"""Incremental re-measure after a reload (`service.restamp`) against the full re-measure:
for random stored tickets and random changes of the ruleset, the same rows (tickets,
cycles, evaluation logs, checkpoints, alerts), and only the touched tickets replayed."""

from __future__ import annotations

import asyncio
import random
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from slarules.dsl import build
from slarules.dsl.source import SourceFile
from slarules.engine.impact import impact
from slarules.engine.policy import RESPONSE_METRICS, Policy
from slarules.engine.timers import measure
from slarules.service import RawEvent, TicketService, checkpoints, recording, restamp
from slarules.service.recording import history_of
from slarules.service.remeasure import remeasure_all
from slarules.settings import DatabaseConfig, parse_database_url
from slarules.store import Store
from tests.service.rules import T0
from tests.service.test_checkpoints import KINDS, NOW, raw_event
from tests.service.test_remeasure_parallel import _dump

ROOT = Path(__file__).resolve().parents[2]
HELPDESK = sorted((ROOT / "examples" / "helpdesk").glob("*.sla"))

# (what changes, file, text, replacement); "" in text: append the replacement
CHANGES: dict[str, tuple[str, str, str]] = {
    "nothing (a comment)": ("20-rules.sla", "", "\n# reviewed\n"),
    "a target of standard": ("10-levels.sla", "resolution 40h", "resolution 30h"),
    "a target of urgent": ("10-levels.sla", "resolution 8h", "resolution 5h"),
    "a warning of vip": ("10-levels.sla", "warn at 80%\n}", "warn at 60%\n}"),
    "a response target of urgent": ("10-levels.sla", "next_response 30m", "next_response 45m"),
    "a table row of standard": ("10-levels.sla", "critical 1h, high 4h", "critical 1h, high 2h"),
    "a target removed from standard": ("10-levels.sla", "  next_response 8h\n", ""),
    "a new metric of standard": ("10-levels.sla", "  requester_wait 72h", "  periodic_response 2h"),
    "a rule's condition": ("20-rules.sla", 'priority >= "critical"', 'priority >= "high"'),
    "the level a rule sets": ("20-rules.sla", "set level vip", "set level urgent"),
    "a holiday": ("00-setup.sla", 'closed 2026-12-24 "Christmas Eve"', "closed 2026-03-03"),
    # calendar edits: a closed day before every span, among them, after the stops (a met
    # cycle's due instant reads on past its stop), one weekday's hours, the 24x7 calendar
    "a holiday before the spans": ("00-setup.sla", "closed 2026-12-31", "closed 2026-02-20"),
    "a holiday after the stops": ("00-setup.sla", "closed 2026-12-31", "closed 2026-03-10"),
    "a holiday among the spans": ("00-setup.sla", "closed 2026-12-31", "closed 2026-03-04"),
    "one weekday's hours": (
        "00-setup.sla",
        "hours mon-fri 09:00-12:00, 13:00-18:00",
        "hours mon-thu 09:00-12:00, 13:00-18:00\n  hours fri 09:00-12:00",
    ),
    "a closed day of the 24x7 calendar": (
        "00-setup.sla",
        "hours mon-sun 00:00-24:00",
        "hours mon-sun 00:00-24:00\n  closed 2026-03-03",
    ),
    "the zone of the 24x7 calendar": ("00-setup.sla", '"Europe/Berlin"', '"America/New_York"'),
    "a rule that reads the status": (
        "20-rules.sla",
        'when tags contains "urgent"',
        'when tags contains "urgent" or status == "pending"',
    ),
    "a pause": ("10-levels.sla", 'contains "on-site-visit"', 'contains "visit"'),
}


def policy_of(change: str | None, *more: str) -> Policy:
    files = {p.name: p.read_text() for p in HELPDESK}
    for c in (change, *more):
        if c is None:
            continue
        name, text, new = CHANGES[c]
        assert text in files[name], c
        files[name] = files[name] + new if not text else files[name].replace(text, new)
    result = build([SourceFile(n, t.encode()) for n, t in sorted(files.items())])
    assert result.policy is not None, [d.render() for d in result.diagnostics]
    return result.policy


OLD = policy_of(None)
EXTRA = ["customer", "agent", "pending", "open", "high", "vip"]


def _event(minute: int, kind: str) -> dict[str, Any]:
    at = T0 + timedelta(minutes=minute)
    if kind == "urgent":
        return {"at": at, "type": "update", "set": {"tags": ["urgent"]}}
    if kind == "vip":
        return {"at": at, "type": "update", "set": {"customer_group": "VIP", "source": "chat"}}
    if kind == "assign":
        return {"at": at, "type": "update", "set": {"assignee": f"A{minute % 3}"}}
    if kind == "enterprise":
        return {"at": at, "type": "update", "set": {"contract_tier": "enterprise"}}
    return raw_event(minute, kind)


def _service(store: Store) -> TicketService:
    """Alerts of any age raised, and kept pending (a webhook delivers them): a re-measure
    that forgot a stopped cycle's alert would cancel it."""
    store.alerts.webhook = True
    return TicketService(store, max_age=1e9)


def _config(where: Path | DatabaseConfig) -> DatabaseConfig:
    if isinstance(where, DatabaseConfig):
        return where
    return parse_database_url(f"sqlite:///{where}")


def seed(path: Path | DatabaseConfig, seed_: int, tickets: int = 14) -> None:
    store = Store.open(_config(path))
    svc = _service(store)
    rnd = random.Random(seed_)
    kinds = [*KINDS, *EXTRA, "enterprise", "assign"]
    kinds.remove("critical")
    for i in range(tickets):
        tid = f"T{i:02}"
        fields: dict[str, Any] = {"status": "new", "priority": rnd.choice(["low", "high"])}
        if i % 2:
            fields["assignee"] = "Ann"
        if i % 4 == 0:
            fields["tags"] = ["urgent"]
        svc.record_ticket(OLD, {"id": tid, "created_at": T0, "fields": fields}, NOW)
        minute, events = 0, []
        for k in range(rnd.randint(2, 25)):
            step = rnd.choice([0, 5, 40, 300, -20]) if rnd.random() < 0.9 else 2000
            minute = min(8000, max(0, minute + step))
            events.append(RawEvent(tid, f"e{k}", _event(minute, rnd.choice(kinds))))
        # half the tickets get their events in order, one by one (checkpoints all along),
        # the others in one batch (out-of-order events: some logs hold stale runs)
        if i % 2:
            events.sort(key=lambda e: e.raw["at"])
            for e in events:
                svc.record_events(OLD, [e], NOW)
        else:
            svc.record_events(OLD, events, NOW)
        if i % 3 == 2:  # one more, earlier than the last: its log keeps a stale run
            late = RawEvent(tid, "late", _event(rnd.randint(0, minute), rnd.choice(kinds)))
            svc.record_events(OLD, [late], NOW)
    store.close()


@contextmanager
def opened(path: Path | DatabaseConfig) -> Iterator[TicketService]:
    store = Store.open(_config(path))
    try:
        yield _service(store)
    finally:
        store.close()


def dump(svc: TicketService) -> dict[str, Any]:
    """Every derived row; the evaluation logs as read (a reload's copied run expanded:
    the incremental re-measure stores it as one copy row, the full one as rows)."""
    out = _dump(svc)
    sql = svc.store.sql
    with sql.read() as cur:
        sql.execute(cur, 'SELECT "id" FROM "ticket" ORDER BY "id"')
        ids = [r[0] for r in cur.fetchall()]
        out["evaluation"] = svc.store.tickets.evaluations(cur, ids)
        sql.execute(cur, 'SELECT * FROM "alert" ORDER BY "id"')
        names = [d[0] for d in cur.description]
        out["alert"] = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    return out


@pytest.fixture(params=[1, 2, 3])
def seeded(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    path = tmp_path / "seed.db"
    seed(path, request.param)
    return path


def _copy(seeded: Path, name: str) -> Path:
    out = seeded.with_name(name)
    shutil.copy(seeded, out)
    return out


@pytest.fixture
def replays(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The tickets measured from their whole history (the full path)."""
    seen: list[str] = []
    real = recording.full_work

    def spy(policy: Any, h: Any, now: Any) -> Any:
        seen.append(h.id)
        return real(policy, h, now)

    monkeypatch.setattr(recording, "full_work", spy)
    return seen


def _meanwhile(svc: TicketService, policy: Policy, ids: list[str], now: Any) -> None:
    """Events under the new version between two reloads: in order onto the checkpoint (the
    copied run goes on), and out of order (the log is read whole, copies expanded)."""
    at = now - timedelta(minutes=1)
    for k, t in enumerate(ids[:6]):
        minute = int((at - T0).total_seconds() // 60) if k % 2 else 4000 + k
        raw = _event(minute, ["customer", "agent", "assign", "pending", "vip", "open"][k])
        svc.record_events(policy, [RawEvent(t, f"between{k}", raw)], now)


def _touched(svc: TicketService, old: Policy, new: Policy) -> list[str]:
    """The open tickets a reload from `old` to `new` must measure in full: every one when
    the replay may differ (the rules only: those whose level moves or changed), else those
    whose checkpoint's run of `old` is unknown and those on a changed level that now times
    a response metric it did not (their stopped cycles of it were never stored)."""
    change = impact(old, new)
    ids = svc.open_ids()
    with svc.store.read() as cur:
        points = svc.store.tickets.checkpoints(cur, ids)
        heads = svc.store.tickets.heads(cur, ids)
        stored = svc.store.tickets.stored(cur, list(heads.values()))

    def new_metric(t: str) -> bool:
        level, fields = stored[t].level, stored[t].fields
        if not change.affects(level) or level is None:
            return False
        was, now = old.levels[level], new.levels[level]
        return any(
            now.target_seconds(m, fields) is not None and was.target_seconds(m, fields) is None
            for m in RESPONSE_METRICS
        )

    if change.decisions:  # replayed under the new rules; measured in full if its level moved
        with svc.store.read() as cur:
            events = svc.store.tickets.events(cur, ids)
        moved = {
            t
            for t in ids
            if measure(new, history_of(heads[t], events[t]), T0 + timedelta(days=9)).level
            != stored[t].level
            or stored[t].level in change.levels
        }
        return sorted(t for t in ids if t not in points or t in moved)
    return sorted(
        t
        for t in ids
        if change.replay
        or t not in points
        or points[t].ruleset_version != old.version
        or checkpoints.run_of(points[t]) is None
        or new_metric(t)
    )


@pytest.fixture
def folds(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The tickets the re-decide after a change of rules folds again (timers and all)."""
    seen: list[str] = []
    real = restamp.fold_history

    def spy(policy: Any, h: Any, now: Any) -> Any:
        seen.append(h.id)
        return real(policy, h, now)

    monkeypatch.setattr(restamp, "fold_history", spy)
    return seen


def _agreeing(svc: TicketService, old: Policy, new: Policy, now: Any) -> set[str]:
    """The open tickets with a checkpoint of `old` whose run is known and whose evaluation
    log is the same under both rulesets but for the version (measured from their events):
    a change of rules restamps them without folding them again."""
    ids = svc.open_ids()
    with svc.store.read() as cur:
        points = svc.store.tickets.checkpoints(cur, ids)
        heads = svc.store.tickets.heads(cur, ids)
        events = svc.store.tickets.events(cur, ids)

    def log(policy: Policy, t: str) -> list[tuple[Any, ...]]:
        m = measure(policy, history_of(heads[t], events[t]), now)
        return [
            (e.at, e.matched, e.level_before, e.level_after, e.decided_by) for e in m.evaluations
        ]

    return {
        t
        for t in ids
        if t in points
        and points[t].ruleset_version == old.version
        and checkpoints.run_of(points[t]) is not None
        and log(old, t) == log(new, t)
    }


@pytest.mark.parametrize("change", list(CHANGES))
def test_a_reload_restamps_what_it_cannot_touch_and_stores_what_a_replay_stores(
    seeded: Path, change: str, replays: list[str], folds: list[str]
) -> None:
    _compare(_copy(seeded, "full.db"), _copy(seeded, "inc.db"), change, replays, folds)


@pytest.mark.postgres
@pytest.mark.parametrize("change", ["a response target of urgent", "a rule's condition"])
def test_the_same_on_postgres(
    pg_database: Callable[..., DatabaseConfig], replays: list[str], folds: list[str], change: str
) -> None:
    full, inc = pg_database(), pg_database()
    seed(full, 3)
    seed(inc, 3)
    _compare(full, inc, change, replays, folds)


def _compare(
    full_db: Path | DatabaseConfig,
    inc_db: Path | DatabaseConfig,
    change: str,
    replays: list[str],
    folds: list[str] | None = None,
) -> None:
    """Two reloads (`change`, then one more) with events between them, full on `full_db`
    and incremental on `inc_db` (the same stored tickets): the same rows after each."""
    new = policy_of(change)
    assert new.version != OLD.version
    later, last = NOW + timedelta(hours=7), NOW + timedelta(hours=30)
    response = "a response target of urgent"
    second_change = response if change != response else "a warning of vip"
    again = policy_of(change, second_change)
    with opened(full_db) as full:
        ids = full.open_ids()
        full.remeasure(new, ids, later)
        first = dump(full)
        _meanwhile(full, new, ids, later)
        full.remeasure(again, ids, last)
        second = dump(full)
    replays.clear()
    with opened(inc_db) as inc:
        touched = _touched(inc, OLD, new)
        agreeing = _agreeing(inc, OLD, new, later) if impact(OLD, new).decisions else set()
        if folds is not None:
            folds.clear()
        inc.remeasure(new, ids, later, previous=OLD)
        assert dump(inc) == first
        assert sorted(replays) == touched
        if agreeing and folds is not None:  # restamped: neither folded again nor replayed
            assert not agreeing & {*folds, *replays}, sorted(agreeing & {*folds, *replays})
        restamped = len(ids) - len(replays)
        _meanwhile(inc, new, ids, later)
        replays.clear()
        touched = _touched(inc, new, again)
        inc.remeasure(again, ids, last, previous=new)
        assert dump(inc) == second
        assert sorted(replays) == touched
    if change in ("nothing (a comment)", "a target of urgent", "a warning of vip"):
        # most tickets have a checkpoint whose run is known: those were not replayed
        assert restamped >= len(ids) // 3, (restamped, len(ids))
    if change == "a pause":
        assert restamped == 0  # every replay may differ
    if change in ("a rule's condition", "a rule that reads the status"):
        assert agreeing, "some tickets decide alike under both rulesets"


def test_the_batched_re_measure_restamps_too(seeded: Path, replays: list[str]) -> None:
    from slarules.service import remeasure

    new = policy_of("a target of urgent")
    later = NOW + timedelta(hours=7)
    with opened(_copy(seeded, "full.db")) as full:
        ids = full.open_ids()
        full.remeasure(new, ids, later)
        expected = dump(full)
    replays.clear()
    assert remeasure.restamp_workers_for(len(ids), 4) == 2  # worker processes restamp
    with opened(_copy(seeded, "batched.db")) as svc:
        touched = _touched(svc, OLD, new)
        job = remeasure_all(svc.recorder, new, ids, lambda: later, batch=4, previous=OLD)
        assert asyncio.run(job) == len(ids)
        assert dump(svc) == expected
    assert sorted(replays) == touched and len(touched) < len(ids)


@pytest.mark.postgres
@pytest.mark.parametrize(
    "change", ["a response target of urgent", "a rule's condition", "a holiday among the spans"]
)
def test_the_batched_re_measure_in_worker_processes_on_postgres(
    pg_database: Callable[..., DatabaseConfig], replays: list[str], change: str
) -> None:
    """The restamping workers (their own connections) store what the full re-measure does."""
    from slarules.service import remeasure

    full_db, inc_db = pg_database(), pg_database()
    seed(full_db, 2)
    seed(inc_db, 2)
    new = policy_of(change)
    later = NOW + timedelta(hours=7)
    with opened(full_db) as full:
        ids = full.open_ids()
        full.remeasure(new, ids, later)
        expected = dump(full)
    assert remeasure.restamp_workers_for(len(ids), 4) == 2  # worker processes restamp
    replays.clear()
    with opened(inc_db) as svc:
        touched = _touched(svc, OLD, new)
        job = remeasure_all(svc.recorder, new, ids, lambda: later, batch=4, previous=OLD)
        assert asyncio.run(job) == len(ids)
        assert dump(svc) == expected
    assert sorted(replays) == touched


def test_a_reload_through_the_server_restamps(tmp_path: Path, replays: list[str]) -> None:
    from tests.alerts.conftest import EXAMPLES, engine_api, urgent
    from tests.alerts.receiver import wait_until
    from tests.service.gql import RECORD_EVENTS, RECORD_TICKET

    rules = tmp_path / "rules"
    shutil.copytree(EXAMPLES, rules)
    with engine_api(tmp_path / "a.db", rules=rules) as api:
        for i in range(5):
            api.data(RECORD_TICKET, urgent(f"T-{i}"))
            reply = {"eventId": "r", "ticketId": f"T-{i}", "at": "2026-03-02T12:00:00Z"}
            api.data(RECORD_EVENTS, {"events": [{**reply, "status": "open"}]})
        old = api.data("{ ruleset { version } }")["ruleset"]["version"]
        levels = rules / "10-levels.sla"
        levels.write_text(levels.read_text().replace("resolution 8h", "resolution 9h"))
        replays.clear()
        got = api.data("mutation { reloadRules { ok ruleset { version } } }")["reloadRules"]
        new = got["ruleset"]["version"]
        assert got["ok"] and new != old
        wait_until(lambda: api.data("{ ruleset { remeasuring } }")["ruleset"]["remeasuring"] == 0)
        wait_until(lambda: api.runtime.ruleset_current)
        assert replays == []  # restamped: no ticket was replayed
        q = '{ ticket(id: "T-1") { cycles { targetSeconds metric rulesetVersion } '
        q += "evaluations { rulesetVersion levelAfter } } }"
        t = api.data(q)["ticket"]
        assert {c["rulesetVersion"] for c in t["cycles"]} == {new}
        assert [e["rulesetVersion"] for e in t["evaluations"]] == [old, old, new, new]
        assert {c["targetSeconds"] for c in t["cycles"] if c["metric"] == "RESOLUTION"} == {32400}


def test_the_start_up_catch_up_restamps_from_the_stored_sources(
    tmp_path: Path, replays: list[str]
) -> None:
    """The server starts on a store measured under another version: the version's sources
    are in the store, so the catch-up is incremental (no replay) and stores what the full
    catch-up stores (the same store without those sources)."""
    import sqlite3

    from tests.alerts.conftest import EXAMPLES, engine_api, urgent
    from tests.alerts.receiver import wait_until
    from tests.service.gql import RECORD_EVENTS, RECORD_TICKET

    rules = tmp_path / "rules"
    shutil.copytree(EXAMPLES, rules)
    inc_db, full_db = tmp_path / "inc.db", tmp_path / "full.db"
    with engine_api(inc_db, rules=rules) as api:
        for i in range(6):
            api.data(RECORD_TICKET, urgent(f"T-{i}", **({"tags": []} if i % 2 else {})))
            reply = {"eventId": "r", "ticketId": f"T-{i}", "at": "2026-03-02T12:00:00Z"}
            api.data(RECORD_EVENTS, {"events": [{**reply, "status": "open"}]})
        old = api.data("{ ruleset { version } }")["ruleset"]["version"]
    for tail in ("", "-wal", "-shm"):
        if Path(f"{inc_db}{tail}").exists():
            shutil.copy(f"{inc_db}{tail}", f"{full_db}{tail}")
    with sqlite3.connect(full_db) as conn:  # this one cannot build the previous version
        conn.execute('DELETE FROM "ruleset" WHERE "version" = ?', (old,))
    levels = rules / "10-levels.sla"
    levels.write_text(levels.read_text().replace("resolution 8h", "resolution 9h"))
    dumps = []
    for db in (inc_db, full_db):
        replays.clear()
        with engine_api(db, rules=rules) as api:
            wait_until(lambda: api.runtime.ruleset_current)
            new = api.data("{ ruleset { version } }")["ruleset"]["version"]
        assert new != old
        if db == inc_db:
            assert replays == []  # restamped from the previous version's stored sources
        else:
            assert sorted(replays) == [f"T-{i}" for i in range(6)]
        with opened(db) as svc:
            got = dump(svc)
            assert {c["ruleset_version"] for c in got["cycle"]} == {new}
            dumps.append(got)
    assert dumps[0] == dumps[1]


def test_a_ticket_changed_after_its_plan_is_left_to_the_full_path(
    seeded: Path, replays: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A batch is planned in a read and saved in a later write: a ticket that got an event
    in between (its checkpoint moved) is measured from its events, as a full re-measure
    after that event measures it."""
    from slarules.service import remeasure

    new = policy_of("a target of urgent")
    later = NOW + timedelta(hours=7)
    changed: list[str] = []
    real = restamp.plan_in

    def plan_then_event(recorder: Any, cur: Any, *args: Any) -> Any:
        plan = real(recorder, cur, *args)
        if not changed and plan.marks:
            t = sorted(plan.marks)[0]
            changed.append(t)
            svc = TicketService(recorder.store)  # another request, under the old rules
            at = int((later - T0).total_seconds() // 60) - 5
            svc.record_events(OLD, [RawEvent(t, "meanwhile", _event(at, "agent"))], later)
        return plan

    monkeypatch.setattr(restamp, "plan_in", plan_then_event)
    monkeypatch.setattr(remeasure, "RESTAMP_PROCESSES", 0)  # planned in this process
    with opened(_copy(seeded, "inc.db")) as inc:
        ids = inc.open_ids()
        asyncio.run(remeasure_all(inc.recorder, new, ids, lambda: later, batch=4, previous=OLD))
        got = dump(inc)
    assert changed and changed[0] in replays  # measured from its events after all
    with opened(_copy(seeded, "full.db")) as full:
        at = int((later - T0).total_seconds() // 60) - 5
        full.record_events(OLD, [RawEvent(changed[0], "meanwhile", _event(at, "agent"))], later)
        full.remeasure(new, ids, later)
        assert got == dump(full)
