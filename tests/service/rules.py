"""The small real ruleset the service tests run on (24×7, one resolution target per level)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from slarules.dsl import build_source
from slarules.engine.policy import Policy

RULES = """\
timezone "America/Sao_Paulo"

schema {
  priorities low < medium < high < critical
  field renewal_date: date
}

level standard {
  title "Standard"
  resolution 8h
  warn at 50%
}

level urgent {
  title "Urgent"
  resolution 1h
  warn at 50%
}

default level standard

rule "Tagged URGENT" {
  when tags contains "urgent"
  set level urgent
  stop
}

rule "Spam has no SLA" {
  when tags contains "spam"
  set level none
  stop
}
"""

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def make_policy(version: str = "rulesv1") -> Policy:
    """The ruleset compiled by the real compiler, under a version name tests can read."""
    result = build_source(RULES, "rules.sla")
    assert result.policy is not None, [d.render() for d in result.diagnostics]
    return replace(result.policy, version=version)
