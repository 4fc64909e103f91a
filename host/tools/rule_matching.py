"""How a conditional rule matches a tool's output against its ``child_output_mapping`` keys.

Mapping keys are JSON object keys, so always strings. The output is the tool's return text. When
that text is Letta's packaged return (a JSON object with ``status`` and ``message``), its
``message`` is used instead. The output is then read two ways: as text (stripped) and, if it parses,
as a JSON value. A key matches when, in this order of passes over the mapping (first hit wins,
mapping order within a pass):

1. exactly: the key equals the text, or equals the JSON string value (``"yes"`` matches ``yes``
   and ``"\\"yes\\""``);
2. by type, like Letta's ``_matches_key``:
   - a key ``true`` / ``false`` (any case) matches a JSON boolean of that value or the text
     ``true`` / ``false`` in any case (``True``, ``"TRUE"``);
   - a key that reads as a number (``3``, ``3.0``, ``-1e2``) matches a JSON number, or a JSON
     string holding a number, that is numerically equal (``3`` matches ``3.0``); booleans are not
     numbers here.

No output (``None``) is read as the empty text. Nothing else matches (no substring or regex).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

__all__ = ["match_output"]

_NOT_JSON = object()


def match_output(output: str | None, mapping: Mapping[str, str]) -> str | None:
    """The child tool the output selects, or ``None`` when no key matches."""
    text, value = _read(output or "")
    for key, child in mapping.items():
        if key == text or (isinstance(value, str) and key == value):
            return child
    for key, child in mapping.items():
        if _typed_match(key, text, value):
            return child
    return None


def _read(output: str) -> tuple[str, Any]:
    text = output.strip()
    try:
        value = json.loads(text)
    except ValueError:
        return text, _NOT_JSON
    if isinstance(value, dict) and "message" in value and "status" in value:
        inner = value["message"]
        return _read(inner) if isinstance(inner, str) else (text, inner)
    return text, value


def _typed_match(key: str, text: str, value: Any) -> bool:
    lowered = key.strip().lower()
    if lowered in ("true", "false"):
        wanted = lowered == "true"
        if isinstance(value, bool):
            return value is wanted
        candidate = value if isinstance(value, str) else text
        return candidate.strip().lower() == lowered
    number = _as_number(key)
    if number is None:
        return False
    if isinstance(value, bool):
        return False
    if isinstance(value, (int, float)):
        return float(value) == number
    if isinstance(value, str):
        return _as_number(value) == number
    return False


def _as_number(raw: str) -> float | None:
    try:
        number = float(raw)
    except ValueError:
        return None
    return None if math.isnan(number) else number
