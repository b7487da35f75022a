"""The AST's plain classes keep the frozen-dataclass behaviour the code relies on (issue 14)."""

from __future__ import annotations

import copy
import pickle
from dataclasses import FrozenInstanceError

import pytest

from slarules.dsl import ast, parse

SPAN = ast.Span(3, 5, 3, 9)


def test_equality_and_hash_ignore_spans() -> None:
    a = ast.Str("vip", '"vip"', SPAN)
    b = ast.Str("vip", '"vip"')
    assert a == b and hash(a) == hash(b)
    assert a != ast.Str("vip", "'vip'")
    assert a != ast.Key("vip", '"vip"')  # same fields, another class
    m1 = ast.Module((ast.DefaultDecl(ast.Name("a")),), (ast.Comment("# x", 1, 1),))
    m2 = ast.Module((ast.DefaultDecl(ast.Name("a", SPAN)),))
    assert m1 == m2  # comments are not compared either


def test_repr_leaves_out_spans() -> None:
    ref = ast.FieldRef("created_at", "hour", SPAN)
    assert repr(ref) == "FieldRef(name='created_at', part='hour')"
    assert repr(ast.Module(())) == "Module(decls=(), comments=())"


def test_keywords_defaults_and_match_args() -> None:
    rule = ast.RuleDecl(title=ast.Str("x", '"x"'), when=None, set_level=None, stop=True)
    assert rule.span is ast.NOSPAN and rule.when_span is ast.NOSPAN
    match ast.Compare(ast.FieldRef("source"), "==", ast.Str("chat", '"chat"')):
        case ast.Compare(ast.FieldRef(name), op, ast.Str(value)):
            assert (name, op, value) == ("source", "==", "chat")
        case _:
            pytest.fail("positional patterns must match")


def test_nodes_are_immutable() -> None:
    name = ast.Name("a")
    with pytest.raises(FrozenInstanceError):
        name.value = "b"
    with pytest.raises(FrozenInstanceError):
        del name.value
    with pytest.raises(AttributeError):
        name.extra = 1


def test_pickle_and_copy_keep_spans() -> None:
    m = parse('level a { first_response 1h }\nrule "x" { when source == "chat" stop }\n')
    for twin in (pickle.loads(pickle.dumps(m)), copy.deepcopy(m), copy.copy(m)):
        assert twin == m
        assert twin.decls[1].span == m.decls[1].span != ast.NOSPAN
