"""``agenthost mcp``: MCP over stdio (for Claude Desktop). stdout is the protocol; logs go to stderr.

Alone, it opens the local database and tool layer itself (``open_services``), safe beside a running
``agenthost serve`` on the same SQLite file (WAL, busy timeout, short write transactions). With ``--url``
it bridges to a running server instead, with ``--password`` or LETTA_SERVER_PASSWORD: the agent and memory
tools over REST, and the tool catalogue as that server's ``/mcp`` lists it (``RemoteCatalogue``), so the
bridge offers the same tools as ``/mcp``.
"""

from __future__ import annotations

import argparse
import logging
from typing import Any

import anyio
from mcp.server.stdio import stdio_server

from mcp_server.server import AgentHostMcp

logger = logging.getLogger(__name__)


async def _run(mcp: AgentHostMcp) -> None:
    async with stdio_server() as (read, write), anyio.create_task_group() as tg:
        tg.start_soon(mcp.follow_catalogue)
        await mcp.server.run(read, write, mcp.server.create_initialization_options())
        tg.cancel_scope.cancel()


async def serve(args: argparse.Namespace, settings: Any) -> None:
    from host.version import __version__

    if args.url:
        from mcp_server.remote_catalogue import RemoteCatalogue
        from mcp_server.rest import RestBackend

        password = args.password or settings.server_password
        async with RestBackend.connect(args.url, password) as backend, \
                RemoteCatalogue.connect(args.url, password, args.agent) as catalogue:
            logger.info("agenthost mcp: bridging stdio to %s", args.url)
            await _run(AgentHostMcp(backend, catalogue, default_agent=args.agent, version=__version__))
        return
    from host.app import open_services
    from mcp_server.local import LocalBackend
    from mcp_server.local_catalogue import LocalCatalogue

    settings.home.mkdir(parents=True, exist_ok=True)
    async with open_services(settings) as services:
        await _run(AgentHostMcp(LocalBackend(services), LocalCatalogue(services.catalogue),
                                default_agent=args.agent, version=__version__))


def main(args: argparse.Namespace, settings: Any) -> int:
    from mcp_client import load_sdk

    load_sdk()  # all of it up front, before any thread runs: nothing is gained by deferring it here
    try:
        anyio.run(serve, args, settings)
    except KeyboardInterrupt:
        pass
    return 0
