"""A small MCP server for the mcp_client tests, written with the mcp SDK's low-level `Server`.

Run: `python tests/peers/peer_server.py [--transport stdio|sse|http] [--port N] [--extra-tools N]`.
Remote transports bind 127.0.0.1 only and print `READY <port>` on stdout once listening.

Tools: echo, add, sleep (hangs for `seconds`), fail (isError), image, structured, resource,
crash (os._exit), pid, grow (adds a tool and announces notifications/tools/list_changed), reshape (gives
`add` a third, optional argument `c` and a new description, and announces list_changed), plus
`--extra-tools` numbered tools so that tools/list is paginated (`--page-size` per page).
When the environment has PEER_EVENT_LOG, `sleep` appends `started <id>` / `cancelled <id>` lines to it.
"""

from __future__ import annotations

import argparse
import base64
import logging
import os
import socket
import sys
from typing import Any

import anyio
import mcp_types as types
from mcp.server.lowlevel.server import NotificationOptions, Server
from mcp.server.subscriptions import InMemorySubscriptionBus, ListenHandler
from mcp.shared.subscriptions import ToolsListChanged

logger = logging.getLogger("peer_server")

PNG_BYTES = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


def _schema(**props: str) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {name: {"type": kind} for name, kind in props.items()},
        "required": list(props),
    }


BASE_TOOLS = [
    types.Tool(name="echo", description="Echo the text back.", input_schema=_schema(text="string")),
    types.Tool(name="add", description="Add two numbers.", input_schema=_schema(a="number", b="number")),
    types.Tool(name="sleep", description="Sleep for `seconds`.", input_schema=_schema(seconds="number")),
    types.Tool(name="fail", description="Always fails (isError).", input_schema=_schema()),
    types.Tool(name="image", description="Return a PNG image.", input_schema=_schema()),
    types.Tool(name="structured", description="Return structured content.", input_schema=_schema()),
    types.Tool(name="resource", description="Return an embedded resource and a link.", input_schema=_schema()),
    types.Tool(name="crash", description="Exit the process abruptly.", input_schema=_schema()),
    types.Tool(name="pid", description="Return the server's process id.", input_schema=_schema()),
    types.Tool(name="grow", description="Add the tool `grown` and announce list_changed.", input_schema=_schema()),
    types.Tool(name="reshape", description="Give `add` an optional `c` and announce list_changed.",
               input_schema=_schema()),
]
RESHAPED_ADD = types.Tool(
    name="add",
    description="Add two or three numbers.",
    input_schema={**_schema(a="number", b="number"),
                  "properties": {"a": {"type": "number"}, "b": {"type": "number"}, "c": {"type": "number"}}},
)


def _log_event(line: str) -> None:
    log_path = os.environ.get("PEER_EVENT_LOG")
    if log_path:
        with open(log_path, "a", encoding="utf-8") as fh:
            fh.write(line + "\n")


def _text(text: str, *, is_error: bool = False) -> types.CallToolResult:
    return types.CallToolResult(content=[types.TextContent(text=text)], is_error=is_error)


