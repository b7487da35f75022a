"""From a BDD path to a concrete ticket (a witness), and to words (`source = chat, …`).

A path fixes some bits of some dimensions; every completion satisfies the
set it came from. The witness takes the lowest allowed atom of every
dimension (so unset fields stay unset: the smallest ticket). A field with
only value atoms takes the atom's representative; a field with parts or
opaque tests is searched for (candidate values checked with the compiled
leaves); when none fits, there is no witness and the finding is "not
decided".
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

from slarules.dsl.analysis.domain import UNSET, Dim, Domain
from slarules.dsl.model import TypedLeaf
from slarules.engine.policy import Fields


def allowed(dim: Dim, path: dict[int, bool]) -> list[int]:
    """The atoms of `dim` consistent with the bits the path fixes."""
    out = []
    for code in range(dim.size):
        ok = True
        for i, v in enumerate(dim.vars):
            want = path.get(v)
            bit = (code >> (len(dim.vars) - 1 - i)) & 1
            if want is not None and bool(bit) != want:
                ok = False
                break
        if ok:
            out.append(code)
    return out


def lowest(dim: Dim, path: dict[int, bool]) -> int:
    """The lowest atom of `dim` consistent with the path (`allowed(dim, path)[0]`)."""
    code = 0
    for v in dim.vars:
        code = (code << 1) | (1 if path.get(v) else 0)
    return code if code < dim.size else allowed(dim, path)[0]


def describe(dom: Domain, path: dict[int, bool], only: set[str] | None = None) -> str:
    """The class of tickets a path stands for, in words (constrained dimensions only)."""
    parts = []
    for d in dom.dims:
        if only is not None and d.field not in only:
            continue
        atoms = allowed(d, path)
        if len(atoms) == d.size or not atoms:
            continue
        whole = dom.by_key.get(d.field)
        if d.kind == "element" and whole is not None and allowed(whole, path) == [0]:
            continue  # "tags = empty" already says it
        parts.append(_words(d, atoms))
    return ", ".join(parts) or "any field values"


def _words(d: Dim, atoms: list[int]) -> str:
    if d.kind == "opaque":
        assert d.leaf is not None
        from slarules.dsl.unparse import leaf_text

        text = leaf_text(d.leaf.node)
        return f"`{text}`" if atoms == [1] else f"not `{text}`"
    if d.kind == "element":
        el = d.key[len(d.field) + 1 : -1]
        what = "some other element" if el == "*" else f'"{el}"'
        return f"{d.field} {'contains' if atoms == [1] else 'does not contain'} {what}"
    labels = [d.labels[a] for a in atoms]
    rest = [d.labels[a] for a in range(d.size) if a not in atoms]
    name = d.key
    if len(labels) == 1:
        return f"{name} {labels[0]}" if labels[0][:1] in "<>=b" else f"{name} = {labels[0]}"
    if len(rest) < len(labels):
        return f"{name} not in [{', '.join(rest)}]"
    return f"{name} in [{', '.join(labels)}]"


def concretize(dom: Domain, path: dict[int, bool]) -> dict[str, Any] | None:
    """A ticket's fields in the class of `path`, or None when none could be built."""
    choice = {d.key: lowest(d, path) for d in dom.dims}
    fields: dict[str, Any] = {}
    for name, dims in dom.dims_by_field.items():
        key = (name, *(choice[d.key] for d in dims))
        value = dom.value_memo.get(key, _MISSING)
        if value is _MISSING:  # a field's value depends on its own dimensions only
            value = dom.value_memo[key] = _field_value(dom, name, dims, choice)
        if value is _FAILED:
            return None
        if value is not UNSET:
            fields[name] = value
    for leaf, fn, d in dom.pair_checks:  # field-to-field tests: check them on the whole ticket
        if bool(fn(fields)) != _want(leaf, choice[d.key]):
            return None
    return fields


_FAILED = object()
_MISSING = object()


def _want(leaf: TypedLeaf, atom: int) -> bool:
    return (atom == 1) != leaf.negated


def _field_value(dom: Domain, name: str, dims: list[Dim], choice: dict[str, int]) -> Any:
    whole = dom.by_key.get(name)
    ftype = dom.model.fields[name]
    if ftype == "list":
        assert whole is not None
        if choice[whole.key] == 0:
            return UNSET
        items = [d.key[len(name) + 1 : -1] for d in dims if d.kind == "element" and choice[d.key]]
        return tuple("other-element" if i == "*" else i for i in items)
    base = whole.reps[choice[whole.key]] if whole is not None else UNSET
    if not any(d.kind in ("part", "opaque") for d in dims):
        return base
    checks: list[tuple[TypedLeaf, bool]] = []
    tests: dict[Callable[[Fields], bool], bool] = {}  # a leaf written twice is tested once
    for leaf, fn, od, pd in dom.checks_of.get(name, ()):
        if od is not None:
            want = _want(leaf, choice[od.key])
        elif pd is not None:
            want = bool(fn(dom.fields_of(name, pd.reps[choice[pd.key]])))
        elif whole is not None:
            want = bool(fn(dom.fields_of(name, base)))
        else:
            continue
        checks.append((leaf, want))
        tests[fn] = want
    if base is UNSET:
        return UNSET if all(not want or leaf.negated for leaf, want in checks) else _FAILED
    pairs = list(tests.items())
    for cand in _candidates(base, checks):
        f = {name: cand}
        for fn, want in pairs:
            if bool(fn(f)) != want:
                break
        else:
            return cand
    return _FAILED


def _candidates(base: Any, checks: list[tuple[TypedLeaf, bool]]) -> list[Any]:
    if isinstance(base, datetime):
        hours = [base + timedelta(hours=h) for h in range(0, 24 * 8)]
        back = [base - timedelta(hours=h) for h in range(1, 24 * 8)]
        halves = [t + timedelta(minutes=30) for t in hours]
        return [base, *hours, *back, *halves]
    if isinstance(base, date):
        return [base + timedelta(days=d) for d in range(-7, 8)]
    if not isinstance(base, str):
        return [base]
    pre = [str(leaf.value) for leaf, w in checks if w and leaf.op == "starts with"]
    mid = [str(leaf.value) for leaf, w in checks if w and leaf.op == "contains"]
    suf = [str(leaf.value) for leaf, w in checks if w and leaf.op == "ends with"]
    mid += [_sample(leaf) for leaf, w in checks if w and leaf.op == "matches"]
    built = "".join(pre[:1]) + " ".join(mid) + "".join(suf[:1])
    out = [base, built, f"{base} {built}", f"{built} {base}", base.upper(), base.title()]
    return [c for c in out if c]


def _sample(leaf: TypedLeaf) -> str:
    """A string the pattern probably matches: its first alternative, syntax stripped."""
    assert leaf.pattern is not None
    pattern = re.sub(r"\(\?[a-z]+\)", "", leaf.pattern[0])
    first = pattern.split("|")[0]
    return re.sub(r"\\[bBAzZ]|[\^$()\[\]{}*+?.]|\\", "", first)
