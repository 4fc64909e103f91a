"""Letta's multi-agent tools over ``AgentMessengerPort``.

Chains of agents messaging agents are bounded by ``ToolContext.call_depth``: a run at
depth ``services.max_call_depth`` or deeper may not message further agents. Fan-out to
tagged agents runs concurrently in one task group, each reply bounded by the reply
timeout, at most ``services.fanout_limit`` at a time.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import anyio

from builtin_tools.errors import UnknownAgentError
from builtin_tools.ports import AgentMessengerPort, ToolContext
from builtin_tools.schemas import BuiltinTool, ToolOutput, make_schema

logger = logging.getLogger(__name__)

# Slack beyond the port's own timeout before the tool stops waiting for a port that overran it.
_PORT_GRACE_FACTOR = 1.1
_PORT_GRACE_S = 0.5


def _frame_wait(sender: str, message: str) -> str:
    return (
        f"[Incoming message from agent with ID '{sender}'. Your final send_message reply will be "
        f"returned to that agent.] {message}"
    )


def _frame_async(sender: str, message: str) -> str:
    return (
        f"[Incoming message from agent with ID '{sender}'. To answer it, use the "
        f"send_message_to_agent_async tool with other_agent_id='{sender}'; otherwise the sender "
        f"will not receive your reply.] {message}"
    )


def _preflight(ctx: ToolContext, target: str | None = None) -> tuple[AgentMessengerPort | None, ToolOutput | None]:
    if ctx.messenger is None:
        return None, ToolOutput.error("Messaging other agents is not available on this server.")
    limit = ctx.services.max_call_depth
    if ctx.call_depth >= limit:
        return None, ToolOutput.error(
            f"This message chain between agents is too deep: this run is already {ctx.call_depth} "
            f"agent-to-agent hop(s) from the user (limit {limit}). Answer with what you have instead "
            "of messaging another agent."
        )
    if target is not None and target == ctx.agent_id:
        return None, ToolOutput.error(
            f"other_agent_id {target!r} is your own id: you cannot message yourself. "
            "Use the id of another agent."
        )
    return ctx.messenger, None


async def _wait_reply(messenger: AgentMessengerPort, target: str, text: str, ctx: ToolContext) -> str | None:
    timeout = ctx.services.agent_reply_timeout_s
    with anyio.move_on_after(timeout * _PORT_GRACE_FACTOR + _PORT_GRACE_S):
        return await messenger.send_and_wait(
            target, text, ctx.agent_id, timeout, call_depth=ctx.call_depth + 1
        )
    return None


async def _send_and_wait(args: dict[str, Any], ctx: ToolContext) -> ToolOutput:
    target: str = args["other_agent_id"]
    messenger, refusal = _preflight(ctx, target)
    if refusal is not None:
        return refusal
    assert messenger is not None
    try:
        reply = await _wait_reply(messenger, target, _frame_wait(ctx.agent_id, args["message"]), ctx)
    except UnknownAgentError:
        return ToolOutput.error(f"No agent with id {target!r} exists. Check other_agent_id.")
    if reply is None:
        return ToolOutput.error(
            f"Agent {target!r} did not reply within {ctx.services.agent_reply_timeout_s:g} seconds. "
            "The message was delivered, but no answer came back; continue without it or try again later."
        )
    return ToolOutput.success(reply)


async def _send_async(args: dict[str, Any], ctx: ToolContext) -> ToolOutput:
    target: str = args["other_agent_id"]
    messenger, refusal = _preflight(ctx, target)
    if refusal is not None:
        return refusal
    assert messenger is not None
    try:
        with anyio.fail_after(ctx.services.http_timeout_s):
            receipt = await messenger.send_async(
                target, _frame_async(ctx.agent_id, args["message"]), ctx.agent_id, call_depth=ctx.call_depth + 1
            )
    except UnknownAgentError:
        return ToolOutput.error(f"No agent with id {target!r} exists. Check other_agent_id.")
    except TimeoutError:
        return ToolOutput.error(f"Delivering the message to agent {target!r} timed out; try again later.")
    return ToolOutput.success(
        f"Message delivered to agent {target!r} (receipt {receipt}). Its reply, if any, will arrive "
        "later as a new message."
    )


async def _matching_agents(messenger: AgentMessengerPort, match_all: list[str], match_some: list[str]) -> list[str]:
    candidates: list[str] | None = None
    if match_all:
        candidates = await messenger.find_agents(match_all, True)
    if match_some:
        some = await messenger.find_agents(match_some, False)
        candidates = some if candidates is None else [a for a in candidates if a in set(some)]
    return list(dict.fromkeys(candidates or []))


async def _fan_out(ctx: ToolContext, messenger: AgentMessengerPort, targets: list[str], message: str) -> ToolOutput:
    replies: dict[str, dict[str, Any]] = {}
    limiter = anyio.CapacityLimiter(max(1, ctx.services.fanout_limit))
    text = _frame_wait(ctx.agent_id, message)

    async def ask(target: str) -> None:
        async with limiter:
            try:
                reply = await _wait_reply(messenger, target, text, ctx)
            except UnknownAgentError:
                replies[target] = {"agent_id": target, "status": "error", "reply": "agent no longer exists"}
                return
        if reply is None:
            replies[target] = {
                "agent_id": target,
                "status": "no_reply",
                "reply": f"no reply within {ctx.services.agent_reply_timeout_s:g} seconds",
            }
        else:
            replies[target] = {"agent_id": target, "status": "replied", "reply": reply}

    async with anyio.create_task_group() as tg:
        for target in targets:
            tg.start_soon(ask, target)
    ordered = [replies[t] for t in targets]
    answered = sum(1 for r in ordered if r["status"] == "replied")
    header = f"{answered} of {len(ordered)} matching agent(s) replied."
    return ToolOutput.success(header + "\n" + json.dumps(ordered, ensure_ascii=False, indent=1))


async def _send_matching_tags(args: dict[str, Any], ctx: ToolContext) -> ToolOutput:
    match_all: list[str] = args.get("match_all") or []
    match_some: list[str] = args.get("match_some") or []
    if not match_all and not match_some:
        return ToolOutput.error("Give at least one tag in match_all or match_some to choose the recipients.")
    return await _to_tagged(ctx, args["message"], match_all, match_some)


async def _send_matching_all_tags(args: dict[str, Any], ctx: ToolContext) -> ToolOutput:
    tags: list[str] = args["tags"]
    if not tags:
        return ToolOutput.error("tags is empty: give at least one tag the recipients must all have.")
    return await _to_tagged(ctx, args["message"], tags, [])


async def _to_tagged(ctx: ToolContext, message: str, match_all: list[str], match_some: list[str]) -> ToolOutput:
    messenger, refusal = _preflight(ctx)
    if refusal is not None:
        return refusal
    assert messenger is not None
    targets = [a for a in await _matching_agents(messenger, match_all, match_some) if a != ctx.agent_id]
    if not targets:
        return ToolOutput.error(
            f"No other agent matches match_all={match_all} and match_some={match_some}. "
            "Check the tags; the message was not sent."
        )
    return await _fan_out(ctx, messenger, targets, message)


async def _send_to_group(args: dict[str, Any], ctx: ToolContext) -> ToolOutput:
    messenger, refusal = _preflight(ctx)
    if refusal is not None:
        return refusal
    assert messenger is not None
    members = getattr(messenger, "group_members", None)
    targets = [a for a in (await members(ctx.agent_id) if members else []) if a != ctx.agent_id]
    if not targets:
        return ToolOutput.error("You manage no group with members: there is no one to message.")
    return await _fan_out(ctx, messenger, targets, args["message"])


_MESSAGE_ONE = {"type": "string", "description": "The content of the message to be sent to the target agent."}
_TARGET = {"type": "string", "description": "The unique identifier of the target Letta agent."}
_MESSAGE_MANY = {"type": "string", "description": "The content of the message to be sent to each matching agent."}
_TAG_LIST = {"type": "array", "items": {"type": "string"}}


def _multi(name: str, description: str, props: dict, required: list[str], impl) -> BuiltinTool:
    return BuiltinTool(
        name=name,
        tool_type="letta_multi_agent_core",
        tags=("letta_multi_agent_core",),
        description=description,
        json_schema=make_schema(name, description, props, required),
        impl=impl,
    )


MULTI_AGENT_TOOLS: tuple[BuiltinTool, ...] = (
    _multi(
        "send_message_to_agent_and_wait_for_reply",
        "Send a message to another agent by id and wait for its reply, which this tool returns.",
        {"message": _MESSAGE_ONE, "other_agent_id": _TARGET},
        ["message", "other_agent_id"],
        _send_and_wait,
    ),
    _multi(
        "send_message_to_agent_async",
        "Send a message to another agent by id without waiting. Its reply, if it sends one, arrives "
        "later as a new incoming message.",
        {"message": _MESSAGE_ONE, "other_agent_id": _TARGET},
        ["message", "other_agent_id"],
        _send_async,
    ),
    _multi(
        "send_message_to_agents_matching_tags",
        "Send a message to every other agent that has all tags in match_all and at least one tag in "
        "match_some, and return their replies.",
        {
            "message": _MESSAGE_MANY,
            "match_all": {**_TAG_LIST, "description": "A list of tags that an agent must possess to receive the message."},
            "match_some": {
                **_TAG_LIST,
                "description": "A list of tags where an agent must have at least one to qualify.",
            },
        },
        ["message", "match_all", "match_some"],
        _send_matching_tags,
    ),
    _multi(
        "send_message_to_agents_matching_all_tags",
        "Send a message to every other agent that has all the given tags, and return their replies.",
        {
            "message": _MESSAGE_MANY,
            "tags": {**_TAG_LIST, "description": "Tags that an agent must all possess to receive the message."},
        },
        ["message", "tags"],
        _send_matching_all_tags,
    ),
    _multi(
        "send_message_to_all_agents_in_group",
        "Send a message to every agent in the group you supervise, and return their replies.",
        {"message": _MESSAGE_MANY},
        ["message"],
        _send_to_group,
    ),
)
