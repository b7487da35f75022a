"""Name hints for users' typos: one `did you mean` for the rules language and ticket input."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def did_you_mean(word: str, candidates: Iterable[str]) -> str | None:
    """`did you mean `x`?` for the closest candidates (case-insensitive), or None."""
    pool = list(dict.fromkeys(candidates))
    exact = [c for c in pool if c.casefold() == word.casefold() and c != word]
    close = exact or difflib.get_close_matches(word, pool, n=3, cutoff=0.6)
    if not close:
        lowered = {c.casefold(): c for c in pool}
        close = [
            lowered[c]
            for c in difflib.get_close_matches(word.casefold(), list(lowered), n=3, cutoff=0.6)
        ]
    if not close:
        return None
    quoted = [f"`{c}`" for c in close]
    if len(quoted) == 1:
        return f"did you mean {quoted[0]}?"
    return f"did you mean {', '.join(quoted[:-1])} or {quoted[-1]}?"
