"""``agenthost mcp``: MCP over stdio (being written)."""

from __future__ import annotations

import argparse
from typing import Any


def main(args: argparse.Namespace, settings: Any) -> int:
    raise SystemExit("agenthost mcp: not implemented yet")
