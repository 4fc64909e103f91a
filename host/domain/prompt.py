"""The system prompt: base instructions, memory blocks and memory statistics, compiled into one message.

Recompiled whenever memory changes, so the model always sees its current core memory.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

DEFAULT_SYSTEM = """You are a stateful agent with a persistent memory, hosted by agenthost.
You talk with a user through the send_message tool: text you write outside send_message is private
reasoning that the user never sees. Always answer the user with send_message.

Your memory has three parts:
- Core memory: the blocks below, always in your context. Keep them accurate and concise with the memory
  tools (core_memory_append, core_memory_replace and friends). Each block has a character limit.
- Recall memory: the whole conversation history, searchable with conversation_search, even after older
  messages have left your context window.
- Archival memory: a long-term store of passages, written with archival_memory_insert and searched with
  archival_memory_search. Use it for facts that do not fit in core memory.

After calling a tool that is not send_message, set request_heartbeat to true if you need to act again
(for example to answer the user with what the tool returned)."""


V1_AGENT_TYPE = "letta_v1_agent"  # the loop without send_message or heartbeats (1.x clients' default)

DEFAULT_SYSTEM_V1 = """You are a stateful agent with a persistent memory, hosted by agenthost.
Answer the user in plain text: what you write is what the user reads. Call tools when you need them;
after each tool call you see its result and may call more tools. Your turn ends when you answer without
calling a tool.

Your memory has two parts you manage:
- Core memory: the blocks below, always in your context. Keep them accurate and concise with
  memory_insert and memory_replace. Each block has a character limit.
- Recall memory: the whole conversation history, searchable with conversation_search, even after older
  messages have left your context window."""


class BlockLike(Protocol):
    @property
    def label(self) -> str | None: ...
    @property
    def value(self) -> str: ...
    @property
    def limit(self) -> int: ...
    @property
    def description(self) -> str | None: ...
    @property
    def read_only(self) -> bool: ...


@dataclass(frozen=True)
class MemoryStats:
    recall_count: int
    archival_count: int
    last_modified: datetime | None = None


def render_blocks(blocks: Iterable[BlockLike]) -> str:
    parts = ["<memory_blocks>", "The following memory blocks are currently engaged in your core memory:", ""]
    for block in blocks:
        label = block.label or "block"
        parts.append(f"<{label}>")
        parts.append("<description>")
        parts.append(block.description or "")
        parts.append("</description>")
        parts.append("<metadata>")
        if block.read_only:
            parts.append("- read_only=true")
        parts.append(f"- chars_current={len(block.value)}")
        parts.append(f"- chars_limit={block.limit}")
        parts.append("</metadata>")
        parts.append("<value>")
        parts.append(block.value)
        parts.append("</value>")
        parts.append(f"</{label}>")
        parts.append("")
    parts.append("</memory_blocks>")
    return "\n".join(parts)


def render_stats(stats: MemoryStats) -> str:
    modified = stats.last_modified.strftime("%Y-%m-%d %I:%M:%S %p UTC+0000") if stats.last_modified else "never"
    return (
        "<memory_metadata>\n"
        f"- The current time is: {datetime.utcnow().strftime('%Y-%m-%d %I:%M %p')} UTC+0000\n"
        f"- Memory blocks were last modified: {modified}\n"
        f"- {stats.recall_count} previous messages between you and the user are stored in recall memory "
        "(use tools to access them)\n"
        f"- {stats.archival_count} total memories you created are stored in archival memory "
        "(use tools to access them)\n"
        "</memory_metadata>"
    )


def compile_system_prompt(
    system: str, blocks: Iterable[BlockLike], stats: MemoryStats, rule_guidance: str | None = None
) -> str:
    sections = [f"<base_instructions>\n{system or DEFAULT_SYSTEM}\n</base_instructions>", render_stats(stats),
                render_blocks(blocks)]
    if rule_guidance:
        sections.append(f"<tool_usage_rules>\n{rule_guidance}\n</tool_usage_rules>")
    return "\n\n".join(sections)
