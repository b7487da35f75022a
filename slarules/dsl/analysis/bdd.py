"""A small reduced ordered binary decision diagram (BDD) over integer variables.

Nodes are integers: 0 is false, 1 is true, others index `(var, low, high)`
triples kept unique, so two equal functions are the same integer and
"is this set empty / everything" is a comparison. Variables are tested in
increasing order along every path.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

FALSE = 0
TRUE = 1
_LEAF = 1 << 30  # the "variable" of the two terminals: after every real variable


_SHIFT = 32  # cache keys pack two node numbers into one int: (a << _SHIFT) | b


class BDD:
    def __init__(self) -> None:
        # node u is (self._var[u], self._lo[u], self._hi[u]); the two terminals come first
        self._var: list[int] = [_LEAF, _LEAF]
        self._lo: list[int] = [0, 1]
        self._hi: list[int] = [0, 1]
        self._unique: dict[tuple[int, int, int], int] = {}
        self._and: dict[int, int] = {}
        self._or: dict[int, int] = {}
        self._diff: dict[int, int] = {}
        self._not: dict[int, int] = {}
        self._meets: dict[int, bool] = {}
        self._make_ops()

    def __len__(self) -> int:
        """The number of nodes made so far (terminals included)."""
        return len(self._var)

    def node(self, var: int, low: int, high: int) -> int:
        if low == high:
            return low
        key = (var, low, high)
        found = self._unique.get(key)
        if found is None:
            found = len(self._var)
            self._var.append(var)
            self._lo.append(low)
            self._hi.append(high)
            self._unique[key] = found
        return found

    def var(self, v: int) -> int:
        return self.node(v, FALSE, TRUE)

    def top(self, u: int) -> tuple[int, int, int]:
        return self._var[u], self._lo[u], self._hi[u]

    def neg(self, u: int) -> int:
        if u <= TRUE:
            return 1 - u
        hit = self._not.get(u)
        if hit is None:
            hit = self.node(self._var[u], self.neg(self._lo[u]), self.neg(self._hi[u]))
            self._not[u] = hit
            self._not[hit] = u
        return hit

    def and_(self, a: int, b: int) -> int:
        return self._apply_and(a, b)

    def or_(self, a: int, b: int) -> int:
        return self._apply_or(a, b)

    def diff(self, a: int, b: int) -> int:
        """a and not b (without building not b)."""
        return self._apply_diff(a, b)

    def _make_ops(self) -> None:
        """The three binary operations as closures over the node lists and their caches.

        The hot path of the analysis: local names instead of attribute look-ups, and the
        unique-table look-up of `node` inlined."""
        var, lo, hi, unique = self._var, self._lo, self._hi, self._unique
        cache_and, cache_or, cache_diff = self._and, self._or, self._diff
        neg = self.neg

        def mk(v: int, low: int, high: int) -> int:
            if low == high:
                return low
            key = (v, low, high)
            found = unique.get(key)
            if found is None:
                found = len(var)
                var.append(v)
                lo.append(low)
                hi.append(high)
                unique[key] = found
            return found

        def and_(a: int, b: int) -> int:
            if a == FALSE or b == FALSE:
                return FALSE
            if a in (TRUE, b):
                return b
            if b == TRUE:
                return a
            if a > b:
                a, b = b, a
            key = (a << _SHIFT) | b
            hit = cache_and.get(key)
            if hit is None:
                va, vb = var[a], var[b]
                if va == vb:
                    hit = mk(va, and_(lo[a], lo[b]), and_(hi[a], hi[b]))
                elif va < vb:
                    hit = mk(va, and_(lo[a], b), and_(hi[a], b))
                else:
                    hit = mk(vb, and_(a, lo[b]), and_(a, hi[b]))
                cache_and[key] = hit
            return hit

        def or_(a: int, b: int) -> int:
            if a == TRUE or b == TRUE:
                return TRUE
            if a in (FALSE, b):
                return b
            if b == FALSE:
                return a
            if a > b:
                a, b = b, a
            key = (a << _SHIFT) | b
            hit = cache_or.get(key)
            if hit is None:
                va, vb = var[a], var[b]
                if va == vb:
                    hit = mk(va, or_(lo[a], lo[b]), or_(hi[a], hi[b]))
                elif va < vb:
                    hit = mk(va, or_(lo[a], b), or_(hi[a], b))
                else:
                    hit = mk(vb, or_(a, lo[b]), or_(a, hi[b]))
                cache_or[key] = hit
            return hit

        def diff(a: int, b: int) -> int:
            if a in (FALSE, b) or b == TRUE:
                return FALSE
            if b == FALSE:
                return a
            if a == TRUE:
                return neg(b)
            key = (a << _SHIFT) | b
            hit = cache_diff.get(key)
            if hit is None:
                va, vb = var[a], var[b]
                if va == vb:
                    hit = mk(va, diff(lo[a], lo[b]), diff(hi[a], hi[b]))
                elif va < vb:
                    hit = mk(va, diff(lo[a], b), diff(hi[a], b))
                else:
                    hit = mk(vb, diff(a, lo[b]), diff(a, hi[b]))
                cache_diff[key] = hit
            return hit

        self._apply_and, self._apply_or, self._apply_diff = and_, or_, diff

    def meets(self, a: int, b: int) -> bool:
        """Whether a and b share a model (without building a and b)."""
        if a == FALSE or b == FALSE:
            return False
        if a in (TRUE, b) or b == TRUE:
            return True
        if a > b:
            a, b = b, a
        key = (a << _SHIFT) | b
        hit = self._meets.get(key)
        if hit is None:
            va, vb = self._var[a], self._var[b]
            if va == vb:
                hit = self.meets(self._lo[a], self._lo[b]) or self.meets(self._hi[a], self._hi[b])
            elif va < vb:
                hit = self.meets(self._lo[a], b) or self.meets(self._hi[a], b)
            else:
                hit = self.meets(a, self._lo[b]) or self.meets(a, self._hi[b])
            self._meets[key] = hit
        return hit

    def all_of(self, items: list[int]) -> int:
        return self._fold(self.and_, TRUE, items)

    def any_of(self, items: list[int]) -> int:
        return self._fold(self.or_, FALSE, items)

    @staticmethod
    def _fold(op: Callable[[int, int], int], unit: int, items: list[int]) -> int:
        """op over items, pairwise as a balanced tree (cheaper than a running result when
        the items are many: each intermediate result stays small for longer)."""
        if not items:
            return unit
        while len(items) > 1:
            pairs = [op(items[i], items[i + 1]) for i in range(0, len(items) - 1, 2)]
            items = [*pairs, items[-1]] if len(items) % 2 else pairs
        return items[0]

    def exists(self, u: int, names: frozenset[int]) -> int:
        """u with the variables `names` quantified away (some value of them satisfies u)."""
        memo: dict[int, int] = {}

        def go(n: int) -> int:
            if n <= TRUE:
                return n
            hit = memo.get(n)
            if hit is None:
                v, lo, hi = self.top(n)
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
            v, lo, hi = self.top(node)
            stack.append((hi, {**assign, v: True}))
            stack.append((lo, {**assign, v: False}))

    def one(self, u: int) -> dict[int, bool] | None:
        """One path to TRUE (taking the low branch when both lead somewhere), or None."""
        return next(self.paths(u), None)
