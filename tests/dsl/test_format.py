"""The formatter: canonical layout, idempotent, comments kept, meaning unchanged."""

from __future__ import annotations

from pathlib import Path

import pytest

from slarules.dsl import format_source, parse
from slarules.dsl.parser import RulesSyntaxError

ROOT = Path(__file__).resolve().parents[2]

MESSY = """# header

timezone   "UTC"   # tz
# about levels
level x {   # open
  # inside
  first_response    by priority {urgent 1h,   # a
     high 2h,
     else 3h}


  resolution 8h
  # before close
}
rule "r" { when a == 1 and
   (b == 2 or   # c1
    c == 3)
  or d is set   # c2
 set level x stop }
rule "s" { when   a==1   and b  !=2 stop }
# trailing end
"""

CANONICAL = """# header

timezone "UTC"  # tz

# about levels
level x {  # open
  # inside
  first_response by priority { urgent 1h, high 2h, else 3h }  # a

  resolution 8h
  # before close
}

rule "r" {
  when a == 1
    and (b == 2 or c == 3)  # c1
    or d is set  # c2
  set level x
  stop
}

rule "s" {
  when a == 1 and b != 2
  stop
}

# trailing end
"""


def test_canonical_layout() -> None:
    assert format_source(MESSY) == CANONICAL
    assert format_source(CANONICAL) == CANONICAL


def test_meaning_and_comments_kept() -> None:
    assert parse(format_source(MESSY)) == parse(MESSY)
    before = [c.text for c in parse(MESSY).comments]
    after = [c.text for c in parse(format_source(MESSY)).comments]
    assert before == after


@pytest.mark.parametrize("path", sorted((ROOT / "examples").glob("**/*.sla")), ids=str)
def test_examples_are_canonical(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert format_source(text) == text


def test_syntax_error_raises_own_type() -> None:
    with pytest.raises(RulesSyntaxError) as info:
        format_source("level {")
    assert info.value.diagnostic.code == "syntax-error"


def test_empty_and_comment_only() -> None:
    assert format_source("") == ""
    assert format_source("  # hi  \n\n\n# there\n") == "# hi\n\n# there\n"
