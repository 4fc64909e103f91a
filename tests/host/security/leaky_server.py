"""An MCP server (stdio) that repeats its secrets everywhere it can: stderr, error results, its exit.

    python leaky_server.py [--name NAME]      serve; any other argument fails as argparse does, echoing
                                              it on stderr ("unrecognized arguments: --api-key <value>")

With LEAKY_ARGV_LOG set, it first appends its arguments to that file. At start it writes its argv and the value of LEAKY_TOKEN to stderr. Tools:
    leak    an error result (isError) whose text holds argv and LEAKY_TOKEN
    crash   writes argv and LEAKY_TOKEN to stderr, then exits with code 3
    echo    echoes `text` back (a tool that works)
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any


def _confession() -> str:
    return f"argv={sys.argv[1:]} token={os.environ.get('LEAKY_TOKEN', '')}"


def build_server() -> Any:
    import mcp_types as types
    from mcp.server.lowlevel.server import Server

    schema: dict[str, Any] = {"type": "object", "properties": {}, "required": []}
    echo_schema: dict[str, Any] = {"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]}
    tools = [
        types.Tool(name="leak", description="Fail, repeating the server's secrets.", input_schema=schema),
        types.Tool(name="crash", description="Exit, writing the server's secrets to stderr.", input_schema=schema),
        types.Tool(name="echo", description="Echo the text back.", input_schema=echo_schema),
    ]

    async def list_tools(ctx: Any, params: types.PaginatedRequestParams | None) -> types.ListToolsResult:
        return types.ListToolsResult(tools=tools)

    async def call_tool(ctx: Any, params: types.CallToolRequestParams) -> types.CallToolResult:
        if params.name == "leak":
            return types.CallToolResult(content=[types.TextContent(text=f"cannot work: {_confession()}")],
                                        is_error=True)
        if params.name == "crash":
            sys.stderr.write(f"fatal: {_confession()}\n")
            sys.stderr.flush()
            os._exit(3)
        return types.CallToolResult(content=[types.TextContent(text=str((params.arguments or {}).get("text")))])

    return Server("leaky", version="1.0.0", on_list_tools=list_tools, on_call_tool=call_tool)


async def _serve() -> None:
    from mcp.server.stdio import stdio_server

    server = build_server()
    async with stdio_server() as (read, write):
        await server.run(read, write, server.create_initialization_options())


def main() -> None:
    if os.environ.get("LEAKY_ARGV_LOG"):  # lets a test see the arguments it was really given
        with open(os.environ["LEAKY_ARGV_LOG"], "a", encoding="utf-8") as log:
            log.write(" ".join(sys.argv[1:]) + "\n")
    parser = argparse.ArgumentParser(prog="leaky_server")
    parser.add_argument("--name", default="leaky")
    parser.parse_args()  # exits with code 2 naming every unknown argument and its value (before the slow imports)
    sys.stderr.write(f"starting: {_confession()}\n")
    sys.stderr.flush()
    import anyio

    anyio.run(_serve)


if __name__ == "__main__":
    main()
