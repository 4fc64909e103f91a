"""Row -> domain/wire conversions. The only place that knows both shapes."""

from __future__ import annotations

from typing import Any, Protocol

from host.domain.messages import StoredMessage, ToolCallRecord, ToolReturnRecord
from host.persistence.models import BlockRow, MessageRow, PassageRow, ToolRow
from host.schemas.blocks import Block
from host.schemas.passages import Passage
from host.schemas.tools import Tool
from host.storable import storable


class BlockColumns(Protocol):
    """A block's columns, read plainly (host.services.block_cache.BlockView). A BlockRow has them too, but
    pyright cannot match its ``Mapped`` descriptors to a protocol (pyright#11021): block_out names both."""

    @property
    def id(self) -> str: ...
    @property
    def value(self) -> str: ...
    @property
    def limit(self) -> int: ...
    @property
    def name(self) -> str | None: ...
    @property
    def is_template(self) -> bool: ...
    @property
    def preserve_on_migration(self) -> bool: ...
    @property
    def label(self) -> str: ...
    @property
    def read_only(self) -> bool: ...
    @property
    def description(self) -> str | None: ...
    @property
    def metadata_(self) -> dict[str, Any] | None: ...


def block_out(row: BlockRow | BlockColumns) -> Block:
    return Block(
        id=row.id,
        value=row.value,
        limit=row.limit,
        name=row.name,
        is_template=row.is_template,
        preserve_on_migration=row.preserve_on_migration,
        label=row.label,
        read_only=row.read_only,
        description=row.description,
        metadata=row.metadata_ or {},
    )


def tool_out(row: ToolRow) -> Tool:
    return Tool(
        id=row.id,
        tool_type=row.tool_type,
        description=row.description,
        source_type=row.source_type,
        name=row.name,
        tags=list(row.tags or []),
        source_code=row.source_code,
        json_schema=row.json_schema,
        args_json_schema=row.args_json_schema,
        return_char_limit=row.return_char_limit,
        pip_requirements=row.pip_requirements,
        created_by_id="user-00000000-0000-4000-8000-000000000000",
        last_updated_by_id="user-00000000-0000-4000-8000-000000000000",
        metadata_=row.metadata_ or {},
    )


def passage_out(row: PassageRow, *, include_embedding: bool = True) -> Passage:
    return Passage(
        id=row.id,
        agent_id=row.agent_id,
        source_id=row.source_id,
        file_id=row.file_id,
        file_name=row.file_name,
        text=row.text,
        embedding=row.embedding if include_embedding else None,
        embedding_config=row.embedding_config,
        metadata=row.metadata_ or {},
        tags=row.tags,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def message_out(row: MessageRow) -> StoredMessage:
    ret = None
    if row.tool_returns:
        first = row.tool_returns[0]
        ret = ToolReturnRecord(status=first.get("status", "success"), stdout=first.get("stdout"),
                               stderr=first.get("stderr"), raw=first.get("func_response"))
    return StoredMessage(
        id=row.id,
        agent_id=row.agent_id,
        role=row.role,  # type: ignore[arg-type]
        text=row.text,
        name=row.name,
        tool_calls=[ToolCallRecord(id=c["id"], name=c["name"], arguments=c.get("arguments", "")) for c in
                    (row.tool_calls or [])],
        tool_call_id=row.tool_call_id,
        tool_return=ret,
        model=row.model,
        sender_id=row.sender_id,
        otid=row.otid,
        step_id=row.step_id,
        run_id=row.run_id,
        group_id=row.group_id,
        created_at=row.created_at,
        seq=row.seq,
        thinking_blocks=_thinking_of(row.content),
    )


# Signed reasoning is kept in ``content`` as Letta keeps it: {"type": "reasoning", "is_native": true,
# "reasoning", "signature"} and {"type": "redacted_reasoning", "data"} parts, before the text part.
def _content(msg: StoredMessage) -> list[dict[str, Any]] | None:
    parts: list[dict[str, Any]] = []
    for block in msg.thinking_blocks:
        if block.get("type") == "redacted_thinking":
            parts.append({"type": "redacted_reasoning", "data": block.get("data")})
        else:
            parts.append({"type": "reasoning", "is_native": True, "reasoning": block.get("thinking", ""),
                          "signature": block.get("signature")})
    if msg.text is not None:
        parts.append({"type": "text", "text": msg.text})
    return parts or None


def _thinking_of(content: Any) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    for part in content if isinstance(content, list) else []:
        kind = part.get("type") if isinstance(part, dict) else None
        if kind == "reasoning" and part.get("is_native") and part.get("signature"):
            blocks.append({"type": "thinking", "thinking": part.get("reasoning") or "", "signature": part["signature"]})
        elif kind == "redacted_reasoning" and part.get("data"):
            blocks.append({"type": "redacted_thinking", "data": part["data"]})
    return blocks


def message_row(msg: StoredMessage) -> MessageRow:
    return MessageRow(**message_values(msg))


def message_values(msg: StoredMessage) -> dict[str, Any]:
    """The ``messages`` columns of a stored message (for the ORM row or a Core insert), storable on both
    databases (no NUL: ``host.storable``)."""
    return storable(dict(
        id=msg.id,
        agent_id=msg.agent_id,
        role=msg.role,
        text=msg.text,
        content=_content(msg),
        name=msg.name,
        tool_calls=[{"id": c.id, "name": c.name, "arguments": c.arguments} for c in msg.tool_calls] or None,
        tool_call_id=msg.tool_call_id,
        tool_returns=[{"status": msg.tool_return.status, "stdout": msg.tool_return.stdout,
                       "stderr": msg.tool_return.stderr, "func_response": msg.tool_return.raw}]
        if msg.tool_return else None,
        model=msg.model,
        sender_id=msg.sender_id,
        otid=msg.otid,
        step_id=msg.step_id,
        run_id=msg.run_id,
        group_id=msg.group_id,
        created_at=msg.created_at,
    ))
