"""`check --analyze`: what the ordered rules do to every ticket, decided over finite domains.

`analyze(model, policy)` returns findings (shadowed rules, dead or
always-true conditions, tickets that fall through to the default, levels
reached without a target, stops that cut nothing, levels always
overwritten), each with a witness ticket the compiled policy confirms.
Claims of the form "no ticket …" are decided on an over-approximation
(domain.py), so they are never false; claims "some ticket …" are reported
only with a confirmed witness, otherwise as `not-decided`.
"""

from __future__ import annotations

from slarules.dsl.analysis.findings import Finding, analyze

__all__ = ["Finding", "analyze"]
