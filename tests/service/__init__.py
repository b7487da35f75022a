"""Service tests: the store, the GraphQL API, exports and the server process."""
