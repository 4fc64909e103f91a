"""A minimal MCP server that speaks only an older protocol revision (raw JSON-RPC over stdio).

Usage: python legacy_server.py 2025-03-26
It answers ``server/discover`` (2026-07-28) with "method not found", as a pre-2026 server does, so the
client must fall back to ``initialize``; it then negotiates the revision given on the command line.
"""

from __future__ import annotations

import json
import sys

VERSION = sys.argv[1] if len(sys.argv) > 1 else "2025-03-26"
TOOLS = [{
    "name": "echo",
    "description": "Echo the text back.",
    "inputSchema": {"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]},
}]


def reply(msg_id: object, result: object = None, error: dict | None = None) -> None:
    out: dict = {"jsonrpc": "2.0", "id": msg_id}
    if error is not None:
        out["error"] = error
    else:
        out["result"] = result
    sys.stdout.write(json.dumps(out) + "\n")
    sys.stdout.flush()


def handle(msg: dict) -> None:
    method, msg_id = msg.get("method"), msg.get("id")
    if msg_id is None:  # a notification
        return
    if method == "initialize":
        reply(msg_id, {"protocolVersion": VERSION, "capabilities": {"tools": {}},
                       "serverInfo": {"name": "legacy-peer", "version": "1.0"}})
    elif method == "ping":
        reply(msg_id, {})
    elif method == "tools/list":
        reply(msg_id, {"tools": TOOLS})
    elif method == "tools/call":
        args = (msg.get("params") or {}).get("arguments") or {}
        text = f"{VERSION}: {args.get('text', '')}"
        reply(msg_id, {"content": [{"type": "text", "text": text}], "isError": False})
    else:
        reply(msg_id, error={"code": -32601, "message": f"Method not found: {method}"})


def main() -> None:
    for line in sys.stdin:
        line = line.strip()
        if line:
            handle(json.loads(line))


if __name__ == "__main__":
    main()
