"""The server's routes against Letta's: every operation of Letta 0.8.17's OpenAPI is served with the same
method and path, and what we serve beyond Letta (0.8.17 and 0.16.8) is exactly what the README lists."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
REFERENCE = ROOT.parent / "shared" / "reference"
METHODS = ("get", "post", "put", "patch", "delete")

pytestmark = pytest.mark.skipif(not (REFERENCE / "letta-0.8.17" / "openapi.json").exists(),
                                reason="../shared/reference (Letta's OpenAPI documents) is not beside the checkout")


def _operation(method: str, path: str) -> tuple[str, str]:
    """Method and path with a trailing slash dropped and path parameters unnamed ({agent_id} == {id})."""
    return method.upper(), re.sub(r"\{[^}]+\}", "{}", path.rstrip("/") or "/")


def _operations(spec: dict) -> set[tuple[str, str]]:
    return {_operation(m, p) for p, ops in spec["paths"].items() for m in ops if m in METHODS
            if not p.startswith("/v1/_internal")}


def _reference(version: str) -> set[tuple[str, str]]:
    return _operations(json.loads((REFERENCE / f"letta-{version}" / "openapi.json").read_text()))


def test_every_operation_of_letta_0_8_is_served(http):
    ours = _operations(http.get("/openapi.json").json())
    letta = _reference("0.8.17")
    assert len(letta) == 150
    assert sorted(letta - ours) == []


def test_the_readme_lists_what_is_beyond_letta(http):
    ours = _operations(http.get("/openapi.json").json())
    beyond = ours - _reference("0.8.17") - _reference("0.16.8")
    readme = (ROOT / "README.md").read_text()
    section = readme.split("### Beyond Letta's API", 1)[1].split("\n## ", 1)[0]
    listed = {_operation(m, p) for m, p in re.findall(r"^\| `(GET|POST|PUT|PATCH|DELETE) (/\S+)`", section, re.M)}
    assert beyond, "the server serves routes of its own (the tool-rule graph, MCP server status...)"
    assert sorted(listed) == sorted(beyond)
