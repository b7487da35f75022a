"""A small reduced ordered binary decision diagram (BDD) over integer variables.

Nodes are integers: 0 is false, 1 is true, others index `(var, low, high)`
triples kept unique, so two equal functions are the same integer and
"is this set empty / everything" is a comparison. Variables are tested in
increasing order along every path.
"""

from __future__ import annotations

from collections.abc import Iterator

FALSE = 0
TRUE = 1
_LEAF = 1 << 30  # the "variable" of the two terminals: after every real variable


class BDD:
    def __init__(self) -> None:
        self._nodes: list[tuple[int, int, int]] = [(_LEAF, 0, 0), (_LEAF, 1, 1)]
        self._unique: dict[tuple[int, int, int], int] = {}
        self._and: dict[tuple[int, int], int] = {}
        self._or: dict[tuple[int, int], int] = {}
        self._not: dict[int, int] = {}
        self._meets: dict[tuple[int, int], bool] = {}

    def node(self, var: int, low: int, high: int) -> int:
        if low == high:
            return low
        key = (var, low, high)
        found = self._unique.get(key)
        if found is None:
            found = len(self._nodes)
            self._nodes.append(key)
            self._unique[key] = found
        return found

    def var(self, v: int) -> int:
        return self.node(v, FALSE, TRUE)

    def top(self, u: int) -> tuple[int, int, int]:
        return self._nodes[u]

    def neg(self, u: int) -> int:
        if u <= TRUE:
            return 1 - u
        hit = self._not.get(u)
        if hit is None:
            v, lo, hi = self._nodes[u]
            hit = self.node(v, self.neg(lo), self.neg(hi))
            self._not[u] = hit
        return hit

    def and_(self, a: int, b: int) -> int:
        if a == FALSE or b == FALSE:
            return FALSE
        if a in (TRUE, b):
            return b
        if b == TRUE:
            return a
        if a > b:
            a, b = b, a
        hit = self._and.get((a, b))
        if hit is None:
            va, la, ha = self._nodes[a]
            vb, lb, hb = self._nodes[b]
            if va == vb:
                hit = self.node(va, self.and_(la, lb), self.and_(ha, hb))
            elif va < vb:
                hit = self.node(va, self.and_(la, b), self.and_(ha, b))
            else:
                hit = self.node(vb, self.and_(a, lb), self.and_(a, hb))
            self._and[(a, b)] = hit
        return hit

    def or_(self, a: int, b: int) -> int:
        if a == TRUE or b == TRUE:
            return TRUE
        if a in (FALSE, b):
            return b
        if b == FALSE:
            return a
        if a > b:
            a, b = b, a
        hit = self._or.get((a, b))
        if hit is None:
            va, la, ha = self._nodes[a]
            vb, lb, hb = self._nodes[b]
            if va == vb:
                hit = self.node(va, self.or_(la, lb), self.or_(ha, hb))
            elif va < vb:
                hit = self.node(va, self.or_(la, b), self.or_(ha, b))
            else:
                hit = self.node(vb, self.or_(a, lb), self.or_(a, hb))
            self._or[(a, b)] = hit
        return hit

    def meets(self, a: int, b: int) -> bool:
        """Whether a and b share a model (without building a and b)."""
        if a == FALSE or b == FALSE:
            return False
        if TRUE in (a, b) or a == b:
            return True
        if a > b:
            a, b = b, a
        hit = self._meets.get((a, b))
        if hit is None:
            va, la, ha = self._nodes[a]
            vb, lb, hb = self._nodes[b]
            if va == vb:
                hit = self.meets(la, lb) or self.meets(ha, hb)
            elif va < vb:
                hit = self.meets(la, b) or self.meets(ha, b)
            else:
                hit = self.meets(a, lb) or self.meets(a, hb)
            self._meets[(a, b)] = hit
        return hit

    def diff(self, a: int, b: int) -> int:
        """a and not b."""
        return self.and_(a, self.neg(b))

    def all_of(self, items: list[int]) -> int:
        out = TRUE
        for i in items:
            out = self.and_(out, i)
        return out

    def any_of(self, items: list[int]) -> int:
        out = FALSE
        for i in items:
            out = self.or_(out, i)
        return out

    def exists(self, u: int, names: frozenset[int]) -> int:
        """u with the variables `names` quantified away (some value of them satisfies u)."""
        memo: dict[int, int] = {}

        def go(n: int) -> int:
            if n <= TRUE:
                return n
            hit = memo.get(n)
            if hit is None:
                v, lo, hi = self._nodes[n]
                a, b = go(lo), go(hi)
                hit = self.or_(a, b) if v in names else self.node(v, a, b)
                memo[n] = hit
            return hit

        return go(u)

    def cube(self, assign: dict[int, bool]) -> int:
        """The conjunction of the literals of a (partial) assignment."""
        out = TRUE
        for v in sorted(assign, reverse=True):
            out = self.node(v, FALSE, out) if assign[v] else self.node(v, out, FALSE)
        return out

    def paths(self, u: int) -> Iterator[dict[int, bool]]:
        """The paths to TRUE: partial assignments, each of whose completions satisfies u."""
        stack: list[tuple[int, dict[int, bool]]] = [(u, {})]
        while stack:
            node, assign = stack.pop()
            if node == TRUE:
                yield assign
                continue
            if node == FALSE:
                continue
            v, lo, hi = self._nodes[node]
            stack.append((hi, {**assign, v: True}))
            stack.append((lo, {**assign, v: False}))

    def one(self, u: int) -> dict[int, bool] | None:
        """One path to TRUE (taking the low branch when both lead somewhere), or None."""
        return next(self.paths(u), None)
