"""Integer query parameters are bounded to what the database holds (a signed 64-bit integer).

Without a bound, ``GET /v1/agents/?limit=9223372036854775808`` reached SQLite, which cannot bind the value
("Python int too large to convert to SQLite INTEGER"): a 500. One app-wide dependency checks every integer
query parameter a route declares and answers a 422 naming it, as a declared ``le=``/``ge=`` would, before
the route's own parameters are read. (32-bit columns are bounded in their schemas.)
"""

from __future__ import annotations

import inspect
import types
import typing
from collections.abc import Callable
from functools import cache
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError

INT64_MAX = 2**63 - 1
INT64_MIN = -(2**63)


def _is_int(annotation: Any) -> bool:
    if typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    if annotation is int:
        return True
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return args == [int]
    return False


@cache
def _int_query_names(endpoint: Callable[..., Any], path: str) -> frozenset[str]:
    try:
        hints = typing.get_type_hints(endpoint, include_extras=True)
    except Exception:  # an annotation that does not resolve: nothing to check
        return frozenset()
    names = inspect.signature(endpoint).parameters
    return frozenset(n for n in names if n in hints and _is_int(hints[n]) and "{" + n + "}" not in path)


async def bounded_query_ints(request: Request) -> None:
    route = request.scope.get("route")
    endpoint = getattr(route, "endpoint", None)
    if endpoint is None or not request.url.query:
        return
    errors = []
    for name in _int_query_names(endpoint, getattr(route, "path", "")):
        raw = request.query_params.get(name)
        if raw is None:
            continue
        try:
            value = int(raw.strip())
        except ValueError:
            continue  # not an integer: the route's own validation says so
        if value > INT64_MAX:
            errors.append({"type": "less_than_equal", "loc": ("query", name), "input": raw,
                           "msg": f"Input should be less than or equal to {INT64_MAX}", "ctx": {"le": INT64_MAX}})
        elif value < INT64_MIN:
            errors.append({"type": "greater_than_equal", "loc": ("query", name), "input": raw,
                           "msg": f"Input should be greater than or equal to {INT64_MIN}", "ctx": {"ge": INT64_MIN}})
    if errors:
        raise RequestValidationError(errors)
