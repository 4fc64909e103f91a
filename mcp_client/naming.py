"""Agent-facing tool names: valid for every model API and never colliding.

Rule (pure and deterministic; depends only on the set of (server, tool) pairs, not their order):

1. `sanitize(s)` replaces every character outside `[a-zA-Z0-9_-]` with `_` (empty -> `_`).
2. A tool whose sanitized name is produced by exactly one (server, tool) pair in the whole
   catalogue, and is at most 64 characters, keeps that short name: `echo`.
3. Every other tool is qualified as `sanitize(server) + "__" + sanitize(tool)`.
4. A qualified name longer than 64 characters, or equal to a name already taken, becomes
   `<qualified truncated to 55>_<first 8 hex of sha256(server + "\\0" + tool)>` (64 max).

So when two servers both expose `echo`, they are `alpha__echo` and `beta__echo`; a server
that alone exposes `add` gives `add`.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Iterable

MAX_NAME = 64
VALID_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
_INVALID_CHARS = re.compile(r"[^a-zA-Z0-9_-]")


def sanitize(text: str) -> str:
    return _INVALID_CHARS.sub("_", text) or "_"


def _hashed(server: str, tool: str) -> str:
    digest = hashlib.sha256(f"{server}\0{tool}".encode()).hexdigest()[:8]
    prefix = f"{sanitize(server)}__{sanitize(tool)}"[: MAX_NAME - 9]
    return f"{prefix}_{digest}"


def assign_agent_names(pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """Map each (server, tool) pair to its agent-facing name (see module docstring)."""
    ordered = sorted(set(pairs))
    short = {pair: sanitize(pair[1]) for pair in ordered}
    short_counts = Counter(short.values())
    names: dict[tuple[str, str], str] = {}
    for pair in ordered:
        candidate = short[pair]
        if short_counts[candidate] == 1 and len(candidate) <= MAX_NAME:
            names[pair] = candidate
            continue
        qualified = f"{sanitize(pair[0])}__{candidate}"
        names[pair] = qualified if len(qualified) <= MAX_NAME else _hashed(*pair)
    taken = Counter(names.values())
    for pair in ordered:
        name = names[pair]
        if taken[name] > 1 and name != short[pair]:
            names[pair] = _hashed(*pair)
    return names
