"""Text that both databases can store: Postgres refuses U+0000 (NUL) in ``text`` and ``jsonb``.

What the REST API receives is checked up front (``host.api.nul_guard``: a 422 naming the field). What an
agent's turn produces (the model's text and tool arguments, tools' results) is data, not a request to
refuse: there a NUL becomes U+FFFD, the replacement character, before it is stored or acted on.
"""

from __future__ import annotations

from typing import Any

NUL, REPLACEMENT = "\x00", "\ufffd"


def storable(value: Any) -> Any:
    """``value`` with every NUL in its strings (keys included, nested in lists and dicts) replaced."""
    if isinstance(value, str):
        return value.replace(NUL, REPLACEMENT) if NUL in value else value
    if isinstance(value, dict):
        return {storable(k): storable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(storable(v) for v in value)
    return value


def nul_path(value: Any, path: str = "body") -> str | None:
    """Where the first NUL is in a parsed JSON value (``body.messages[0].content``), or None."""
    if isinstance(value, str):
        return path if NUL in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            found = (path if NUL in str(key) else None) or nul_path(item, f"{path}.{key}")
            if found:
                return found
    if isinstance(value, list):
        for i, item in enumerate(value):
            if found := nul_path(item, f"{path}[{i}]"):
                return found
    return None
