"""``agenthost tools run FILE.py --args '{...}'`` (being written)."""

from __future__ import annotations

import argparse
from typing import Any


def run_tool_file(args: argparse.Namespace, settings: Any) -> int:
    raise SystemExit("agenthost tools run: not implemented yet")
