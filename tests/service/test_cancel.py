"""Issue 11 item 7: an expensive request that times out or whose client leaves stops its
worker thread (the cooperative `Deadline` of slarules/budget.py), not only its answer.

No timed asserts: each test checks that the abandoned thread ended by raising
`Cancelled` (it did not finish the work) and that its limiter token came back."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import anyio
import pytest
from starlette.testclient import TestClient

from slarules.budget import Budget, Deadline
from slarules.dsl.source import BuildResult
from slarules.engine.cancel import Cancel, Cancelled
from slarules.settings import DatabaseConfig
from tests.dsl.test_cancel import big_rules
from tests.service.rules import T0

BIG = big_rules(1900)  # about 220 KB: seconds to build, far over the budget below
WAIT = 120.0  # generous: the thread must end long before this (it polls per rule)


class _SlowPolls:
    """A cancel hook that takes 2 ms a poll: a build of `BIG` (a poll per rule) then takes
    seconds on any machine, so it always outlasts the 0.5 s budget (the real build got
    fast enough to finish inside it on a quiet machine)."""

    def __init__(self, inner: Cancel) -> None:
        self.inner = inner

    def check(self) -> None:
        time.sleep(0.002)
        self.inner.check()


class Watched:
    """Wraps the runtime's `build_source`: records how each call ended."""

    def __init__(self, real: Any) -> None:
        self.real = real
        self.ended = threading.Event()
        self.outcome: list[BaseException | BuildResult] = []
        self.cancel: Cancel | None = None

    def __call__(self, text: str, name: str, cancel: Any = None) -> BuildResult:
        self.cancel = cancel
        try:
            slow = None if cancel is None else _SlowPolls(cancel)
            result: BuildResult = self.real(text, name, slow)
        except BaseException as e:
            self.outcome.append(e)
            raise
        finally:
            self.ended.set()
        self.outcome.append(result)
        return result


@pytest.fixture
def client(sqlite_db: DatabaseConfig) -> Iterator[tuple[TestClient, Watched, Any]]:
    from slarules.app import create_app
    from slarules.clock import FrozenClock
    from slarules.runtime import LiveRuleset, _build_source
    from slarules.settings import Settings
    from tests.service.rules import make_policy

    watched = Watched(_build_source)
    settings = replace(Settings(database=sqlite_db), operation_timeout=0.5, expensive_threads=1)
    app = create_app(
        settings, FrozenClock(T0), ruleset=LiveRuleset(make_policy(), T0, {}), build_source=watched
    )
    with TestClient(app) as c:
        yield c, watched, app.state.runtime


def _reason(r: Any) -> str:
    return str(r.json()["errors"][0]["extensions"].get("reason"))


CHECK = "query($s: String!) { checkRules(source: $s) { code } }"


def test_a_timed_out_check_rules_stops_its_thread(client: Any) -> None:
    c, watched, runtime = client
    r = c.post("/graphql", json={"query": CHECK, "variables": {"s": BIG}})
    assert r.status_code == 200 and _reason(r) == "timeout"
    assert watched.ended.wait(WAIT)
    (outcome,) = watched.outcome
    assert isinstance(outcome, Cancelled)  # it stopped; it did not build the 1,900 rules
    assert isinstance(watched.cancel, Deadline) and watched.cancel.polls > 0
    # its only limiter token came back: a small check runs (it waited before, then timed out)
    assert runtime.budget.limiter.borrowed_tokens == 0
    ok = c.post("/graphql", json={"query": CHECK, "variables": {"s": "# nothing\n"}})
    assert "errors" not in ok.json(), ok.json()


def test_a_timed_out_explain_stops_its_thread(client: Any) -> None:
    c, watched, runtime = client
    q = (
        'query($r: String!) { explain(ticket: {id: "X", createdAt: "2026-03-02T12:00:00Z", '
        "fields: {}}, rules: $r) { decidedBy } }"
    )
    r = c.post("/graphql", json={"query": q, "variables": {"r": BIG}})
    assert r.status_code == 200 and _reason(r) == "timeout"
    assert watched.ended.wait(WAIT)
    (outcome,) = watched.outcome
    assert isinstance(outcome, Cancelled)
    assert runtime.budget.limiter.borrowed_tokens == 0


def test_a_timed_out_reload_stops_and_swaps_nothing(client: Any, tmp_path: Path) -> None:
    c, _watched, runtime = client
    rules = tmp_path / "rules.sla"
    rules.write_text(BIG)
    runtime.settings = replace(runtime.settings, rules=str(rules))
    before = runtime.ruleset
    ended = threading.Event()
    outcome: list[Any] = []
    real = runtime.reload

    def reload(fan_out: bool = True, cancel: Any = None) -> Any:
        try:
            return real(fan_out, _SlowPolls(cancel))
        except BaseException as e:
            outcome.append(e)
            raise
        finally:
            ended.set()

    runtime.reload = reload
    admin = c.post("/graphql", json={"query": "mutation { reloadRules { ok } }"})
    assert _reason(admin) == "timeout"
    assert ended.wait(WAIT)
    (e,) = outcome
    assert isinstance(e, Cancelled)  # stopped while it built, not after
    assert runtime.ruleset is before  # nothing was swapped
    assert runtime.budget.limiter.borrowed_tokens == 0


