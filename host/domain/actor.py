"""Who a request acts as: resolved once by the auth middleware (host.api.auth), read by services.

``current_actor()`` is the request's actor (a ``ContextVar`` set around the request; the same object is in
``scope["state"]["actor"]``). Outside a request (the agent loop's background runs, the CLI) it is the
default admin actor, so code written before tenants keeps its meaning.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass

from host.ids import DEFAULT_ORG_ID, DEFAULT_USER_ID


@dataclass(frozen=True)
class Actor:
    user_id: str
    organization_id: str
    is_admin: bool  # the server password (or an open server): may use /v1/admin and pick any user_id


DEFAULT_ACTOR = Actor(user_id=DEFAULT_USER_ID, organization_id=DEFAULT_ORG_ID, is_admin=True)
_CURRENT: ContextVar[Actor] = ContextVar("agenthost_actor", default=DEFAULT_ACTOR)


def current_actor() -> Actor:
    return _CURRENT.get()


def set_actor(actor: Actor) -> object:
    """Make ``actor`` current; returns the token for ``reset_actor``."""
    return _CURRENT.set(actor)


def reset_actor(token: object) -> None:
    _CURRENT.reset(token)  # type: ignore[arg-type]


__all__ = ["DEFAULT_ACTOR", "Actor", "current_actor", "reset_actor", "set_actor"]
