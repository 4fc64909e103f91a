"""The agent and memory tools: names, descriptions and input schemas written for a model, and their handlers.

Each handler takes the validated arguments and a ``ToolCall`` (the backend, the connection's agent scope,
a progress callback) and returns a ``ToolAnswer``: text for the model, plus the resource URIs it changed.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from mcp_server.backend import Backend, ProgressFn
from mcp_server.errors import ToolFailure
from mcp_server.uris import block_uri, history_uri


@dataclass
class ToolCall:
    backend: Backend
    scope_agent: str | None = None
    progress: ProgressFn | None = None


@dataclass
class ToolAnswer:
    text: str
    changed: list[str] = field(default_factory=list)


Handler = Callable[[dict[str, Any], ToolCall], Awaitable[ToolAnswer]]


@dataclass(frozen=True)
class AgentTool:
    name: str
    description: str
    properties: dict[str, Any]
    required: tuple[str, ...]
    handler: Handler
    read_only: bool = False

    def input_schema(self, scoped: bool) -> dict[str, Any]:
        required = [r for r in self.required if not (scoped and r == "agent_id")]
        props = dict(self.properties)
        if scoped and "agent_id" in props:
            props["agent_id"] = {**props["agent_id"], "description": props["agent_id"]["description"]
                                 + " Defaults to the agent this connection is scoped to."}
        return {"type": "object", "properties": props, "required": required, "additionalProperties": False}


def _dump(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)


def _str(args: dict[str, Any], key: str, call: ToolCall | None = None, *, default: str | None = None) -> str:
    value = args.get(key)
    if value is None and key == "agent_id" and call is not None and call.scope_agent:
        return call.scope_agent
    if value is None and default is not None:
        return default
    if not isinstance(value, str) or not value:
        raise ToolFailure(f"`{key}` is required and must be a non-empty string")
    return value


def _int(args: dict[str, Any], key: str, default: int, lo: int, hi: int) -> int:
    value = args.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= hi:
        raise ToolFailure(f"`{key}` must be an integer from {lo} to {hi}")
    return value


AGENT_ID = {"type": "string", "description": "The agent's id, like 'agent-1234abcd-...' (see list_agents)."}
LABEL = {"type": "string", "description": "The memory block's label, e.g. 'persona' or 'human'."}


async def _list_agents(args: dict[str, Any], call: ToolCall) -> ToolAnswer:
    query = args.get("query") if isinstance(args.get("query"), str) else None
    agents = await call.backend.list_agents(query, _int(args, "limit", 50, 1, 200))
    if not agents:
        return ToolAnswer("No agents found." + ("" if query else " Create one with create_agent."))
    return ToolAnswer(_dump([a.summary() for a in agents]))


async def _create_agent(args: dict[str, Any], call: ToolCall) -> ToolAnswer:
    agent = await call.backend.create_agent(
        name=args.get("name") or None, model=args.get("model") or None,
        persona=_str(args, "persona", default="I am a helpful assistant with a persistent memory."),
        human=_str(args, "human", default="Nothing is known about the user yet."),
        description=args.get("description") or None, include_base_tools=True)
    return ToolAnswer(_dump(agent.detail()))


async def _get_agent(args: dict[str, Any], call: ToolCall) -> ToolAnswer:
    return ToolAnswer(_dump((await call.backend.get_agent(_str(args, "agent_id", call))).detail()))


async def _send_message(args: dict[str, Any], call: ToolCall) -> ToolAnswer:
    agent_id = _str(args, "agent_id", call)
    before = {b.label: b.value for b in await call.backend.blocks(agent_id)}
    reply = await call.backend.send_message(agent_id, _str(args, "message"), call.progress)
    after = {b.label: b.value for b in await call.backend.blocks(agent_id)}
    changed = [block_uri(agent_id, label) for label, value in after.items() if before.get(label) != value]
    return ToolAnswer(reply.render(), changed + [history_uri(agent_id)])


async def _list_groups(args: dict[str, Any], call: ToolCall) -> ToolAnswer:
    groups = await call.backend.list_groups()
    if not groups:
        return ToolAnswer("No groups found. Create one with POST /v1/groups.")
    return ToolAnswer(_dump([{k: g.get(k) for k in ("id", "description", "manager_type", "agent_ids",
                                                     "manager_agent_id")} for g in groups]))


async def _send_group_message(args: dict[str, Any], call: ToolCall) -> ToolAnswer:
    reply = await call.backend.send_group_message(_str(args, "group_id"), _str(args, "message"))
    return ToolAnswer(reply.render())


async def _read_blocks(args: dict[str, Any], call: ToolCall) -> ToolAnswer:
    agent_id = _str(args, "agent_id", call)
    label = args.get("label")
    if isinstance(label, str) and label:
        return ToolAnswer(_dump((await call.backend.block(agent_id, label)).as_json()))
    return ToolAnswer(_dump([b.as_json() for b in await call.backend.blocks(agent_id)]))


async def _writable(call: ToolCall, agent_id: str, label: str) -> str:
    block = await call.backend.block(agent_id, label)
    if block.read_only:
        raise ToolFailure(f"Block {label!r} of agent {agent_id} is read-only")
    return block.value


async def _replace_block(args: dict[str, Any], call: ToolCall) -> ToolAnswer:
    agent_id, label = _str(args, "agent_id", call), _str(args, "label")
    new_text = args.get("new_text")
    if not isinstance(new_text, str):
        raise ToolFailure("`new_text` is required and must be a string (use '' to delete old_text)")
    current = await _writable(call, agent_id, label)
    old_text = args.get("old_text")
    if isinstance(old_text, str) and old_text:
        if old_text not in current:
            raise ToolFailure(f"old_text was not found in block {label!r}; read the block first and copy the text "
                              "exactly")
        value = current.replace(old_text, new_text)
    else:
        value = new_text
    block = await call.backend.set_block(agent_id, label, value)
    return ToolAnswer(_dump(block.as_json()), [block_uri(agent_id, label)])


async def _append_block(args: dict[str, Any], call: ToolCall) -> ToolAnswer:
    agent_id, label, text = _str(args, "agent_id", call), _str(args, "label"), _str(args, "text")
    current = await _writable(call, agent_id, label)
    block = await call.backend.set_block(agent_id, label, (current + "\n" + text) if current else text)
    return ToolAnswer(_dump(block.as_json()), [block_uri(agent_id, label)])


async def _archival_insert(args: dict[str, Any], call: ToolCall) -> ToolAnswer:
    tags = args.get("tags")
    if tags is not None and not (isinstance(tags, list) and all(isinstance(t, str) for t in tags)):
        raise ToolFailure("`tags` must be a list of strings")
    passage_id = await call.backend.archival_insert(_str(args, "agent_id", call), _str(args, "text"), tags)
    return ToolAnswer(_dump({"inserted": passage_id}))


async def _archival_search(args: dict[str, Any], call: ToolCall) -> ToolAnswer:
    hits = await call.backend.archival_search(_str(args, "agent_id", call), _str(args, "query"),
                                              _int(args, "top_k", 5, 1, 50))
    return ToolAnswer(_dump(hits) if hits else "No archival memories matched.")


async def _history_search(args: dict[str, Any], call: ToolCall) -> ToolAnswer:
    hits = await call.backend.search_history(_str(args, "agent_id", call), _str(args, "query"),
                                             _int(args, "limit", 10, 1, 100))
    return ToolAnswer(_dump(hits) if hits else "No messages matched.")


async def _list_tools(args: dict[str, Any], call: ToolCall) -> ToolAnswer:
    return ToolAnswer(_dump(await call.backend.list_tools()))


async def _run_tool(args: dict[str, Any], call: ToolCall) -> ToolAnswer:
    tool_args = args.get("args") or {}
    env = args.get("env") or {}
    pip = args.get("pip_requirements") or []
    if not isinstance(tool_args, dict) or not isinstance(env, dict) or not isinstance(pip, list):
        raise ToolFailure("`args` and `env` must be objects and `pip_requirements` a list of strings")
    outcome = await call.backend.run_tool(_str(args, "source_code"), tool_args,
                                          {str(k): str(v) for k, v in env.items()}, [str(p) for p in pip])
    if outcome.status != "success":
        raise ToolFailure("The tool failed: " + outcome.render())
    return ToolAnswer(outcome.render())


AGENT_TOOLS: tuple[AgentTool, ...] = (
    AgentTool("list_agents", "List the stateful agents on this agenthost server (id, name, model, memory block "
              "labels). Use it to find an agent_id.",
              {"query": {"type": "string", "description": "Only agents whose name contains this text."},
               "limit": {"type": "integer", "minimum": 1, "maximum": 200, "default": 50}}, (), _list_agents, True),
    AgentTool("create_agent", "Create a new stateful agent with a persistent memory (a 'persona' block for who the "
              "agent is and a 'human' block for what it knows about the user) and the standard memory tools. "
              "Returns the new agent, including its id.",
              {"name": {"type": "string", "description": "A short name for the agent."},
               "persona": {"type": "string", "description": "Who the agent is and how it behaves."},
               "human": {"type": "string", "description": "What the agent knows about the user."},
               "model": {"type": "string", "description": "Model handle such as 'openai/gpt-4o-mini'; default: "
                                                          "the server's first configured model."},
               "description": {"type": "string"}}, (), _create_agent),
    AgentTool("get_agent", "Show one agent: its model, tools and memory blocks (with their current values).",
              {"agent_id": AGENT_ID}, ("agent_id",), _get_agent, True),
    AgentTool("send_message_to_agent", "Send a user message to an agent and wait for its reply. The agent thinks, "
              "may call tools and edit its memory, then answers. Returns the agent's reply text and a summary of "
              "the tool calls it made. Progress is reported while it works.",
              {"agent_id": AGENT_ID, "message": {"type": "string", "description": "The message, as the user."}},
              ("agent_id", "message"), _send_message),
    AgentTool("list_groups", "List the multi-agent groups on this server (id, description, manager type, member "
              "agent ids). Use it to find a group_id.", {}, (), _list_groups, True),
    AgentTool("send_message_to_group", "Send a user message to a multi-agent group and wait until the group has "
              "answered: its members speak as the group's manager decides (round robin, supervisor, dynamic, "
              "sleep-time). Returns the members' replies in order.",
              {"group_id": {"type": "string", "description": "The group's id, like 'group-1234abcd-...' (see "
                                                            "list_groups)."},
               "message": {"type": "string", "description": "The message, as the user."}},
              ("group_id", "message"), _send_group_message),
    AgentTool("read_memory_blocks", "Read an agent's core memory blocks (always in its context window): each "
              "block's label, value, size and limit. Give `label` to read a single block.",
              {"agent_id": AGENT_ID, "label": LABEL}, ("agent_id",), _read_blocks, True),
    AgentTool("replace_memory_block", "Change an agent's memory block. With `old_text`, replace that exact text "
              "in the block with `new_text`; without it, replace the whole block with `new_text`.",
              {"agent_id": AGENT_ID, "label": LABEL,
               "new_text": {"type": "string", "description": "The replacement text."},
               "old_text": {"type": "string", "description": "Exact text currently in the block to replace."}},
              ("agent_id", "label", "new_text"), _replace_block),
    AgentTool("append_memory_block", "Append a line of text to the end of an agent's memory block.",
              {"agent_id": AGENT_ID, "label": LABEL, "text": {"type": "string", "description": "Text to add."}},
              ("agent_id", "label", "text"), _append_block),
    AgentTool("insert_archival_memory", "Store a passage in an agent's archival memory (long-term, searchable, "
              "not always in context).",
              {"agent_id": AGENT_ID, "text": {"type": "string", "description": "The passage to store."},
               "tags": {"type": "array", "items": {"type": "string"}, "description": "Optional tags."}},
              ("agent_id", "text"), _archival_insert),
    AgentTool("search_archival_memory", "Search an agent's archival memory by meaning and keywords; best matches "
              "first.",
              {"agent_id": AGENT_ID, "query": {"type": "string", "description": "What to look for."},
               "top_k": {"type": "integer", "minimum": 1, "maximum": 50, "default": 5}},
              ("agent_id", "query"), _archival_search, True),
    AgentTool("search_conversation_history", "Search an agent's past conversation (all messages, also those no "
              "longer in its context window) for text; newest first.",
              {"agent_id": AGENT_ID, "query": {"type": "string", "description": "Text to find."},
               "limit": {"type": "integer", "minimum": 1, "maximum": 100, "default": 10}},
              ("agent_id", "query"), _history_search, True),
    AgentTool("list_tools", "List the tools registered on the server (built-in, custom Python, MCP, Composio) "
              "that agents can use.", {}, (), _list_tools, True),
    AgentTool("run_tool_code", "Run a Python tool function in the server's sandbox and return its result (like "
              "POST /v1/tools/run). `source_code` defines the function (the last one defined is called) with a "
              "docstring; `args` are its keyword arguments.",
              {"source_code": {"type": "string", "description": "Python source defining the function."},
               "args": {"type": "object", "description": "Keyword arguments for the function."},
               "env": {"type": "object", "additionalProperties": {"type": "string"},
                       "description": "Environment variables for the run."},
               "pip_requirements": {"type": "array", "items": {"type": "string"},
                                    "description": "Packages to install first, e.g. ['requests==2.32.3']."}},
              ("source_code",), _run_tool),
)

BY_NAME = {t.name: t for t in AGENT_TOOLS}

__all__ = ["AGENT_TOOLS", "AgentTool", "BY_NAME", "ToolAnswer", "ToolCall"]
