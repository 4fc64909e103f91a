"""The running tool layer: sandbox backends, the MCP client pool, the dispatcher and the agent runner."""

from __future__ import annotations

import logging
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import Any, AsyncIterator

from builtin_tools import ServicesConfig

from host.agent.locks import AgentLocks
from host.agent.loop import AgentLoop, LoopDeps
from host.agent.messenger import AgentMessenger
from host.agent.runner import Runner
from host.services.mcp_servers import GatewayPool
from host.settings import Settings
from host.tools.dispatcher import ToolDispatcher
from host.tools.sources.custom import SandboxRouter

logger = logging.getLogger(__name__)


@dataclass
class ToolLayer:
    sandboxes: SandboxRouter
    mcp: Any
    dispatcher: ToolDispatcher
    runner: Runner


def server_tool_env(settings: Settings) -> dict[str, str]:
    """Keys the server hands to built-in tools explicitly (never to sandboxed code)."""
    env = {}
    for key, value in (("TAVILY_API_KEY", settings.tavily_api_key), ("E2B_API_KEY", settings.e2b_api_key),
                       ("COMPOSIO_API_KEY", settings.composio_api_key)):
        if value:
            env[key] = value
    return env


@asynccontextmanager
async def open_tool_layer(settings: Settings, core: dict[str, Any]) -> AsyncIterator[ToolLayer]:
    from host.services.sandbox_configs import load_plan, plan_for
    from sandbox import SandboxError

    async with AsyncExitStack() as stack:
        # Custom tools: the local sandbox, or E2B when an e2b sandbox config exists and E2B_API_KEY is set
        # (host/services/sandbox_configs.py). A stored config that cannot start falls back to the settings.
        sandboxes = await stack.enter_async_context(SandboxRouter(withheld=server_tool_env(settings)))
        try:
            await sandboxes.reload(lambda: load_plan(core["db"], settings))
        except SandboxError:
            logger.exception("the stored sandbox config cannot start; using the settings' local sandbox")
            await sandboxes.apply(plan_for(settings, None, {}, None, {}))

        # Empty at first: host/services/mcp_servers_lifespan.py adds database servers and watches the config file.
        pool = await stack.enter_async_context(GatewayPool(settings.resolved_mcp_config_path))

        from builtin_tools import ComposioGateway

        def composio_factory(key: str) -> Any:
            return ComposioGateway(key, settings.composio_base_url)

        dispatcher = ToolDispatcher(sandboxes, mcp=pool, composio_factory=composio_factory)
        db = core["db"]
        services_config = ServicesConfig(tavily_base_url=settings.tavily_api_base, e2b_api_url=settings.e2b_api_url,
                                         e2b_sandbox_url=settings.e2b_sandbox_url,
                                         e2b_template=settings.e2b_sandbox_template_id,
                                         composio_base_url=settings.composio_base_url)
        holder: dict[str, Any] = {}
        deps = LoopDeps(db=db, providers=settings.providers, dispatcher=dispatcher, archival=core["archival"],
                        messages=core["messages"], locks=AgentLocks(db), services_config=services_config,
                        server_env=server_tool_env(settings),
                        messenger_factory=lambda depth: holder.get("messenger"),
                        llm_timeout_s=settings.llm_timeout_s)
        runner = Runner(AgentLoop(deps), core["runs"], core["agents"].exists)
        await stack.enter_async_context(runner.running())
        holder["messenger"] = AgentMessenger(db, runner, runner._tg)
        yield ToolLayer(sandboxes=sandboxes, mcp=pool, dispatcher=dispatcher, runner=runner)
