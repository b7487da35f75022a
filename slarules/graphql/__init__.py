"""EDGE: the strawberry GraphQL API (schema, views converted from engine objects, loaders)."""
