"""Stored checkpoints ⇄ engine folds (`engine.fold`), and when one may be resumed.

A checkpoint is a ticket's fold after its last event, trimmed to what is still
running, plus the ids of the alerts its stopped cycles reached (so planning the
alerts of the cycles that changed never cancels theirs). It is written only
when every stored event is folded (none after the measuring instant), and it
is keyed by ruleset and engine version: any other version is a miss.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from types import MappingProxyType
from typing import Any

from slarules.engine import cycles
from slarules.engine.fold import ENGINE_VERSION, Fold
from slarules.engine.measurement import Evaluation
from slarules.engine.policy import Policy
from slarules.store import codec
from slarules.store.rows import CheckpointRow


def to_plain(s: Fold, seen: list[str]) -> dict[str, Any]:
    return {
        "created": s.created,
        "last": s.last,
        "fields": codec.encode_fields(s.fields),
        "category": s.category,
        "phase": s.phase,
        "pending": [s.fr_pending, s.nr_pending],
        "seq": s.seq,
        "counts": s.counts,
        "running": {m: list(r) for m, r in s.running.items()},
        "done": [list(d) for d in s.done_spans[-1:]],
        "runs": [[u, c, _hits_text(hits)] for u, c, hits in s.runs],
        "events": s.events,
        "seen": seen,
    }


# Folds of shared, read-only checkpoint states (`store.pages._state_of`: one per stored
# text), by ruleset version and the state's identity; each entry holds its state, so the
# identity is not reused while the entry lives, and the state's `cycles.Prepared` once
# asked for. A fold is mutable: `from_plain` hands out a copy.
_FOLDS: dict[tuple[str, int], _Folded] = {}
_FOLDS_KEPT = 2048


class _Folded:
    __slots__ = ("fold", "prepared", "seen", "state")

    def __init__(self, state: Mapping[str, Any], fold: Fold, seen: list[str]) -> None:
        self.state, self.fold, self.seen = state, fold, seen
        self.prepared: cycles.Prepared | None = None


def _folded(policy: Policy, d: Mapping[str, Any]) -> _Folded:
    key = (policy.version, id(d))
    got = _FOLDS.get(key)
    if got is None or got.state is not d:
        if len(_FOLDS) >= _FOLDS_KEPT:
            _FOLDS.clear()
        s, seen = _from_plain(policy, d)
        got = _FOLDS[key] = _Folded(d, s, seen)
    return got


def from_plain(policy: Policy, d: Mapping[str, Any]) -> tuple[Fold, list[str]]:
    """The fold a stored state holds (a fresh one: the caller may advance it)."""
    if type(d) is not MappingProxyType:
        return _from_plain(policy, d)
    got = _folded(policy, d)
    return got.fold.copy(), list(got.seen)


def prepared(policy: Policy, d: Mapping[str, Any]) -> tuple[Fold, cycles.Prepared]:
    """The fold a stored state holds, read-only (the caller must not advance it), and its
    cycles prepared for projecting to any `now` (`engine.cycles.Prepared`); both are
    kept for a shared state (`store.pages`), so a page shown again decodes and labels
    nothing."""
    if type(d) is not MappingProxyType:
        s, _ = _from_plain(policy, d)
        return s, cycles.Prepared(policy, s)
    got = _folded(policy, d)
    if got.prepared is None:
        got.prepared = cycles.Prepared(policy, got.fold)
    return got.fold, got.prepared


def _from_plain(policy: Policy, d: Mapping[str, Any]) -> tuple[Fold, list[str]]:
    fields = codec.decode_fields(d["fields"])
    s = Fold(
        d["created"],
        d["last"],
        fields,
        d["category"],
        policy.decide(fields),
        d["phase"],
        d["pending"][0],
        d["pending"][1],
        d["seq"],
        dict(d["counts"]),
        {m: (r[0], r[1], r[2]) for m, r in d["running"].items()},
        [],
        [(a, b) for a, b in d["done"]],
        [(u, c, _hits_of(hits)) for u, c, hits in d["runs"]],
        d["events"],
    )
    return s, list(d["seen"])


# A run's hits (per level, per pause condition) as text: "01|1" is two levels, the first
# with two pause conditions; "-" no level. A ticket's runs repeat a few patterns: each
# is converted once.
Hits = tuple[tuple[bool, ...], ...]
_TEXTS: dict[Hits, str] = {}
_HITS: dict[str, Hits] = {}


def _hits_text(hits: Hits) -> str:
    got = _TEXTS.get(hits)
    if got is None:
        got = "|".join("".join("1" if b else "0" for b in level) for level in hits)
        got = got if hits else "-"
        if len(_TEXTS) < 4096:
            _TEXTS[hits] = got
    return got


def _hits_of(stored: str | list[list[bool]]) -> Hits:
    """Hits from their text (or from the nested lists earlier checkpoints stored)."""
    if not isinstance(stored, str):
        return tuple(tuple(h) for h in stored)
    got = _HITS.get(stored)
    if got is None:
        levels = () if stored == "-" else stored.split("|")
        got = tuple(tuple(c == "1" for c in level) for level in levels)
        if len(_HITS) < 4096:
            _HITS[stored] = got
    return got


def usable(policy: Policy, row: CheckpointRow | None) -> bool:
    return (
        row is not None
        and row.ruleset_version == policy.version
        and row.engine_version == ENGINE_VERSION
    )


def resumable(policy: Policy, before: Fold, after: Fold) -> bool:
    """Do the cycles that stopped before the checkpoint stand unchanged after these events?
    (They do unless the final level or a target changed: both apply to every cycle.)"""
    return before.decision.level == after.decision.level and cycles.targets(
        policy, before
    ) == cycles.targets(policy, after)


def row_of(
    policy: Policy,
    ticket_id: str,
    s: Fold,
    seen: list[str],
    evaluations: int,
    at: datetime,
    run: int | None = None,
) -> CheckpointRow:
    """`run`: the `seq` from which the ticket's log holds exactly this fold's evaluations
    under `policy` (to the end), or None when it does not (see `run_of`)."""
    state = to_plain(s.trim(), seen)
    state["run"] = run
    return CheckpointRow(ticket_id, policy.version, ENGINE_VERSION, at, evaluations, state)


def run_of(row: CheckpointRow) -> int | None:
    """Where the checkpoint's own run starts in the log (rows `run` .. `evaluations - 1`
    are the evaluations of its fold, in order), or None: unknown (an earlier checkpoint,
    or a log holding stale runs of this version after an out-of-order event)."""
    run = row.state.get("run")
    return run if isinstance(run, int) and 0 <= run < row.evaluations else None


def run_start(
    logged: Sequence[tuple[int, Evaluation]],
    new: Sequence[Evaluation],
    measured: Sequence[Evaluation],
    length: int,
) -> int | None:
    """The `seq` from which the log holds the run `measured` in order, to its end, once
    `new` is appended to its `length` entries (`logged`: its entries of this version), or
    None when it does not (the checkpoint says so, and a reload measures the ticket from
    its events instead of copying its run)."""
    if not logged:
        return length  # the whole run is appended from here
    start = logged[0][0]
    if [s for s, _ in logged] != list(range(start, length)):
        return None
    return start if [*(e for _, e in logged), *new] == list(measured) else None
