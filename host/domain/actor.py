"""Who a request acts as: resolved once by the auth middleware (host.api.auth), read by services.

``current_actor()`` is the request's actor (a ``ContextVar`` set around the request; the same object is in
``scope["state"]["actor"]``; anyio tasks started from the request inherit it, so a background run acts as
the user who started it). Every request's actor is *scoped*: it sees only its organization's objects
(host.persistence.tenancy). Outside a request (lifespans, workers, the CLI, run recovery) it is
``SYSTEM_ACTOR``: unscoped, it sees every organization, and what it creates belongs to the default one
(built-in tools and the operator's MCP servers: to every organization).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from host.ids import DEFAULT_ORG_ID, DEFAULT_USER_ID


@dataclass(frozen=True)
class Actor:
    user_id: str
    organization_id: str
    is_admin: bool  # the server password (or an open server): may use /v1/admin and pick any user_id
    scoped: bool = True  # sees only its organization's objects (False: the system, outside any request)


DEFAULT_ACTOR = Actor(user_id=DEFAULT_USER_ID, organization_id=DEFAULT_ORG_ID, is_admin=True)
SYSTEM_ACTOR = Actor(user_id=DEFAULT_USER_ID, organization_id=DEFAULT_ORG_ID, is_admin=True, scoped=False)
_CURRENT: ContextVar[Actor] = ContextVar("agenthost_actor", default=SYSTEM_ACTOR)


def current_actor() -> Actor:
    return _CURRENT.get()


def acting_organization() -> str:
    """The organization of what the current actor sees: a scoped actor sees only its own organization's
    objects, so theirs is its own (answers fill ``organization_id`` from the row where they have it, and use
    this for rows reached through a parent: steps, files, passages...). The system: the default one."""
    return _CURRENT.get().organization_id


def set_actor(actor: Actor) -> object:
    """Make ``actor`` current; returns the token for ``reset_actor``."""
    return _CURRENT.set(actor)


def reset_actor(token: object) -> None:
    _CURRENT.reset(token)  # type: ignore[arg-type]


@contextmanager
def acting_as(actor: Actor) -> Iterator[Actor]:
    """Run the block as ``actor`` (a worker acting for an organization, or ``SYSTEM_ACTOR`` around a loop
    that must see every organization)."""
    token = _CURRENT.set(actor)
    try:
        yield actor
    finally:
        _CURRENT.reset(token)


__all__ = ["DEFAULT_ACTOR", "SYSTEM_ACTOR", "Actor", "acting_as", "acting_organization", "current_actor", "reset_actor", "set_actor"]