def test_a_client_that_leaves_stops_the_thread() -> None:
    """`CancelOnDisconnect` cancels the request's task: `run_stoppable` then stops the
    deadline, and the work ends at its next poll (the time limit is an hour away)."""
    budget = Budget(threads=1, seconds=3600)
    started, ended = threading.Event(), threading.Event()
    outcome: list[BaseException] = []

    def work(deadline: Deadline) -> None:
        started.set()
        try:
            while True:
                deadline.check()
                ended.wait(0.01)
        except BaseException as e:
            outcome.append(e)
            raise
        finally:
            ended.set()

    async def main() -> None:
        async with anyio.create_task_group() as tg:
            tg.start_soon(budget.run_stoppable, "work", work)
            await anyio.to_thread.run_sync(started.wait, WAIT)
            tg.cancel_scope.cancel()  # what a disconnect does to the request's task
        assert await anyio.to_thread.run_sync(ended.wait, WAIT)
        for _ in range(100):  # the worker gives its token back just after it returns
            if budget.limiter.borrowed_tokens == 0:
                break
            await anyio.sleep(0.05)
        assert budget.limiter.borrowed_tokens == 0

    anyio.run(main)
    (e,) = outcome
    assert isinstance(e, Cancelled)


def test_compliance_stops_between_its_steps(sqlite_db: DatabaseConfig) -> None:
    """Breached running cycles are brought up to date in Python, per 500: polled per batch."""
    from datetime import timedelta

    from slarules.service import TicketService
    from slarules.store import Store
    from tests.dsl.test_cancel import Counting
    from tests.service.reports_store import START, make_policy

    policy = make_policy()
    store = Store.open(sqlite_db)
    svc = TicketService(store)
    for i in range(3):  # open, never answered: every cycle breached a day later
        raw = {"id": f"T{i}", "created_at": START, "fields": {"status": "new"}}
        svc.record_ticket(policy, raw, START)
    now, end = START + timedelta(days=1), START + timedelta(days=2)
    full = Counting()
    rows = svc.compliance(policy, START, end, [], now, None, full)
    assert rows and full.polls == 2  # after the aggregate, then one batch of running cycles
    for stop_at in (1, 2):
        hook = Counting(stop_at)
        with pytest.raises(Cancelled):
            svc.compliance(policy, START, end, [], now, None, hook)
        assert hook.polls == stop_at
    store.close()


def test_explain_of_many_events_stops_between_events() -> None:
    from datetime import timedelta

    from slarules.service import TicketService
    from tests.dsl.test_cancel import Counting
    from tests.service.rules import make_policy

    policy = make_policy()
    ticket = {"id": "X", "created_at": T0, "fields": {"status": "new"}}
    events = [
        {"at": T0 + timedelta(minutes=i + 1), "type": "message", "by": "agent"} for i in range(1000)
    ]
    now = T0 + timedelta(days=1)
    full = Counting()
    TicketService.explain(policy, ticket, events, now, full)
    assert full.polls == 1000
    hook = Counting(50)
    with pytest.raises(Cancelled):
        TicketService.explain(policy, ticket, events, now, hook)
    assert hook.polls == 50  # 950 events never folded


def test_a_client_that_hangs_up_stops_the_thread_through_a_real_server(
    sqlite_db: DatabaseConfig,
) -> None:
    """End to end, through uvicorn: a checkRules whose client closes its connection while
    the rules build (no time limit in sight) stops at the build's next poll."""
    import json
    import socket

    import uvicorn

    from slarules.app import create_app
    from slarules.clock import FrozenClock
    from slarules.runtime import LiveRuleset, _build_source
    from slarules.settings import Settings
    from tests.service.rules import make_policy

    watched = Watched(_build_source)
    started = threading.Event()

    def build(text: str, name: str, cancel: Any = None) -> BuildResult:
        started.set()
        return watched(text, name, cancel)

    settings = replace(Settings(database=sqlite_db), operation_timeout=3600.0)
    app = create_app(
        settings, FrozenClock(T0), ruleset=LiveRuleset(make_policy(), T0, {}), build_source=build
    )
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        for _ in range(1000):
            if server.started:
                break
            time.sleep(0.01)
        body = json.dumps({"query": CHECK, "variables": {"s": BIG}}).encode()
        conn = socket.create_connection(("127.0.0.1", port))
        conn.sendall(
            b"POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            + f"Content-Length: {len(body)}\r\n\r\n".encode()
            + body
        )
        assert started.wait(WAIT)
        time.sleep(0.2)  # the build is under way (a poll takes 2 ms, BIG has 1,900 rules)
        conn.close()
        assert watched.ended.wait(WAIT)
        (outcome,) = watched.outcome
        assert isinstance(outcome, Cancelled)
    finally:
        server.should_exit = True
        thread.join(WAIT)
