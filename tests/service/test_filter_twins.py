"""The GraphQL filter inputs and the store's filters are twins: a field added to one and not the
other would be silently ignored (the API never exposes store classes directly)."""

from __future__ import annotations

from dataclasses import fields

import pytest

from slarules.graphql import input_types as gi
from slarules.store.filters import LogFilter, TicketFilter


@pytest.mark.parametrize(
    ("api", "store"), [(gi.TicketFilter, TicketFilter), (gi.SlaLogFilter, LogFilter)]
)
def test_every_filter_field_has_its_twin(api: type, store: type) -> None:
    api_names = {f.python_name for f in api.__strawberry_definition__.fields}  # type: ignore[attr-defined]
    assert api_names == {f.name for f in fields(store)}
