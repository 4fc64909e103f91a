"""Prompts (``prompts/list``, ``prompts/get``) and argument completion (``completion/complete``).

Two prompts that start the common conversations with agenthost from an MCP client:

    talk_to_agent(agent_id, message)      hand a message to an agent and relay its answer
    summarize_agent_memory(agent_id)      the agent's core memory blocks, embedded, with a request to summarize

Completion offers agent ids (by id or name prefix) for every ``agent_id`` argument, of the prompts and of
the resource templates, and block labels for ``label`` once ``agent_id`` is known.
"""

from __future__ import annotations

from dataclasses import dataclass

import mcp_types as types
from mcp.shared.exceptions import MCPError

from mcp_server.backend import Backend
from mcp_server.errors import McpServerError
from mcp_server.uris import block_uri

COMPLETION_LIMIT = 100


@dataclass(frozen=True)
class PromptSpec:
    name: str
    title: str
    description: str
    arguments: tuple[types.PromptArgument, ...]


_AGENT_ARG = types.PromptArgument(name="agent_id", description="The agent's id (completion offers them)",
                                  required=True)
PROMPTS = (
    PromptSpec("talk_to_agent", "Talk to an agent",
               "Send a message to one of agenthost's stateful agents and relay its reply; the agent remembers "
               "the conversation.",
               (_AGENT_ARG, types.PromptArgument(name="message", description="What to tell the agent",
                                                 required=True))),
    PromptSpec("summarize_agent_memory", "Summarize an agent's memory",
               "Read an agent's core memory blocks (persona, what it knows about the user, ...) and summarize "
               "what it currently remembers.",
               (_AGENT_ARG,)),
)
_BY_NAME = {p.name: p for p in PROMPTS}


def list_prompts() -> types.ListPromptsResult:
    return types.ListPromptsResult(prompts=[
        types.Prompt(name=p.name, title=p.title, description=p.description, arguments=list(p.arguments))
        for p in PROMPTS])


def _text(role: str, text: str) -> types.PromptMessage:
    return types.PromptMessage(role=role, content=types.TextContent(type="text", text=text))  # type: ignore[arg-type]


async def get_prompt(backend: Backend, name: str, arguments: dict[str, str] | None) -> types.GetPromptResult:
    spec = _BY_NAME.get(name)
    if spec is None:
        raise MCPError(types.INVALID_PARAMS, f"Unknown prompt {name!r}; prompts/list gives {', '.join(_BY_NAME)}")
    args = dict(arguments or {})
    missing = [a.name for a in spec.arguments if a.required and not str(args.get(a.name) or "").strip()]
    if missing:
        raise MCPError(types.INVALID_PARAMS, f"Prompt {name!r} needs argument(s): {', '.join(missing)}")
    try:
        agent = await backend.get_agent(args["agent_id"])
        blocks = await backend.blocks(agent.id) if name == "summarize_agent_memory" else []
    except McpServerError as exc:  # e.g. an unknown agent: an error naming it
        raise MCPError(types.INVALID_PARAMS, exc.message) from None
    if name == "talk_to_agent":
        return types.GetPromptResult(description=spec.description, messages=[_text("user", (
            f"Use the send_message_to_agent tool to tell agenthost agent \"{agent.name}\" (id {agent.id}) the "
            f"following, then relay its reply to me:\n\n{args['message']}"))])
    messages = [_text("user", f"These are the core memory blocks of agenthost agent \"{agent.name}\" "
                              f"(id {agent.id}).")]
    for block in blocks:
        messages.append(types.PromptMessage(role="user", content=types.EmbeddedResource(
            type="resource", resource=types.TextResourceContents(
                uri=block_uri(agent.id, block.label), mime_type="text/plain", text=block.value))))
    messages.append(_text("user", "Summarize what this agent currently remembers, block by block, in a few "
                                  "sentences. Point out anything that looks outdated or contradictory."))
    return types.GetPromptResult(description=spec.description, messages=messages)


async def complete(backend: Backend, params: types.CompleteRequestParams) -> types.CompleteResult:
    """Values for an ``agent_id`` or ``label`` argument, by prefix; nothing for anything else."""
    name, prefix = params.argument.name, params.argument.value or ""
    context = dict((params.context.arguments if params.context else None) or {})
    values: list[str] = []
    if name == "agent_id":
        agents = await backend.list_agents(None, COMPLETION_LIMIT)
        values = [a.id for a in agents if a.id.startswith(prefix) or a.name.lower().startswith(prefix.lower())]
    elif name == "label" and context.get("agent_id"):
        try:
            blocks = await backend.blocks(context["agent_id"])
        except McpServerError:
            blocks = []
        values = [b.label for b in blocks if b.label.startswith(prefix)]
    return types.CompleteResult(completion=types.Completion(values=values[:COMPLETION_LIMIT], total=len(values),
                                                            has_more=len(values) > COMPLETION_LIMIT))


__all__ = ["PROMPTS", "complete", "get_prompt", "list_prompts"]
