"""Cooperative cancellation of long pure work (build, check, measure): the edge decides.

The core reads no clock, so it cannot know that a time budget ran out or that a client
went away. Long loops take a `Cancel` from the edge and call `check()` at coarse steps
(per file, per declaration, per N tokens, per event); the edge's `check()` raises
`Cancelled` when the work should stop (slarules/budget.py: a deadline and a disconnect
flag). `NEVER` is the default: it never stops, and costs one method call per step.
"""

from __future__ import annotations

from typing import Protocol


class Cancelled(Exception):
    """The edge asked the work to stop (its time budget ran out or its client left)."""


class Cancel(Protocol):
    def check(self) -> None:
        """Raise `Cancelled` when the work should stop; otherwise return at once."""


class _Never:
    __slots__ = ()

    def check(self) -> None:
        return None


NEVER: Cancel = _Never()
