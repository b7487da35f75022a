"""Impact preview: replay tickets through two policies and tally what changes.

The tally (`Preview`) is the same whether the tickets come from the store
(`preview_store`: streamed in id-ordered batches, measured in forked worker
processes, read-only) or from fixture files (`slarules diff` on fixtures),
so both paths give the same report on the same tickets:

- a level transition matrix (old level × new level, counts), with the
  deciding rules (old → new) behind each cell and a few example ids;
- per metric, the cycles that flip met → breached or breached → met, that
  appear or disappear, and other changes into or out of met/breached
  (the cycles `slarules diff` lists);
- compliance of finished cycles per level and metric, before and after
  (engine.reports.compliance per batch, merged);
- the tickets that could not be measured under one of the rulesets.

It counts one `verdicts.Verdict` per ticket and ruleset (level, deciding rule,
SLA-log rows). On the store path a ticket stored under the old ruleset takes
its old verdict from the store when that is exactly what measuring gives
(`verdicts.stored_verdict`); the others are measured (`verdicts.measured_verdict`).
"""

from __future__ import annotations

import multiprocessing
import os
import time
import warnings
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from slarules.engine.measurement import Measurement
from slarules.engine.policy import METRICS, Policy
from slarules.engine.reports import ComplianceRow, LogRow, compliance
from slarules.engine.ticket import TicketHistory
from slarules.engine.timers import measure
from slarules.service.recording import history_of
from slarules.service.verdicts import (
    Verdict,
    flips_between,
    measured_verdict,
    stored_verdict,
    verdict,
)
from slarules.settings import DatabaseConfig
from slarules.store.histories import Histories

EXAMPLES = 5  # example ticket ids kept per transition and per flip kind
FLIP_KINDS = ("met_to_breached", "breached_to_met", "appeared", "disappeared", "other")
_EPOCH = datetime(1, 1, 1, tzinfo=UTC)
_END = datetime(9999, 12, 31, tzinfo=UTC)


def measure_at(policy: Policy, h: TicketHistory, now: datetime) -> Measurement:
    """As the service measures: at `now`, or at creation for a ticket ahead of the clock."""
    return measure(policy, h, max(now, h.created_at))


def _keep(ids: list[str], tid: str) -> None:
    """Keep the EXAMPLES smallest ids: the same examples whatever the order tickets came in."""
    if tid in ids:
        return
    ids.append(tid)
    ids.sort()
    del ids[EXAMPLES:]


def _acc_of(r: ComplianceRow) -> list[Any]:
    """met count, sum, min, max; breached count, sum, min, max."""
    return [
        r.met_count,
        round((r.met_avg_seconds or 0) * r.met_count),
        r.met_min_seconds,
        r.met_max_seconds,
        r.breached_count,
        round((r.breached_avg_seconds or 0) * r.breached_count),
        r.breached_min_seconds,
        r.breached_max_seconds,
    ]


def _merge_acc(a: list[Any], b: list[Any]) -> list[Any]:
    def lo(x: Any, y: Any) -> Any:
        return y if x is None else x if y is None else min(x, y)

    def hi(x: Any, y: Any) -> Any:
        return y if x is None else x if y is None else max(x, y)

    return [
        a[0] + b[0],
        a[1] + b[1],
        lo(a[2], b[2]),
        hi(a[3], b[3]),
        a[4] + b[4],
        a[5] + b[5],
        lo(a[6], b[6]),
        hi(a[7], b[7]),
    ]


def compliance_dict(acc: list[Any] | None) -> dict[str, Any]:
    a = acc or [0, 0, None, None, 0, 0, None, None]
    total = a[0] + a[4]
    return {
        "met_count": a[0],
        "met_avg_seconds": a[1] / a[0] if a[0] else None,
        "met_min_seconds": a[2],
        "met_max_seconds": a[3],
        "breached_count": a[4],
        "breached_avg_seconds": a[5] / a[4] if a[4] else None,
        "breached_min_seconds": a[6],
        "breached_max_seconds": a[7],
        "service_level": a[0] / total * 100.0 if total else None,
    }


