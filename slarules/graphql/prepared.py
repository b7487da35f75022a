"""The prepared lane: a request whose document validated before skips strawberry's
per-operation machinery.

For every request strawberry builds an execution context, makes one instance of each
schema extension (six here: three limiters, the budget, the document cache, the error
masking), and runs their hooks around parsing, validation and execution: about a third
of a small request's CPU, more than the SQL of a single-event `recordEvents`. Most
requests repeat a text that parsed and validated before (`DocumentCache`): for them the
limiters and the validation have nothing left to say, and what remains of the
extensions is two functions, which the lane calls itself:

- the budget (`QueryBudget.refusal`: strings, HTTP subscriptions, introspection
  without the role, the cost with this request's variables);
- the masking of unexpected errors (`MaskInternalErrors._process_errors`).

It then runs graphql-core's `execute` with the schema's executor, as strawberry does.
Anything else (a text not kept, an operation name that picks no single operation, an
operation type this HTTP method may not run, a refusal by the budget) takes
strawberry's own path, so its answer, error or HTTP status is exactly strawberry's.
`tests/service/test_prepared.py` compares the two paths' answers.
"""

from __future__ import annotations

from collections.abc import Iterable
from inspect import isawaitable
from typing import Any

from graphql import DocumentNode, GraphQLError, OperationDefinitionNode
from strawberry.execution import optimized_is_awaitable
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType

from slarules.graphql.budget import QueryBudget
from slarules.graphql.documents import DocumentCache
from slarules.graphql.masking import MaskInternalErrors

__all__ = ["Lane"]

_OPERATION = {
    "query": OperationType.QUERY,
    "mutation": OperationType.MUTATION,
    "subscription": OperationType.SUBSCRIPTION,
}


class Lane:
    """Runs a kept document of one schema without its extensions (see the module)."""

    def __init__(
        self,
        schema: Any,
        documents: DocumentCache,
        budget: QueryBudget,
        mask: MaskInternalErrors,
    ) -> None:
        self.schema = schema
        self.documents = documents
        self.budget = budget
        self.mask = mask

    async def run(
        self,
        query: str | None,
        variables: dict[str, Any] | None,
        context: Any,
        root_value: Any,
        operation_name: str | None,
        allowed: Iterable[OperationType],
        operation_extensions: dict[str, Any] | None,
    ) -> ExecutionResult | None:
        """The result, or None: strawberry's path answers this request."""
        doc = self.documents.by_text(query) if query else None
        if doc is None:
            return None
        op = _operation(doc, operation_name)
        if op is None or _OPERATION[op.operation.value] not in allowed:
            return None
        if self.budget.refusal(doc, operation_name, variables, context) is not None:
            return None
        s = self.schema
        got: Any = s._get_execute_function()(
            s._schema,
            doc,
            root_value=root_value,
            variable_values=variables,
            operation_name=operation_name,
            context_value=context,
            is_awaitable=optimized_is_awaitable,
            executor_class=s.execution_context_class,
            operation_extensions=operation_extensions,
        )
        if isawaitable(got):
            got = await got
        errors: list[GraphQLError] | None = got.errors
        if errors:
            s._process_errors(errors)
            errors = self.mask._process_errors(errors)
        return ExecutionResult(data=got.data, errors=errors, extensions={})


def _operation(doc: DocumentNode, name: str | None) -> OperationDefinitionNode | None:
    """The one operation `name` picks (graphql-core's rule), or None (strawberry answers)."""
    found = None
    for d in doc.definitions:
        if isinstance(d, OperationDefinitionNode) and (
            name is None or (d.name is not None and d.name.value == name)
        ):
            if found is not None:
                return None
            found = d
    return found
