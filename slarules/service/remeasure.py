"""Re-measure many open tickets (after a reload) in worker processes, in batches.

The parent reads a batch (heads, events, event marks) in a short read, a worker
process measures it from the histories (`recording.measure_all`, pure engine
work), and the parent saves the results in one short write per batch; a ticket
whose events changed in between is measured again inside that write, so the rows
are what the serial `TicketService.remeasure` would write at the same instant.
Reads, measuring and writes of different batches overlap; the server keeps
answering (the reads and writes run in its thread pool, the measuring elsewhere).

Workers are forked from the server (the live policy is not picklable; a fork
inherits it) and live for one re-measure. By default there are none (see
`DEFAULT_PROCESSES`): the batches are measured in the thread pool, still outside
the write transaction, so a batch holds the write lock only while it is saved.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import pickle
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import anyio.to_thread

from slarules.engine import alerts as rules
from slarules.engine.impact import Impact, impact
from slarules.engine.policy import Policy
from slarules.service.recording import Hooks, Recorder, Work, credited_work, measure_all
from slarules.service.restamp import restamp_batch
from slarules.settings import DatabaseConfig
from slarules.store import Store
from slarules.store.rows import EventRow, TicketHead

__all__ = [
    "BATCH",
    "Inputs",
    "previous_policies",
    "read_batch",
    "remeasure_all",
    "restamp_all",
    "save_batch",
    "workers_for",
]

log = logging.getLogger("slarules.service")


async def run_in_threadpool(fn: Callable[..., Any], *args: Any) -> Any:
    """In the server's worker threads (anyio's, as `starlette.concurrency`: the same cap
    on threads, so on PostgreSQL the same cap on connections)."""
    return await anyio.to_thread.run_sync(fn, *args)


BATCH = 200
_POLICY: Policy | None = None  # in a worker: the policy it inherited


@dataclass(frozen=True, slots=True)
class Inputs:
    """What re-measuring a part of the open tickets reads: heads, events, event marks."""

    heads: dict[str, TicketHead]
    rows: dict[str, list[EventRow]]
    marks: dict[str, tuple[int, int]]


def restamp_all(
    recorder: Recorder,
    new: Policy,
    changes: Sequence[tuple[Policy, Impact]],
    ids: Sequence[str],
    now: datetime,
) -> tuple[int, list[str], list[rules.Alert]]:
    """Restamp the tickets among `ids` that a change from one of the previous policies
    cannot touch (`service.restamp`): (how many, the ids left, the alerts raised)."""
    n, rest = 0, list(ids)
    raised: list[rules.Alert] = []
    for old, change in changes:
        if rest and (not change.replay or change.decisions):
            k, rest, got = restamp_batch(recorder, old, new, change, rest, now)
            n, raised = n + k, raised + got
    return n, rest, raised


def read_batch(recorder: Recorder, ids: Iterable[str]) -> Inputs:
    """The open tickets among `ids`, their events and event marks (one read)."""
    store = recorder.store
    with store.read() as cur:
        heads = store.tickets.heads(cur, ids, open_only=True)
        rows = store.tickets.events(cur, heads)
        marks = store.tickets.event_marks(cur, heads)
    return Inputs(heads, rows, marks)


def save_batch(
    recorder: Recorder,
    policy: Policy,
    inputs: Inputs,
    measured: Mapping[str, Work | Exception],
    now: datetime,
) -> int:
    """Save what `measure_all` made of `inputs` as of `now`, in one write: a ticket whose
    events changed since (or that became done) is measured again here from its stored
    events, so the rows are what `TicketService.remeasure` at `now` would write."""
    repo = recorder.store.tickets
    with recorder.store.write() as cur:
        heads = repo.heads(cur, inputs.heads, lock=True, open_only=True)
        marks = repo.event_marks(cur, heads)
        fresh = {t: h for t, h in heads.items() if marks[t] == inputs.marks.get(t)}
        again = {t: h for t, h in heads.items() if t not in fresh}
        raised = recorder.save_measured(cur, policy, fresh, measured, now)
        if again:
            raised += recorder.remeasure_in(cur, policy, again, now)
    recorder.committed(raised)
    return len(heads)


# Worker processes a re-measure may use by default: none. Measured on the 2-core machine
# (bench/bench_remeasure.py), sending a batch's measurements back to the parent costs it
# about what measuring them does (the parent also saves every batch), so workers made
# the re-measure slower there; `remeasure_all(..., workers=n)` still uses n of them.
DEFAULT_PROCESSES = 0


def workers_for(tickets: int, batch: int = BATCH, processes: int | None = None) -> int:
    """Worker processes for a re-measure: up to `processes` (default `DEFAULT_PROCESSES`),
    never more than the cores or the batches, none for a single batch."""
    most = DEFAULT_PROCESSES if processes is None else processes
    if tickets <= batch:
        return 0
    return max(0, min(most, os.cpu_count() or 1, -(-tickets // batch)))


def previous_policies(recorder: Recorder, version: str) -> list[Policy]:
    """The policies of the other versions open tickets were left on (the start-up catch-up),
    built again from the sources the store keeps; a version whose sources are not kept or
    do not build is left out (its tickets are measured from their events)."""
    from slarules.service.past import policy_of
    from slarules.store.histories import StoredRuleset
    from slarules.store.runs import stale_sources

    store = recorder.store
    with store.read() as cur:
        found = stale_sources(store.sql, cur, version)
    out = []
    for v, files, sources in found:
        try:
            out.append(policy_of(StoredRuleset(v, datetime.min, files, sources)))
        except Exception:
            log.warning("cannot build the stored sources of ruleset version %s", v)
    return out


# Worker processes that restamp (plan a batch in a read, save it in a short write, each
# with its own connection): on 2 cores the plan of one batch is made while another is
# saved. The parent only hands out the batches and measures what is left.
RESTAMP_PROCESSES = 2


def restamp_workers_for(tickets: int, batch: int = BATCH, processes: int | None = None) -> int:
    """Worker processes that restamp: up to `processes` (default `RESTAMP_PROCESSES`),
    never more than the cores or the batches, none for a single batch."""
    most = RESTAMP_PROCESSES if processes is None else processes
    if tickets <= batch:
        return 0
    return max(0, min(most, os.cpu_count() or 1, -(-tickets // batch)))


_RESTAMP: tuple[Recorder, Policy, Sequence[tuple[Policy, Impact]]] | None = None


def _adopt_restamp(
    config: DatabaseConfig,
    max_age: float,
    skew: float,
    webhook: bool,
    new: Policy,
    changes: Sequence[tuple[Policy, Impact]],
) -> None:
    """In a restamping worker: its own store, and the policies it inherited."""
    global _RESTAMP
    store = Store.open(config)
    store.alerts.webhook = webhook
    _RESTAMP = (Recorder(store, Hooks(), max_age, skew), new, changes)


def _restamp(ids: Sequence[str], now: datetime) -> tuple[int, list[str], list[rules.Alert]]:
    assert _RESTAMP is not None
    recorder, new, changes = _RESTAMP
    return restamp_all(recorder, new, changes, ids, now)


def _adopt(policy: Policy) -> None:
    global _POLICY
    _POLICY = policy


def _measure(inputs: Inputs, now: datetime) -> dict[str, Work | Exception]:
    """In a worker: measure a batch with the inherited policy (errors made picklable)."""
    assert _POLICY is not None
    out = measure_all(_POLICY, inputs.heads, inputs.rows, now)
    for t, got in out.items():
        if isinstance(got, Work):
            out[t] = credited_work(_POLICY, got)
        else:
            try:
                pickle.loads(pickle.dumps(got))
            except Exception:
                out[t] = RuntimeError(f"{type(got).__name__}: {got}")
    return out


async def remeasure_all(
    recorder: Recorder,
    policy: Policy,
    ids: Sequence[str],
    now: Callable[[], datetime],
    *,
    batch: int = BATCH,
    workers: int | None = None,
    go_on: Callable[[], bool] = lambda: True,
    done: Callable[[int, int], None] = lambda n, left: None,
    previous: Policy | Sequence[Policy] | None = None,
) -> int:
    """Re-measure `ids` in batches; `go_on()` False stops before the next batch (a newer
    reload took over); `done(n, left)` after each saved batch. Returns tickets saved.

    `previous`: the policy the tickets were measured under (a reload), or several (the
    start-up catch-up: the versions they were left on); the tickets the change from
    theirs cannot touch (`engine.impact`) are restamped in a short write per batch and
    only the others are read, measured and saved as above."""
    olds = [] if previous is None else [previous] if isinstance(previous, Policy) else previous
    changes = [(p, impact(p, policy)) for p in olds if p.version != policy.version]
    changes = [(p, c) for p, c in changes if not c.replay or c.decisions]
    n_workers = workers_for(len(ids), batch) if workers is None else workers
    parts = [list(ids[i : i + batch]) for i in range(0, len(ids), batch)]
    pool: Executor | None = None
    stampers: Executor | None = None
    if n_workers > 0:
        ctx = multiprocessing.get_context("fork")
        pool = ProcessPoolExecutor(
            n_workers, mp_context=ctx, initializer=_adopt, initargs=(policy,)
        )
    n_stampers = restamp_workers_for(len(ids), batch) if changes else 0
    if n_stampers > 0:
        ctx = multiprocessing.get_context("fork")
        store = recorder.store
        stampers = ProcessPoolExecutor(
            n_stampers,
            mp_context=ctx,
            initializer=_adopt_restamp,
            initargs=(
                store.config,
                recorder.max_age,
                recorder.skew,
                store.alerts.webhook,
                policy,
                changes,
            ),
        )
    loop = asyncio.get_running_loop()
    saved = processed = 0
    # per batch in order: (its size, tickets restamped, what is measured from events)
    in_flight: list[tuple[int, int, tuple[Inputs, datetime, asyncio.Future[Any]] | None]] = []
    # batches being restamped (ahead of the ones measured): (the batch, its restamp)
    stamping: list[tuple[list[str], asyncio.Future[Any] | None]] = []
    todo = iter(parts)

    def stamp_ahead() -> None:
        while len(stamping) < max(1, n_stampers):
            part = next(todo, None)
            if part is None or not go_on():
                return
            fut: asyncio.Future[Any] | None = None
            if stampers is not None:
                fut = loop.run_in_executor(stampers, _restamp, part, now())
            elif changes:
                job = run_in_threadpool(restamp_all, recorder, policy, changes, part, now())
                fut = asyncio.ensure_future(job)
            stamping.append((part, fut))

    async def save_first() -> None:
        nonlocal saved, processed
        size, n, job = in_flight.pop(0)
        if job is not None:
            inputs, at, fut = job
            measured = await fut
            n += await run_in_threadpool(save_batch, recorder, policy, inputs, measured, at)
        saved += n
        processed += size
        done(n, len(ids) - processed)

    try:
        stamp_ahead()
        while stamping:
            part, stamp = stamping.pop(0)
            n, rest = 0, part
            if stamp is not None:
                n, rest, raised = await stamp
                recorder.committed(raised)
            if not go_on():  # a newer reload took over: the restamps under way end first
                saved += n
                for _, ahead in stamping:
                    if ahead is not None:
                        k, _, raised = await ahead
                        recorder.committed(raised)
                        saved += k
                stamping.clear()
                break
            stamp_ahead()
            if not rest:
                in_flight.append((len(part), n, None))
                continue
            inputs = await run_in_threadpool(read_batch, recorder, rest)
            at = now()
            if pool is not None:
                fut: asyncio.Future[Any] = loop.run_in_executor(pool, _measure, inputs, at)
            else:
                fut = asyncio.ensure_future(
                    run_in_threadpool(measure_all, policy, inputs.heads, inputs.rows, at)
                )
            in_flight.append((len(part), n, (inputs, at, fut)))
            while len(in_flight) > max(1, n_workers):
                await save_first()
        while in_flight:
            if not go_on():
                for _, _, job in in_flight:
                    if job is not None:
                        job[2].cancel()
                break
            await save_first()
    finally:
        for ex in (pool, stampers):
            if ex is not None:
                ex.shutdown(wait=False, cancel_futures=True)
    return saved