@dataclass
class Preview:
    """The tally of a replay; partial tallies (one per batch) merge with `merge`."""

    tickets: int = 0
    changed: int = 0
    matrix: Counter[tuple[str, str]] = field(default_factory=Counter)
    causes: dict[tuple[str, str], Counter[tuple[str, str]]] = field(default_factory=dict)
    examples: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    flips: dict[str, Counter[str]] = field(default_factory=dict)
    flip_examples: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    before: dict[tuple[str, str], list[Any]] = field(default_factory=dict)
    after: dict[tuple[str, str], list[Any]] = field(default_factory=dict)
    unmeasurable: list[tuple[str, str, str]] = field(default_factory=list)  # id, which, why
    _rows: tuple[list[LogRow], list[LogRow]] = field(default_factory=lambda: ([], []))

    def add(self, old: Measurement, new: Measurement) -> bool:
        """Count one ticket measured under both policies; True when something changed."""
        return self.add_verdicts(verdict(old), verdict(new))

    def add_verdicts(self, old: Verdict, new: Verdict) -> bool:
        """`add` of what the tally reads of the two measurements (`service.verdicts`)."""
        tid = old.ticket_id
        self.tickets += 1
        cell = (old.level or "none", new.level or "none")
        rules = (old.decided_by or "none", new.decided_by or "none")
        self.matrix[cell] += 1
        self.causes.setdefault(cell, Counter())[rules] += 1
        _keep(self.examples.setdefault(cell, []), tid)
        flips = flips_between(old.rows, new.rows)
        for metric, _i, _a, _b, kind in flips:
            self.flips.setdefault(metric, Counter())[kind] += 1
            _keep(self.flip_examples.setdefault((metric, kind), []), tid)
        self._rows[0].extend(old.rows)
        self._rows[1].extend(new.rows)
        if len(self._rows[0]) + len(self._rows[1]) > 20_000:
            self.fold_rows()
        changed = cell[0] != cell[1] or rules[0] != rules[1] or bool(flips)
        self.changed += changed
        return changed

    def fail(self, ticket_id: str, which: str, message: str) -> None:
        self.unmeasurable.append((ticket_id, which, message))

    def fold_rows(self) -> None:
        """Aggregate the buffered SLA-log rows (bounded memory)."""
        for rows, into in zip(self._rows, (self.before, self.after), strict=True):
            for r in compliance(rows, _EPOCH, _END, ("level", "metric")):
                key = (r.level or "none", r.metric or "")
                acc = _acc_of(r)
                into[key] = _merge_acc(into[key], acc) if key in into else acc
            rows.clear()

    def merge(self, other: Preview) -> None:
        other.fold_rows()
        self.fold_rows()
        self.tickets += other.tickets
        self.changed += other.changed
        self.matrix.update(other.matrix)
        for k, c in other.causes.items():
            self.causes.setdefault(k, Counter()).update(c)
        for k, ids in other.examples.items():
            for t in ids:
                _keep(self.examples.setdefault(k, []), t)
        for m, kinds in other.flips.items():
            self.flips.setdefault(m, Counter()).update(kinds)
        for k, ids in other.flip_examples.items():
            for t in ids:
                _keep(self.flip_examples.setdefault(k, []), t)
        for mine, theirs in ((self.before, other.before), (self.after, other.after)):
            for k, acc in theirs.items():
                mine[k] = _merge_acc(mine[k], acc) if k in mine else acc
        self.unmeasurable.extend(other.unmeasurable)

    def as_dict(self) -> dict[str, Any]:
        """The report as plain data (JSON output, GraphQL); levels and metrics in order."""
        self.fold_rows()
        transitions = [
            {
                "from": a,
                "to": b,
                "count": n,
                "causes": [
                    {"from_rule": ra, "to_rule": rb, "count": k}
                    for (ra, rb), k in sorted(self.causes[(a, b)].items(), key=lambda x: -x[1])
                ],
                "examples": list(self.examples[(a, b)]),
            }
            for (a, b), n in sorted(self.matrix.items(), key=lambda x: (x[0][0] == x[0][1], x))
        ]
        flips = [
            {
                "metric": m,
                **{k: self.flips[m][k] for k in FLIP_KINDS},
                "examples": {
                    k: list(self.flip_examples.get((m, k), []))
                    for k in FLIP_KINDS
                    if self.flips[m][k]
                },
            }
            for m in METRICS
            if m in self.flips
        ]
        keys = sorted(
            self.before.keys() | self.after.keys(),
            key=lambda k: (k[0], METRICS.index(k[1]) if k[1] in METRICS else -1),
        )
        return {
            "tickets": self.tickets,
            "changed": self.changed,
            "transitions": transitions,
            "flips": flips,
            "compliance": [
                {
                    "level": lv,
                    "metric": m,
                    "before": compliance_dict(self.before.get((lv, m))),
                    "after": compliance_dict(self.after.get((lv, m))),
                }
                for lv, m in keys
            ],
            "unmeasurable": [
                {"ticket_id": t, "ruleset": w, "message": msg}
                for t, w, msg in sorted(self.unmeasurable)
            ],
        }


def compare_history(
    tally: Preview,
    old: Policy,
    new: Policy,
    h: TicketHistory,
    now: datetime,
    known_old: Verdict | None = None,
) -> tuple[Verdict, Verdict] | None:
    """Measure one history under both policies into `tally` (a failure is listed, not raised);
    `known_old`: its verdict under `old` as of `now`, already known (not measured again)."""
    got: list[Verdict] = []
    failed: list[tuple[str, str]] = []
    for which, policy in (("old", old), ("new", new)):
        if which == "old" and known_old is not None:
            got.append(known_old)
            continue
        try:
            got.append(measured_verdict(policy, h, now))
        except Exception as e:  # one bad ticket never stops the preview
            failed.append((which, f"{type(e).__name__}: {e}" if not str(e) else str(e)))
    if failed:
        which = "both" if len(failed) == 2 else failed[0][0]
        tally.fail(h.id, which, failed[0][1])
        return None
    tally.add_verdicts(got[0], got[1])
    return got[0], got[1]


