"""The analysis's BDD: each operation agrees with truth tables; equal functions are one node."""

from __future__ import annotations

import itertools
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from slarules.dsl.analysis.bdd import BDD, FALSE, TRUE
from slarules.dsl.analysis.domain import Dim
from slarules.dsl.analysis.witness import allowed, lowest

NVARS = 4
ASSIGNMENTS = list(itertools.product([False, True], repeat=NVARS))

# a formula: a variable number, or (op, formula, formula), or ("not", formula)
formula = st.recursive(
    st.integers(0, NVARS - 1),
    lambda inner: st.one_of(
        st.tuples(st.sampled_from(["and", "or", "diff"]), inner, inner),
        st.tuples(st.just("not"), inner),
    ),
    max_leaves=8,
)


def truth(f: Any, env: tuple[bool, ...]) -> bool:
    if isinstance(f, int):
        return env[f]
    if f[0] == "not":
        return not truth(f[1], env)
    a, b = truth(f[1], env), truth(f[2], env)
    return {"and": a and b, "or": a or b, "diff": a and not b}[f[0]]


def build(b: BDD, f: Any) -> int:
    if isinstance(f, int):
        return b.var(f)
    if f[0] == "not":
        return b.neg(build(b, f[1]))
    x, y = build(b, f[1]), build(b, f[2])
    return {"and": b.and_, "or": b.or_, "diff": b.diff}[f[0]](x, y)


def models(b: BDD, u: int, env: tuple[bool, ...]) -> bool:
    while u > TRUE:
        v, lo, hi = b.top(u)
        u = hi if env[v] else lo
    return u == TRUE


def by_table(b: BDD, f: Any) -> int:
    """The same function built from its truth table only (a disjunction of full cubes)."""
    return b.any_of([b.cube(dict(enumerate(env))) for env in ASSIGNMENTS if truth(f, env)])


@settings(max_examples=200, deadline=None)
@given(formula, formula)
def test_operations_agree_with_truth_tables(f: Any, g: Any) -> None:
    b = BDD()
    u, w = build(b, f), build(b, g)
    for env in ASSIGNMENTS:
        assert models(b, u, env) == truth(f, env)
    assert u == by_table(b, f)  # canonical: one node per function, however it was built
    assert b.diff(u, w) == b.and_(u, b.neg(w))
    assert b.meets(u, w) == (b.and_(u, w) != FALSE)
    assert b.any_of([u, w, u]) == b.or_(b.or_(u, w), u)
    assert b.all_of([u, w, u]) == b.and_(u, w)
    assert b.neg(b.neg(u)) == u
    for path in b.paths(u):  # every completion of a path satisfies u
        free = [v for v in range(NVARS) if v not in path]
        for bits in itertools.product([False, True], repeat=len(free)):
            rest = dict(zip(free, bits, strict=True))
            assert truth(f, tuple(path[v] if v in path else rest[v] for v in range(NVARS)))
    gone = b.exists(u, frozenset({0}))
    for env in ASSIGNMENTS:
        assert models(b, gone, env) == any(truth(f, (x, *env[1:])) for x in (False, True))


@given(st.lists(formula, min_size=0, max_size=9))
def test_balanced_folds_equal_running_folds(fs: list[Any]) -> None:
    b = BDD()
    nodes = [build(b, f) for f in fs]
    running_or, running_and = FALSE, TRUE
    for n in nodes:
        running_or, running_and = b.or_(running_or, n), b.and_(running_and, n)
    assert b.any_of(nodes) == running_or
    assert b.all_of(nodes) == running_and


@given(st.integers(1, 9), st.data())
def test_lowest_atom_is_the_first_allowed(size: int, data: st.DataObject) -> None:
    bits = max(1, (size - 1).bit_length())
    dim = Dim("d", "d", "value", [str(i) for i in range(size)], list(range(size)))
    dim.vars = list(range(bits))
    code = data.draw(st.integers(0, size - 1))
    fixed = data.draw(st.sets(st.integers(0, bits - 1)))
    # a path that fixes some bits of a valid code (as the paths of a set within the universe do)
    path = {v: bool((code >> (bits - 1 - i)) & 1) for i, v in enumerate(dim.vars) if v in fixed}
    assert lowest(dim, path) == allowed(dim, path)[0]
