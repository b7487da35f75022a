"""Explaining a past decision: a stored ticket as it was at `T`, under the version live then.

The store keeps every ruleset version's sources (`ruleset` table); the
version live at `T` is the last one loaded at or before `T`. Its sources are
built again (the DSL) into a policy, and the ticket's stored events up to
`T` are replayed under it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from slarules.engine.measurement import Measurement
from slarules.engine.policy import Policy, RuleTrace
from slarules.errors import NOT_FOUND, ServiceError
from slarules.service.preview import measure_at
from slarules.service.recording import history_of
from slarules.settings import DatabaseConfig
from slarules.store.histories import Histories, StoredRuleset

_built: dict[str, Policy] = {}  # version -> policy (sources of a version never change)


def policy_of(stored: StoredRuleset) -> Policy:
    """The policy of a stored version, built from its sources (cached by version)."""
    from slarules.dsl import build
    from slarules.dsl.source import SourceFile

    got = _built.get(stored.version)
    if got is not None:
        return got
    names = [f for f in stored.files if f in stored.sources] or sorted(stored.sources)
    names += [n for n in sorted(stored.sources) if n not in names]
    result = build([SourceFile(n, stored.sources[n].encode("utf-8")) for n in names])
    if result.policy is None:
        first = result.errors[0].render().splitlines()[0] if result.errors else "errors"
        raise ServiceError(
            NOT_FOUND,
            f"the stored sources of ruleset version `{stored.version}` do not build: {first}",
        )
    # the stored version names what was live (a rebuilt hash could differ if files moved)
    policy = replace(result.policy, version=stored.version)
    _built[stored.version] = policy
    return policy


@dataclass(frozen=True, slots=True)
class PastExplanation:
    version: str  # the version live at `at` (as stored)
    loaded_at: datetime
    policy: Policy
    measurement: Measurement
    trace: tuple[RuleTrace, ...]


def explain_at(reader: Histories, ticket_id: str, at: datetime) -> PastExplanation:
    """The ticket as it stood at `at` under the ruleset version live then."""
    stored = reader.ruleset_at(at)
    if stored is None:
        raise ServiceError(NOT_FOUND, "no ruleset version was live at that instant", key="at")
    got = reader.tickets([ticket_id])
    if not got:
        raise ServiceError(NOT_FOUND, f"unknown ticket `{ticket_id}`", ticketId=ticket_id)
    head, events = got[0]
    if at < head.created_at:
        raise ServiceError(
            NOT_FOUND, f"ticket `{ticket_id}` did not exist yet at that instant", key="at"
        )
    policy = policy_of(stored)
    m = measure_at(policy, history_of(head, events), at)
    return PastExplanation(
        stored.version, stored.loaded_at, policy, m, policy.explain(m.fields).trace
    )


def explain_stored(config: DatabaseConfig, ticket_id: str, at: datetime) -> PastExplanation:
    with Histories(config) as reader:
        return explain_at(reader, ticket_id, at)