# -- the store path ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Budget:
    """At most `tickets` tickets and about `seconds` of wall time (None: no limit)."""

    tickets: int | None = None
    seconds: float | None = None


@dataclass
class StoreReport:
    preview: Preview
    since: datetime
    now: datetime
    old_version: str
    new_version: str
    stopped_by: str | None = None  # "tickets" or "seconds" when the budget cut it short
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        from slarules.instants import rfc3339

        return {
            "since": rfc3339(self.since),
            "now": rfc3339(self.now),
            "old_version": self.old_version,
            "new_version": self.new_version,
            "truncated": self.stopped_by is not None,
            "stopped_by": self.stopped_by,
            **self.preview.as_dict(),
        }


_shared: tuple[Policy, Policy, DatabaseConfig, datetime, bool] | None = None
_reader: Histories | None = None  # one read-only connection per worker process


def _batch(ids: Sequence[str]) -> Preview:
    global _reader
    assert _shared is not None
    old, new, config, now, use_stored = _shared
    if _reader is None:
        _reader = Histories(config)
    tally = Preview()
    got = _reader.tickets(ids)
    known = _reader.measured([s.head for s in got], old.version) if use_stored else {}
    for s in got:
        v = stored_verdict(old, s.head, s.events, known.get(s.head.id), now)
        compare_history(tally, old, new, history_of(s.head, s.events), now, v)
    tally.fold_rows()
    return tally


def default_jobs() -> int:
    if "fork" not in multiprocessing.get_all_start_methods():
        return 1
    try:
        return max(1, min(len(os.sched_getaffinity(0)), 8))
    except AttributeError:
        return max(1, min(os.cpu_count() or 1, 8))


def _pages(reader: Histories, since: datetime, size: int, cap: int | None) -> Iterator[list[str]]:
    left = cap
    for ids in reader.pages_since(since, size):
        if left is not None:
            ids = ids[:left]
            left -= len(ids)
        if ids:
            yield ids
        if left is not None and left <= 0:
            return


def preview_store(
    config: DatabaseConfig,
    old: Policy,
    new: Policy,
    since: datetime,
    now: datetime,
    *,
    jobs: int | None = None,
    budget: Budget = Budget(),
    batch: int = 500,
    stored: bool = True,
) -> StoreReport:
    """Replay the stored tickets created or active since `since` under both policies.

    Read-only; batches of `batch` ids go to forked workers (`jobs`, default one per
    core; 1 runs in this process), at most 2 batches per worker in flight, so memory
    stays bounded whatever the number of tickets. A ticket last measured under `old`
    is not measured under it again when the store holds exactly what that would give
    (`service.verdicts`; `stored=False` measures every ticket under both).
    """
    global _shared, _reader
    started = time.monotonic()
    report = StoreReport(Preview(), since, now, old.version, new.version)
    jobs = default_jobs() if jobs is None else jobs
    deadline = None if budget.seconds is None else started + budget.seconds
    with Histories(config) as reader:
        total = reader.count_since(since)
        cap = budget.tickets
        pages = _pages(reader, since, batch, cap)
        _shared = (old, new, config, now, stored)
        try:
            if jobs <= 1 or total <= batch:
                _reader = reader
                for ids in pages:
                    report.preview.merge(_batch(ids))
                    if deadline is not None and time.monotonic() > deadline:
                        report.stopped_by = "seconds"
                        break
            else:
                report.stopped_by = _parallel(report.preview, pages, jobs, deadline)
        finally:
            _shared = None
            _reader = None
    if report.stopped_by is None and cap is not None and total > cap:
        report.stopped_by = "tickets"
    report.seconds = time.monotonic() - started
    return report


def _parallel(
    tally: Preview, pages: Iterable[list[str]], jobs: int, deadline: float | None
) -> str | None:
    stopped = None
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", r".*fork\(\) may lead to deadlocks", DeprecationWarning)
        ctx = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(max_workers=jobs, mp_context=ctx) as pool:
            flying: list[Future[Preview]] = []
            for ids in pages:
                if deadline is not None and time.monotonic() > deadline:
                    stopped = "seconds"
                    break
                flying.append(pool.submit(_batch, ids))
                if len(flying) >= 2 * jobs:  # merge in order: bounded memory, stable output
                    tally.merge(flying.pop(0).result())
            for f in flying:
                tally.merge(f.result())
    return stopped
