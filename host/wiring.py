"""Wiring: the running tool layer and the agent loop, built from the core services and the settings.

    SandboxRouter (local | E2B)   custom tools
    McpServerPool                 connected MCP servers (filled by host/services/mcp_servers_lifespan.py)
    ToolDispatcher                routes one call to its source
    ToolCaller                    the one rule-checked call, with the services' ToolContexts injected
    AgentLoop + Runner            the loop gets the services it needs as small protocols (host.agent.ports)
    ToolCatalogue                 the catalogue the MCP server exposes, over the same ToolCaller

The only module that knows both the services and the loop's constructors.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass

from builtin_tools import ComposioClient, ServicesConfig
from host.agent.limits import TurnLimits
from host.agent.locks import AgentLocks
from host.agent.loop import AgentLoop, LoopDeps
from host.agent.runner import Runner
from host.services import CoreServices
from host.services.mcp_servers import McpServerPool
from host.services.provider_traces import ProviderTraceStore
from host.services.telemetry import Telemetry
from host.services.tool_catalogue import ToolCatalogue
from host.services.tool_contexts import ToolContexts
from host.settings import Settings
from host.tools.calls import ToolCaller
from host.tools.dispatcher import ToolDispatcher
from host.tools.sources.custom import SandboxRouter

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ToolLayer:
    sandboxes: SandboxRouter
    mcp: McpServerPool
    dispatcher: ToolDispatcher
    tool_calls: ToolCaller
    catalogue: ToolCatalogue
    runner: Runner
    telemetry: Telemetry
    traces: ProviderTraceStore


def server_tool_env(settings: Settings) -> dict[str, str]:
    """Keys the server hands to built-in tools explicitly (never to sandboxed code)."""
    env = {}
    for key, value in (("TAVILY_API_KEY", settings.tavily_api_key), ("E2B_API_KEY", settings.e2b_api_key),
                       ("COMPOSIO_API_KEY", settings.composio_api_key)):
        if value:
            env[key] = value
    return env


def services_config(settings: Settings) -> ServicesConfig:
    """The endpoints the built-in tools call, from the settings."""
    return ServicesConfig(tavily_base_url=settings.tavily_api_base, e2b_api_url=settings.e2b_api_url,
                          e2b_sandbox_url=settings.e2b_sandbox_url, e2b_template=settings.e2b_sandbox_template_id,
                          composio_base_url=settings.composio_base_url)


@asynccontextmanager
async def open_tool_layer(settings: Settings, core: CoreServices,
                          telemetry: Telemetry | None = None) -> AsyncIterator[ToolLayer]:
    from host.services.sandbox_configs import load_plan, plan_for
    from sandbox import SandboxError

    async with AsyncExitStack() as stack:
        # Custom tools: the local sandbox, or E2B when an e2b sandbox config exists and E2B_API_KEY is set
        # (host/services/sandbox_configs.py). A stored config that cannot start falls back to the settings.
        sandboxes = await stack.enter_async_context(SandboxRouter(withheld=server_tool_env(settings)))
        try:
            await sandboxes.reload(lambda: load_plan(core.db, settings))
        except SandboxError:
            logger.exception("the stored sandbox config cannot start; using the settings' local sandbox")
            await sandboxes.apply(plan_for(settings, None, {}, None, {}))

        # Empty at first: host/services/mcp_servers_lifespan.py adds database servers and watches the config file.
        pool = await stack.enter_async_context(McpServerPool(settings.resolved_mcp_config_path))

        def composio_factory(key: str) -> ComposioClient:
            return ComposioClient(key, settings.composio_base_url)

        dispatcher = ToolDispatcher(sandboxes, mcp=pool, composio_factory=composio_factory)
        contexts = ToolContexts(archival=core.archival, messages=core.messages,
                                services_config=services_config(settings), server_env=server_tool_env(settings))
        caller = ToolCaller(dispatcher, contexts)
        telemetry = telemetry or Telemetry()
        traces = await stack.enter_async_context(ProviderTraceStore(
            core.db, settings.providers, retention_s=settings.provider_trace_retention_s,
            max_bytes=settings.provider_trace_max_bytes, enabled=settings.provider_traces).running())
        locks = AgentLocks(core.db)
        stack.callback(locks.close)  # after the runner below has stopped every turn
        deps = LoopDeps(db=core.db, providers=settings.providers, tools=caller, locks=locks,
                        llm_timeout_s=settings.llm_timeout_s, secrets=core.byok.box,
                        telemetry=telemetry)
        limits = TurnLimits(max_message_chars=settings.limits.max_message_chars,
                            max_input_messages=settings.limits.max_input_messages)
        runner = Runner(AgentLoop(deps), core.runs, core.agents.exists, core.db, limits=limits)
        await stack.enter_async_context(runner.running())
        telemetry.attach(traces=traces, mcp_states=pool.states, runs_in_progress=lambda: runner.in_progress)
        catalogue = ToolCatalogue(core.db, core.tools, core.memory, caller, pool, sandboxes)
        yield ToolLayer(sandboxes=sandboxes, mcp=pool, dispatcher=dispatcher, tool_calls=caller, catalogue=catalogue,
                        runner=runner, telemetry=telemetry, traces=traces)