def build_server(extra_tools: int, page_size: int) -> Server[Any]:
    bus = InMemorySubscriptionBus()
    tools = list(BASE_TOOLS) + [
        types.Tool(name=f"extra_{i:03d}", description=f"Extra tool {i}.", input_schema=_schema())
        for i in range(extra_tools)
    ]

    async def list_tools(ctx: Any, params: types.PaginatedRequestParams | None) -> types.ListToolsResult:
        start = int(params.cursor) if params is not None and params.cursor else 0
        end = start + page_size
        next_cursor = str(end) if end < len(tools) else None
        return types.ListToolsResult(tools=tools[start:end], next_cursor=next_cursor)

    async def announce(ctx: Any) -> None:
        await bus.publish(ToolsListChanged())
        try:  # handshake-era connections: a plain notification on the session
            await ctx.session.send_tool_list_changed()
        except Exception:  # noqa: BLE001 - modern connections have no such channel
            logger.debug("legacy list_changed not sent", exc_info=True)

    async def call_tool(ctx: Any, params: types.CallToolRequestParams) -> types.CallToolResult:
        args = params.arguments or {}
        name = params.name
        if name == "echo":
            return _text(str(args.get("text", "")))
        if name == "add":
            return _text(str(args["a"] + args["b"] + args.get("c", 0)))
        if name == "sleep":
            _log_event(f"started {ctx.request_id}")
            try:
                await anyio.sleep(float(args.get("seconds", 3600)))
            except anyio.get_cancelled_exc_class():
                _log_event(f"cancelled {ctx.request_id}")
                raise
            return _text("slept")
        if name == "fail":
            return _text("boom: the tool failed on purpose", is_error=True)
        if name == "image":
            data = base64.b64encode(PNG_BYTES).decode()
            return types.CallToolResult(
                content=[types.TextContent(text="here is a picture"), types.ImageContent(data=data, mime_type="image/png")]
            )
        if name == "structured":
            payload = {"temperature": 21.5, "unit": "C"}
            return types.CallToolResult(content=[], structured_content=payload)
        if name == "resource":
            return types.CallToolResult(
                content=[
                    types.EmbeddedResource(
                        resource=types.TextResourceContents(uri="file:///notes.txt", mime_type="text/plain", text="hi")
                    ),
                    types.ResourceLink(uri="file:///big.bin", name="big.bin", mime_type="application/octet-stream"),
                ]
            )
        if name == "crash":
            os._exit(3)
        if name == "pid":
            return _text(str(os.getpid()))
        if name == "grow":
            if not any(tool.name == "grown" for tool in tools):
                tools.append(types.Tool(name="grown", description="Added at runtime.", input_schema=_schema()))
            await announce(ctx)
            return _text("grown")
        if name == "reshape":
            tools[:] = [RESHAPED_ADD if tool.name == "add" else tool for tool in tools]
            await announce(ctx)
            return _text("reshaped")
        if name.startswith("extra_") or name == "grown":
            return _text(name)
        raise ValueError(f"unknown tool {name!r}")

    return Server(
        "peer",
        version="1.0.0",
        on_list_tools=list_tools,
        on_call_tool=call_tool,
        on_subscriptions_listen=ListenHandler(bus),
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def _serve_stdio(server: Server[Any]) -> None:
    from mcp.server.stdio import stdio_server

    async with stdio_server() as (read, write):
        await server.run(read, write, server.create_initialization_options(NotificationOptions(tools_changed=True)))


def _sse_app(server: Server[Any]) -> Any:
    from mcp.server.sse import SseServerTransport
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Mount, Route

    sse = SseServerTransport("/messages/")

    async def handle_sse(request: Request) -> Response:
        async with sse.connect_sse(request.scope, request.receive, request._send) as (read, write):  # noqa: SLF001
            opts = server.create_initialization_options(NotificationOptions(tools_changed=True))
            await server.run(read, write, opts)
        return Response()

    return Starlette(routes=[Route("/sse", handle_sse, methods=["GET"]), Mount("/messages/", app=sse.handle_post_message)])


async def _serve_http(server: Server[Any], transport: str, port: int) -> None:
    import uvicorn

    app = _sse_app(server) if transport == "sse" else server.streamable_http_app(host="127.0.0.1")
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    uv = uvicorn.Server(config)
    async with anyio.create_task_group() as tg:
        tg.start_soon(uv.serve)
        while not uv.started:
            await anyio.sleep(0.01)
        print(f"READY {port}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--transport", choices=["stdio", "sse", "http"], default="stdio")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--extra-tools", type=int, default=0)
    parser.add_argument("--page-size", type=int, default=50)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    server = build_server(args.extra_tools, args.page_size)
    if args.transport == "stdio":
        anyio.run(_serve_stdio, server)
    else:
        anyio.run(_serve_http, server, args.transport, args.port or _free_port())


if __name__ == "__main__":
    main()
