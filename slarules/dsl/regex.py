"""RE2 regexes for `matches`: linear time on hostile ticket text, validated at check time."""

from __future__ import annotations

from typing import Any

import re2


class RegexError(ValueError):
    """RE2 rejected the pattern; the message is RE2's own, one line."""


def compile_regex(pattern: str, ignore_case: bool) -> Any:
    """A compiled RE2 pattern (use `.search`); raises RegexError for a pattern RE2 rejects."""
    options = re2.Options()
    options.log_errors = False  # RE2 would otherwise print to stderr
    options.case_sensitive = not ignore_case
    try:
        return re2.compile(pattern, options)
    except re2.error as e:
        detail = e.args[0] if e.args else "invalid pattern"
        if isinstance(detail, bytes):
            detail = detail.decode("utf-8", "replace")
        raise RegexError(str(detail)) from None
