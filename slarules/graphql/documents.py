"""Parse and validate a repeated query once: a bounded LRU of documents that validated.

Validation is most of a small request's cost (graphql-core runs every rule, ours and
the limiters', over the document each time). `DocumentCache` keeps, per schema, the
parsed documents of query texts that parsed *and* validated without errors; the
`CachedDocuments` extension hands a kept one to strawberry and marks it validated.

Only successes are kept: a query that does not parse or does not validate takes
strawberry's own path every time, so its errors (and their masking) are unchanged.
The key is the query text and the parse options (the token limit); the validation
rules are the schema's, fixed when the schema is made, so one cache per schema.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterator
from typing import Any

from graphql import DocumentNode
from strawberry.extensions import SchemaExtension

__all__ = ["CachedDocuments", "DocumentCache"]

MAX_ENTRIES = 256
MAX_QUERY_CHARS = 20_000  # longer texts are parsed each time (no memory held for them)

Key = tuple[str, tuple[tuple[str, Any], ...]]


class DocumentCache:
    """Thread-safe LRU: key → a document that parsed and validated without errors."""

    def __init__(self, maxsize: int = MAX_ENTRIES) -> None:
        self.maxsize = maxsize
        self._docs: OrderedDict[Key, DocumentNode] = OrderedDict()
        self._texts: dict[str, DocumentNode] = {}  # the kept documents by query text
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._docs)

    def get(self, key: Key) -> DocumentNode | None:
        with self._lock:
            doc = self._docs.get(key)
            if doc is not None:
                self._docs.move_to_end(key)
            return doc

    def by_text(self, query: str) -> DocumentNode | None:
        """The kept document of this text (under the schema's one set of parse options:
        the limiters fix them when the schema is made), for the prepared lane."""
        return self._texts.get(query)

    def put(self, key: Key, doc: DocumentNode) -> None:
        with self._lock:
            self._docs[key] = doc
            self._docs.move_to_end(key)
            self._texts[key[0]] = doc
            while len(self._docs) > self.maxsize:
                old, _ = self._docs.popitem(last=False)
                self._texts.pop(old[0], None)  # a miss only sends a text the long way


def key_of(query: str | None, parse_options: Any) -> Key | None:
    if not query or len(query) > MAX_QUERY_CHARS:
        return None
    return query, tuple(sorted((parse_options or {}).items()))


class CachedDocuments(SchemaExtension):
    """Per request (a factory): reuse a kept document, keep a newly validated one.
    List it after the limiters (they set the token limit and the rules first)."""

    def __init__(self, cache: DocumentCache) -> None:
        self.cache = cache
        self._key: Key | None = None
        self._hit = False

    def on_parse(self) -> Iterator[None]:
        ec = self.execution_context
        self._key = key_of(ec.query, ec.parse_options)
        doc = self.cache.get(self._key) if self._key is not None else None
        if doc is not None and ec.graphql_document is None:
            ec.graphql_document = doc
            self._hit = True
        yield

    def on_validate(self) -> Iterator[None]:
        ec = self.execution_context
        if self._hit and ec.pre_execution_errors is None:
            ec.pre_execution_errors = []  # this text validated before, under the same rules
        yield
        if (
            not self._hit
            and self._key is not None
            and ec.pre_execution_errors == []
            and ec.graphql_document is not None
        ):
            self.cache.put(self._key, ec.graphql_document)
