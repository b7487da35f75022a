"""Budgets for a GraphQL request: a query cost limit (aliases and list sizes counted),
introspection behind the read role, and a bounded thread runner for the expensive
resolvers (checkRules, explain, reloadRules, compliance).

Cost: every selected object field costs 1 per time it is resolved (scalars are free); an
expensive field costs its weight (`WEIGHTS`). A connection (`tickets`, `slaLog`,
`alerts`) resolves its `edges` `first` times (its default when not given): children
are multiplied.
Aliases select a field again and pay again; fragments are counted where they are spread.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from graphql import (
    BREAK,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    StringValueNode,
    VariableNode,
    Visitor,
    visit,
)
from graphql import ExecutionResult as GraphQLExecutionResult
from starlette.websockets import WebSocket
from strawberry.extensions import SchemaExtension

from slarules.errors import BAD_USER_INPUT, UNAUTHENTICATED

WEIGHTS = {"explain": 1000, "checkRules": 1000, "reloadRules": 1000, "compliance": 500}
CONNECTIONS = {"tickets": 50, "slaLog": 100, "alerts": 20}  # default `first`
LIST_CAP = 1000  # a `first` given as a variable counts at most this much


def query_cost(
    operation: OperationDefinitionNode,
    fragments: Mapping[str, FragmentDefinitionNode],
    variables: Mapping[str, Any] | None,
) -> int:
    vars_ = variables or {}

    def first_of(node: FieldNode, default: int) -> int:
        for a in node.arguments or ():
            if a.name.value != "first":
                continue
            v = a.value
            if isinstance(v, IntValueNode):
                return min(int(v.value), LIST_CAP) if len(v.value) < 8 else LIST_CAP
            if isinstance(v, VariableNode):
                got = vars_.get(v.name.value)
                return min(got, LIST_CAP) if isinstance(got, int) and got >= 0 else default
        return default

    def fields(sel: SelectionSetNode | None, seen: frozenset[str]) -> Iterator[FieldNode]:
        for s in sel.selections if sel else ():
            if isinstance(s, FieldNode):
                yield s
            elif isinstance(s, InlineFragmentNode):
                yield from fields(s.selection_set, seen)
            elif isinstance(s, FragmentSpreadNode):
                name = s.name.value
                frag = fragments.get(name)
                if frag is not None and name not in seen:
                    yield from fields(frag.selection_set, seen | {name})

    def cost(sel: SelectionSetNode | None, times: int, seen: frozenset[str]) -> int:
        total = 0
        for f in fields(sel, seen):
            name = f.name.value
            if name in WEIGHTS:
                total += WEIGHTS[name] * times
            elif f.selection_set is not None:  # an object (or list of them): 1 per resolution
                total += times
            inner = times
            if name in CONNECTIONS:
                inner = times * first_of(f, CONNECTIONS[name])
            elif name in ("edges", "node"):
                inner = times
            total += cost(f.selection_set, inner, seen)
        return total

    return cost(operation.selection_set, 1, frozenset())


def _is_introspection(operation: OperationDefinitionNode, fragments: Any) -> bool:
    def walk(sel: SelectionSetNode | None, seen: frozenset[str]) -> bool:
        for s in sel.selections if sel else ():
            if isinstance(s, FieldNode):
                if s.name.value in ("__schema", "__type"):
                    return True
                if walk(s.selection_set, seen):
                    return True
            elif isinstance(s, InlineFragmentNode):
                if walk(s.selection_set, seen):
                    return True
            elif isinstance(s, FragmentSpreadNode) and s.name.value not in seen:
                frag = fragments.get(s.name.value)
                if frag is not None and walk(frag.selection_set, seen | {s.name.value}):
                    return True
        return False

    return walk(operation.selection_set, frozenset())


def _bad_strings(doc: DocumentNode) -> GraphQLError | None:
    """A string literal holding NUL or a lone surrogate (neither can be stored)."""
    found: list[str] = []

    class Finder(Visitor):
        def enter_string_value(self, node: StringValueNode, *args: Any) -> Any:
            v = node.value
            if "\x00" in v:
                found.append("NUL (\\u0000)")
                return BREAK
            try:
                v.encode("utf-8")
            except UnicodeEncodeError:
                found.append("a lone surrogate")
                return BREAK
            return None

    visit(doc, Finder())
    if not found:
        return None
    return GraphQLError(
        f"a string in the query holds {found[0]}, which cannot be stored",
        extensions={"code": BAD_USER_INPUT, "reason": "bad-character"},
    )


_STRINGS_SEEN: dict[int, tuple[DocumentNode, GraphQLError | None]] = {}


def _bad_strings_of(doc: DocumentNode) -> GraphQLError | None:
    """`_bad_strings`, once per document object (a kept document is checked once; the
    entry holds the document, so its id is not reused while it is remembered)."""
    got = _STRINGS_SEEN.get(id(doc))
    if got is not None and got[0] is doc:
        return got[1]
    error = _bad_strings(doc)
    if doc.loc is None or len(doc.loc.source.body) > 20_000:
        return error  # remember small documents only (what the document cache keeps)
    if len(_STRINGS_SEEN) >= 256:
        _STRINGS_SEEN.clear()
    _STRINGS_SEEN[id(doc)] = (doc, error)
    return error


class QueryBudget(SchemaExtension):
    """Refuse, before execution, a query over the cost limit, and introspection without
    the read role when tokens are configured (unless `SLA_INTROSPECTION=open`)."""

    def __init__(self, *, max_cost: int, open_introspection: bool) -> None:
        self.max_cost = max_cost
        self.open_introspection = open_introspection

    def on_execute(self) -> Iterator[None]:
        ec = self.execution_context
        doc = ec.graphql_document
        if doc is not None:
            error = self.refusal(doc, ec.operation_name, ec.variables, ec.context)
            if error is not None:
                ec.result = GraphQLExecutionResult(data=None, errors=[error])
        yield

    def refusal(
        self, doc: DocumentNode, operation_name: str | None, variables: Any, context: Any
    ) -> GraphQLError | None:
        """Why this request of `doc` may not run (bad strings, HTTP subscription,
        introspection without the role, cost over the limit), or None. The prepared lane
        (graphql/prepared.py) asks this too: one definition of the budget."""
        fragments = {
            d.name.value: d for d in doc.definitions if isinstance(d, FragmentDefinitionNode)
        }
        ops = [d for d in doc.definitions if isinstance(d, OperationDefinitionNode)]
        if operation_name:
            ops = [o for o in ops if o.name and o.name.value == operation_name]
        return _bad_strings_of(doc) or self._check(ops, fragments, variables, context)

    def _check(self, ops: Any, fragments: Any, variables: Any, context: Any) -> GraphQLError | None:
        role = getattr(context, "role", "admin")
        over_http = not isinstance(getattr(context, "request", None), WebSocket)
        for op in ops:
            if over_http and op.operation == OperationType.SUBSCRIPTION:
                return GraphQLError(
                    "subscriptions use WebSocket (graphql-transport-ws) on /graphql, not HTTP",
                    extensions={"code": BAD_USER_INPUT},
                )
            if role is None and not self.open_introspection and _is_introspection(op, fragments):
                return GraphQLError(
                    "introspection needs the `read` role (send `Authorization: Bearer TOKEN`)",
                    extensions={"code": UNAUTHENTICATED},
                )
            n = query_cost(op, fragments, variables)
            if n > self.max_cost:
                return GraphQLError(
                    f"the query costs {n}, over the limit of {self.max_cost} (SLA_MAX_COST); "
                    "ask for fewer items or fewer expensive fields per request",
                    extensions={"code": BAD_USER_INPUT},
                )
        return None
