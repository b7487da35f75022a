"""Roles: who may do what. One check for GraphQL, the plain HTTP routes and the board."""

from __future__ import annotations

from slarules.errors import FORBIDDEN, UNAUTHENTICATED, ServiceError
from slarules.settings import ROLES, Role, Settings

__all__ = ["check_role", "role_for"]


def role_for(settings: Settings, authorization: str | None) -> Role | None:
    """The role of a bearer token; everyone is admin when no tokens are configured."""
    tokens = settings.tokens
    if not tokens:
        return "admin"
    if not authorization:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    return tokens.get(token.strip())  # settings.TokenTable: compared in constant time


def check_role(role: Role | None, needed: Role) -> None:
    if role is None:
        raise ServiceError(
            UNAUTHENTICATED, "missing or unknown bearer token (send `Authorization: Bearer TOKEN`)"
        )
    if ROLES.index(role) < ROLES.index(needed):
        raise ServiceError(
            FORBIDDEN, f"forbidden: this needs the `{needed}` role (the token has `{role}`)"
        )
