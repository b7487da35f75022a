"""The finite abstraction of tickets the analysis decides over (language.md §Checking).

Each field a condition or a `by` table reads becomes one or more
*dimensions*, each a short list of *atoms* on which every leaf reading it
has one truth value: text → unset, each literal written, any other text
(`source` with a schema: unset and the schema's sources); priority → unset
and each priority; bool → unset, true, false; numbers, dates, date-times →
unset, each literal value, and the open intervals between them; `.weekday`
→ the seven days, `.hour` → 0–23; a list → one yes/no per element written
plus "some other element". Leaves the atoms cannot decide (`contains` and
`starts with` / `ends with` on text, `matches`, `during`, field-to-field
comparisons) each get a yes/no dimension of their own, which is an
over-approximation: "no ticket does X" stays true, while "a ticket does
X" needs a concrete witness (witness.py). Atoms are encoded in binary as
BDD variables; `universe` excludes codes past the last atom and ties
"unset" across a field's dimensions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from dataclasses import field as dc_field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from slarules.dsl.analysis.bdd import BDD, FALSE, TRUE
from slarules.dsl.compiler import compile_conditions
from slarules.dsl.model import CAnd, CNot, Cond, COr, Model, TypedLeaf, leaves
from slarules.engine.calendar import Calendar
from slarules.engine.policy import Fields, fold

UNSET: Any = None  # an atom whose representative is "field absent"
ALWAYS_SET = frozenset({"created_at", "updated_at"})
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_OPAQUE_OPS = frozenset({"starts with", "ends with", "matches", "during"})


@dataclass
class Dim:
    key: str
    field: str
    kind: str  # value | part | element | opaque
    labels: list[str]  # one per atom, for descriptions
    reps: list[Any]  # one per atom: the representative value of the field
    vars: list[int] = dc_field(default_factory=list)
    leaf: TypedLeaf | None = None  # opaque dimensions: the leaf they stand for

    @property
    def size(self) -> int:
        return len(self.labels)


def _base(tz: ZoneInfo) -> datetime:
    return datetime(2026, 3, 2, 10, 0, tzinfo=tz)  # a Monday, 10:00 in the ruleset's zone


def _intervals(
    points: list[Any], step: Any, base: Any, label: Callable[[Any], str]
) -> tuple[list[str], list[Any]]:
    """Atoms for an ordered type: below, each point, between, above (empty gaps skipped)."""
    if not points:
        return ["any value"], [base]
    labels, reps = [f"< {label(points[0])}"], [points[0] - step]
    for i, p in enumerate(points):
        labels.append(f"= {label(p)}")
        reps.append(p)
        if i + 1 == len(points):
            labels.append(f"> {label(p)}")
            reps.append(p + step)
            continue
        nxt = points[i + 1]
        if isinstance(p, int | float):
            mid = p + 1 if p + 1 < nxt else (p + nxt) / 2
        elif nxt - p > step:
            mid = (
                p + step
                if isinstance(p, date) and not isinstance(p, datetime)
                else p + (nxt - p) / 2
            )
        else:
            continue  # no date or whole second lies strictly between
        labels.append(f"between {label(p)} and {label(nxt)}")
        reps.append(mid)
    return labels, reps


class Domain:
    """The dimensions, the BDD of every leaf, and the universe of valid codes."""

    def __init__(self, model: Model, calendars: Mapping[str, Calendar]) -> None:
        self.model = model
        self.tz = ZoneInfo(model.timezone)
        self.bdd = BDD()
        self.dims: list[Dim] = []
        self.by_key: dict[str, Dim] = {}
        self._leaf_bdd: dict[Any, int] = {}
        self.opaque: dict[Any, Dim] = {}  # leaf node -> the yes/no dimension standing for it
        conds: list[Cond] = [r.when for r in model.rules if r.when is not None]
        conds += [p.condition for lm in model.levels.values() for p in lm.pauses]
        self.all_leaves = [leaf for c in conds for leaf in leaves(c)]
        self.leaves_of: dict[str, list[TypedLeaf]] = {}  # by left field, field-to-field apart
        for leaf in self.all_leaves:
            if leaf.right is None:
                self.leaves_of.setdefault(leaf.left.name, []).append(leaf)
        self.pair_leaves = [leaf for leaf in self.all_leaves if leaf.right is not None]
        tables = [
            t.by
            for lm in model.levels.values()
            for tg in lm.targets.values()
            for t in (tg.table, tg.source_override)
            if t is not None
        ]
        self._make_dims(self.all_leaves, tables, model)
        self._assign_vars()
        # one compiled test per distinct leaf (a leaf written in many rules is compiled once)
        distinct = list({leaf.node: leaf for leaf in self.all_leaves}.values())
        fns = compile_conditions(distinct, model.fields, model.priorities, self.tz, calendars)
        self.leaf_fn: dict[Any, Callable[[Fields], bool]] = {
            leaf.node: fn for leaf, fn in zip(distinct, fns, strict=True)
        }
        # per field, its leaves with their compiled test and the dimension deciding them
        self.checks_of: dict[
            str, list[tuple[TypedLeaf, Callable[[Fields], bool], Dim | None, Dim | None]]
        ] = {}
        for name, fleaves in self.leaves_of.items():
            self.checks_of[name] = [
                (
                    leaf,
                    self.leaf_fn[leaf.node],
                    self.opaque.get(leaf.node) if self._is_opaque(leaf) else None,
                    self.by_key[f"{name}.{leaf.left.part}"]
                    if leaf.left.part is not None and not self._is_opaque(leaf)
                    else None,
                )
                for leaf in fleaves
            ]
        self.pair_checks = [
            (leaf, self.leaf_fn[leaf.node], self.opaque[leaf.node]) for leaf in self.pair_leaves
        ]
        self.dims_by_field: dict[str, list[Dim]] = {}
        for d in self.dims:
            self.dims_by_field.setdefault(d.field, []).append(d)
        self.value_memo: dict[tuple[Any, ...], Any] = {}  # witness.py: a field's value per atoms
        self.universe = self._universe()

    # ---- dimensions -------------------------------------------------------------

    def _add(self, dim: Dim) -> Dim:
        if dim.key not in self.by_key:
            self.by_key[dim.key] = dim
            self.dims.append(dim)
        return self.by_key[dim.key]

    def value_dim(self, name: str) -> Dim:
        return self.by_key[name]

    def _make_dims(self, all_leaves: list[TypedLeaf], tables: list[str], model: Model) -> None:
        lits: dict[str, list[Any]] = {}
        elements: dict[str, list[str]] = {}
        order: list[str] = []
        for leaf in all_leaves:
            for ref in (leaf.left, leaf.right):
                if ref is not None and ref.name not in order:
                    order.append(ref.name)
            f, t = leaf.left.name, model.fields[leaf.left.name]
            if leaf.right is not None or leaf.left.part is not None:
                continue
            if t == "list" and leaf.op in ("contains", "contains any", "contains all"):
                vals = [leaf.value] if leaf.op == "contains" else sorted(leaf.value)
                elements.setdefault(f, []).extend(v for v in vals if isinstance(v, str))
            elif leaf.op in ("==", "<", "<=", ">", ">="):
                if leaf.value is not None and leaf.value != "":
                    lits.setdefault(f, []).append(leaf.value)
            elif leaf.op == "in":
                lits.setdefault(f, []).extend(sorted(leaf.value, key=repr))
        for by in tables:
            if by not in order:
                order.append(by)
            for lm in model.levels.values():
                for tg in lm.targets.values():
                    for tb in (tg.table, tg.source_override):
                        if tb is not None and tb.by == by:
                            lits.setdefault(by, []).extend(tb.rows)
        for name in order:
            self._field_dims(name, model.fields[name], lits.get(name, []), elements.get(name, []))
        for leaf in all_leaves:
            if self._is_opaque(leaf):
                if leaf.node not in self.opaque:
                    key = f"?{len(self.dims)}"
                    self.opaque[leaf.node] = self._add(
                        Dim(key, leaf.left.name, "opaque", ["no", "yes"], [False, True], leaf=leaf)
                    )
            elif leaf.left.part is not None:
                self._part_dim(leaf.left.name, leaf.left.part, model.fields[leaf.left.name])

    def _is_opaque(self, leaf: TypedLeaf) -> bool:
        if leaf.right is not None or leaf.op in _OPAQUE_OPS:
            return True
        return leaf.op == "contains" and leaf.left.type == "text"

    def _field_dims(self, name: str, ftype: str, lits: list[Any], elements: list[str]) -> None:
        head_l: list[str] = [] if name in ALWAYS_SET else ["unset"]
        head_r: list[Any] = [] if name in ALWAYS_SET else [UNSET]
        if ftype == "list":
            self._add(Dim(name, name, "value", ["empty", "set"], [UNSET, ("other-element",)]))
            for el in dict.fromkeys(elements):
                self._add(Dim(f"{name}[{el}]", name, "element", ["no", "yes"], [False, True]))
            self._add(Dim(f"{name}[*]", name, "element", ["no", "yes"], [False, True]))
            return
        if ftype == "text":
            if name == "source" and self.model.sources is not None:
                values = list(self.model.sources)
                labels, reps = [*head_l, *values], [*head_r, *values]
            else:
                values = list(dict.fromkeys(fold(v) for v in lits if isinstance(v, str) and v))
                other = "other"
                while other in values:
                    other += "-x"
                labels = [*head_l, *values, "other"]
                reps = [*head_r, *values, other]
        elif ftype == "priority":
            labels, reps = [*head_l, *self.model.priorities], [*head_r, *self.model.priorities]
        elif ftype == "bool":
            labels, reps = [*head_l, "true", "false"], [*head_r, True, False]
        else:
            points = sorted(set(v for v in lits if not isinstance(v, str | bool)))
            if ftype == "number":
                ls, rs = _intervals(points, 1, 1, repr)
            elif ftype == "date":
                ls, rs = _intervals(points, timedelta(days=1), _base(self.tz).date(), str)
            else:
                ls, rs = _intervals(points, timedelta(seconds=1), _base(self.tz), _instant)
                rs = [r.replace(microsecond=0) for r in rs]
            labels, reps = [*head_l, *ls], [*head_r, *rs]
        self._add(Dim(name, name, "value", labels, reps))

    def _part_dim(self, name: str, part: str, ftype: str) -> None:
        head_l: list[str] = [] if name in ALWAYS_SET else ["unset"]
        head_r: list[Any] = [] if name in ALWAYS_SET else [UNSET]
        base = _base(self.tz)
        if part == "weekday":
            reps: list[Any] = [base + timedelta(days=i) for i in range(7)]
            if ftype == "date":
                reps = [r.date() for r in reps]
            self._add(Dim(f"{name}.weekday", name, "part", [*head_l, *WEEKDAYS], [*head_r, *reps]))
        else:
            reps = [datetime.combine(base.date(), time(h), self.tz) for h in range(24)]
            labels = [str(h) for h in range(24)]
            self._add(Dim(f"{name}.hour", name, "part", [*head_l, *labels], [*head_r, *reps]))

    def _assign_vars(self) -> None:
        n = 0
        for d in self.dims:
            bits = max(1, (d.size - 1).bit_length())
            d.vars = list(range(n, n + bits))
            n += bits

    # ---- BDDs -------------------------------------------------------------------

    def atoms_bdd(self, dim: Dim, atoms: Iterable[int]) -> int:
        """`dim` takes one of `atoms`."""
        wanted = set(atoms)
        bdd, bits = self.bdd, dim.vars

        def build(i: int, prefix: int) -> int:
            if i == len(bits):
                return TRUE if prefix in wanted else FALSE
            lo = build(i + 1, prefix << 1)
            hi = build(i + 1, (prefix << 1) | 1)
            return bdd.node(bits[i], lo, hi)

        return build(0, 0)

    def _universe(self) -> int:
        b = self.bdd
        parts = [self.atoms_bdd(d, range(d.size)) for d in self.dims]
        for d in self.dims:
            whole = self.by_key.get(d.field)
            if whole is None or d is whole or d.kind == "element" or d.field in ALWAYS_SET:
                continue
            unset_whole = self.atoms_bdd(whole, [0])
            if d.kind == "part":  # a part is unset exactly when the field is
                parts.append(b.neg(b.and_(b.neg(unset_whole), self.atoms_bdd(d, [0]))))
                parts.append(b.neg(b.and_(unset_whole, b.neg(self.atoms_bdd(d, [0])))))
            elif d.kind == "opaque":  # an opaque test is false on an unset field
                parts.append(b.neg(b.and_(unset_whole, self.atoms_bdd(d, [1]))))
        for name in {d.field for d in self.dims if d.kind == "element"}:
            anything = b.any_of(
                [
                    self.atoms_bdd(d, [1])
                    for d in self.dims
                    if d.kind == "element" and d.field == name
                ]
            )
            empty = self.atoms_bdd(self.by_key[name], [0])
            parts.append(b.or_(b.and_(empty, b.neg(anything)), b.and_(b.neg(empty), anything)))
        return b.all_of(parts)

    def cond(self, c: Cond) -> int:
        b = self.bdd
        if isinstance(c, CNot):
            return b.neg(self.cond(c.operand))
        if isinstance(c, CAnd):
            return b.all_of([self.cond(i) for i in c.items])
        if isinstance(c, COr):
            return b.any_of([self.cond(i) for i in c.items])
        return self.leaf(c)

    def holds(self, c: Cond, fields: Fields) -> bool:
        """Whether `c` is true of `fields`, by the compiled tests of its leaves."""
        if isinstance(c, CNot):
            return not self.holds(c.operand, fields)
        if isinstance(c, CAnd):
            return all(self.holds(i, fields) for i in c.items)
        if isinstance(c, COr):
            return any(self.holds(i, fields) for i in c.items)
        return bool(self.leaf_fn[c.node](fields))

    def leaf(self, leaf: TypedLeaf) -> int:
        hit = self._leaf_bdd.get(leaf.node)
        if hit is None:
            hit = self._leaf(leaf)
            self._leaf_bdd[leaf.node] = hit
        return hit

    def _leaf(self, leaf: TypedLeaf) -> int:
        b = self.bdd
        if self._is_opaque(leaf):
            pos = self.atoms_bdd(self.opaque[leaf.node], [1])
            return b.neg(pos) if leaf.negated else pos
        name = leaf.left.name
        if self.model.fields[name] == "list" and leaf.op != "is set":

            def has(v: str) -> int:
                return self.atoms_bdd(self.by_key[f"{name}[{v}]"], [1])

            if leaf.op == "contains":
                pos = has(leaf.value)
            elif leaf.op == "contains any":
                pos = b.any_of([has(v) for v in leaf.value])
            else:
                pos = b.all_of([has(v) for v in leaf.value])
            return b.neg(pos) if leaf.negated else pos
        dim = self.by_key[f"{name}.{leaf.left.part}" if leaf.left.part else name]
        fn = self.leaf_fn[leaf.node]
        true_atoms = [i for i, rep in enumerate(dim.reps) if fn(self.fields_of(name, rep))]
        return self.atoms_bdd(dim, true_atoms)

    def dims_of(self, leaf: TypedLeaf) -> list[Dim]:
        """The dimensions whose atoms decide `leaf`."""
        if self._is_opaque(leaf):
            return [self.opaque[leaf.node]]
        name = leaf.left.name
        if self.model.fields[name] == "list":
            if leaf.op == "is set":
                return [d for d in self.dims if d.field == name and d.kind == "element"]
            vals = [leaf.value] if leaf.op == "contains" else list(leaf.value)
            return [self.by_key[f"{name}[{v}]"] for v in vals]
        return [self.by_key[f"{name}.{leaf.left.part}" if leaf.left.part else name]]

    def fields_of(self, name: str, rep: Any) -> dict[str, Any]:
        return {} if rep is UNSET else {name: rep}

    def row_hit(self, by: str, rows: Iterable[str]) -> int:
        """The ticket's `by` value has a row among `rows` (folded keys)."""
        dim = self.by_key[by]
        keys = set(rows)
        atoms = [
            i
            for i, rep in enumerate(dim.reps)
            if isinstance(rep, str) and rep and fold(rep) in keys
        ]
        return self.atoms_bdd(dim, atoms)


def _instant(t: datetime) -> str:
    return t.isoformat()
