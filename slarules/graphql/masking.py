"""Which GraphQL errors clients may see; the rest are masked as INTERNAL_SERVER_ERROR."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import MaskErrors
from strawberry.types import ExecutionContext, ExecutionResult
from strawberry.types.graphql import OperationType

from slarules.errors import BAD_USER_INPUT, ServiceError
from slarules.graphql.scalars import InvalidInstant

__all__ = ["MaskInternalErrors", "SlaSchema", "is_public"]

log = logging.getLogger("slarules.graphql")


def is_public(error: GraphQLError) -> bool:
    """Errors users may see: validation/syntax (no original error), ServiceError, and a bad
    `DateTime` literal (its coercion error comes wrapped in the validation error)."""
    original = error.original_error
    return original is None or isinstance(original, ServiceError | GraphQLError | InvalidInstant)


class MaskInternalErrors(MaskErrors):
    """Mask unexpected errors (logged with their traceback) as INTERNAL_SERVER_ERROR."""

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        log.error("internal error in %s", error.path, exc_info=error.original_error)
        masked = super().anonymise_error(error)
        masked.extensions = {"code": "INTERNAL_SERVER_ERROR"}
        return masked

    def _process_errors(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        out = super()._process_errors(errors)
        for e in out:  # validation, syntax and limit errors: the query was bad input
            if not (e.extensions or {}).get("code"):
                e.extensions = {**(e.extensions or {}), "code": BAD_USER_INPUT}
        return out


class SlaSchema(strawberry.Schema):
    lane: Any = None  # graphql/prepared.Lane, set by make_schema(fast=True)

    async def execute(
        self,
        query: str | None,
        variable_values: dict[str, Any] | None = None,
        context_value: Any | None = None,
        root_value: Any | None = None,
        operation_name: str | None = None,
        allowed_operation_types: Iterable[OperationType] | None = None,
        operation_extensions: dict[str, Any] | None = None,
    ) -> ExecutionResult:
        """A kept document through the prepared lane, the rest through strawberry."""
        args = (
            query,
            variable_values,
            context_value,
            root_value,
            operation_name,
            allowed_operation_types,
            operation_extensions,
        )
        if self.lane is not None and allowed_operation_types is not None:
            got = await self.lane.run(*args)
            if got is not None:
                return got  # type: ignore[no-any-return]
        return await super().execute(*args)

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """Expected errors are answers, not incidents: log nothing (masking logs the rest)."""
