"""RE2 cost bounds: program size at check time, the text length `matches` reads at run time."""

from __future__ import annotations

from slarules.dsl import build_source
from slarules.dsl.regex import MAX_MATCH_CHARS

RULES = """
level a { first_response 1h }
level b { first_response 1h }
default level a
rule "x" { when subject matches /%s/ set level b }
"""


def test_a_huge_program_is_a_diagnostic() -> None:
    result = build_source(RULES % r"[\p{L}]{100}")
    assert [d.code for d in result.errors] == ["regex-too-complex"]
    assert result.errors[0].hint


def test_matches_reads_only_the_capped_prefix() -> None:
    policy = build_source(RULES % "x$").policy
    assert policy is not None
    inside = "b" * (MAX_MATCH_CHARS - 1) + "x"
    beyond = "b" * MAX_MATCH_CHARS + "x"
    assert policy.decide({"subject": inside}).level == "b"
    assert policy.decide({"subject": beyond}).level == "a"  # the `x` is past the cap


def test_hostile_pattern_on_a_megabyte_reads_the_cap_only() -> None:
    policy = build_source(RULES % "(.*a){20}").policy
    assert policy is not None
    text = "a" * 19 + "b" * (1 << 20) + "a"  # the 20th `a` is a megabyte away
    assert policy.decide({"subject": text}).level == "a"
    assert policy.decide({"subject": "a" * 20}).level == "b"
