"""The order of the REST routers is free to change (the turn's router goes first, for speed) only because no two
routers serve one path: the one path two of them match, with a method in common, is a literal route tried
before a parameterised one (``/v1/messages/batches`` before the 1.x ``/v1/messages/{message_id}``)."""

from __future__ import annotations

import re

from host.app import ROUTERS


def _sample(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "x-1", path)


def test_no_two_routers_serve_one_path_but_a_literal_tried_before_a_parameter() -> None:
    routes = [(module.__name__, route) for module in ROUTERS for route in module.router.routes
              if hasattr(route, "path_regex")]
    shared = []
    for i, (first_router, first) in enumerate(routes):
        for later_router, later in routes[i + 1:]:
            methods = set(getattr(first, "methods", None) or ()) & set(getattr(later, "methods", None) or ())
            if first_router == later_router or not methods:
                continue
            if first.path_regex.match(_sample(later.path)) or later.path_regex.match(_sample(first.path)):
                shared.append((first.path, later.path))
    assert shared == [("/v1/messages/batches", "/v1/messages/{message_id}")]
    literal, parameterised = shared[0]
    assert "{" not in literal and "{" in parameterised  # the literal is tried first, so it answers its path
