"""Agent files (``.af``): export an agent to Letta's JSON format and import it back.

Exports keep the system prompt, blocks, tools with their source, tool rules, messages and the keys of
the tool environment variables; secret values are written as null.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import select

from host.domain.messages import StoredMessage, ToolCallRecord, ToolReturnRecord
from host.errors import BadRequestError
from host.ids import new_id, utcnow
from host.persistence.db import Database
from host.persistence.models import AgentBlockRow, AgentRow, AgentTagRow, AgentToolRow, BlockRow, ToolRow
from host.persistence.tenancy import same_namespace
from host.schemas.agents import AgentState
from host.services.agent_view import hydrate
from host.services.memory import append_messages, recompile_system
from host.services.messages import MessageService
from host.tools.schema_gen import SchemaError, parse_tool_source

AGENT_FILE_VERSION = "0.8.17"


class _AfBlock(BaseModel):
    model_config = ConfigDict(extra="ignore")
    label: str
    value: str = ""
    limit: int = 5000
    description: str | None = None
    is_template: bool = False
    read_only: bool = False
    template_name: str | None = None
    metadata_: dict[str, Any] | None = None


class _AfTool(BaseModel):
    model_config = ConfigDict(extra="ignore")
    name: str
    tool_type: str = "custom"
    description: str | None = None
    source_type: str | None = "python"
    source_code: str | None = None
    json_schema: dict[str, Any] | None = None
    args_json_schema: dict[str, Any] | None = None
    return_char_limit: int = 6000
    pip_requirements: list[dict[str, Any]] | None = None
    tags: list[str] = Field(default_factory=list)
    metadata_: dict[str, Any] | None = None


class _AfMessage(BaseModel):
    model_config = ConfigDict(extra="ignore")
    role: str
    content: list[dict[str, Any]] | str | None = None
    name: str | None = None
    model: str | None = None
    tool_call_id: str | None = None
    tool_calls: list[dict[str, Any]] | None = None
    tool_returns: list[dict[str, Any]] | None = None
    created_at: datetime | None = None
    group_id: str | None = None


class AgentFile(BaseModel):
    model_config = ConfigDict(extra="ignore")
    name: str
    agent_type: str = "memgpt_agent"
    system: str = ""
    description: str | None = None
    metadata_: dict[str, Any] | None = None
    llm_config: dict[str, Any]
    embedding_config: dict[str, Any]
    message_buffer_autoclear: bool = False
    core_memory: list[_AfBlock] = Field(default_factory=list)
    tools: list[_AfTool] = Field(default_factory=list)
    tool_rules: list[dict[str, Any]] = Field(default_factory=list)
    tags: list[Any] = Field(default_factory=list)
    tool_exec_environment_variables: list[dict[str, Any]] = Field(default_factory=list)
    messages: list[_AfMessage] = Field(default_factory=list)
    in_context_message_indices: list[int] = Field(default_factory=list)
    version: str | None = None


def _ts(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _message_json(m: StoredMessage) -> dict[str, Any]:
    return {
        "created_at": _ts(m.created_at),
        "group_id": m.group_id,
        "model": m.model,
        "name": m.name,
        "role": m.role,
        "content": [{"type": "text", "text": m.text}] if m.text is not None else [],
        "tool_call_id": m.tool_call_id,
        "tool_calls": [{"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
                       for c in m.tool_calls],
        "tool_returns": [{"status": m.tool_return.status, "stdout": m.tool_return.stdout,
                          "stderr": m.tool_return.stderr}] if m.tool_return else [],
        "updated_at": _ts(m.created_at),
    }


def _text_of(content: list[dict[str, Any]] | str | None) -> str | None:
    if content is None:
        return None
    if isinstance(content, str):
        return content
    texts = [p.get("text", "") for p in content if isinstance(p, dict) and p.get("type", "text") == "text"]
    return "\n".join(texts) if texts else None


class AgentFileService:
    def __init__(self, db: Database, messages: MessageService) -> None:
        self.db = db
        self.messages = messages

    async def export(self, agent: AgentState, *, since: datetime | None = None, scrub: bool = False) -> dict[str, Any]:
        """The agent file; ``since``: only the history written from then on (a conversation's);
        ``scrub``: no messages at all (an import starts from the system prompt)."""
        history = [] if scrub else await self.messages.stored(agent.id, limit=None)
        if since is not None:
            history = [m for m in history if m.created_at is None or m.created_at >= since]
        index = {m.id: i for i, m in enumerate(history)}
        async with self.db.session() as s:
            tool_rows = {r.id: r for r in (await s.execute(select(ToolRow).where(
                ToolRow.id.in_([t.id for t in agent.tools])))).scalars()}
        return {
            "agent_type": agent.agent_type,
            "core_memory": [
                {"created_at": None, "description": b.description, "is_template": b.is_template, "label": b.label,
                 "limit": b.limit, "metadata_": b.metadata or {}, "template_name": b.name, "updated_at": None,
                 "value": b.value, "read_only": b.read_only}
                for b in agent.memory.blocks
            ],
            "created_at": _ts(agent.created_at),
            "description": agent.description,
            "embedding_config": agent.embedding_config,
            "llm_config": agent.llm_config,
            "message_buffer_autoclear": agent.message_buffer_autoclear,
            "in_context_message_indices": [index[mid] for mid in agent.message_ids if mid in index],
            "messages": [_message_json(m) for m in history],
            "metadata_": agent.metadata,
            "multi_agent_group": None,
            "name": agent.name,
            "system": agent.system,
            "tags": [{"tag": t} for t in agent.tags],
            "tool_exec_environment_variables": [
                {"key": v.key, "value": None, "description": v.description} for v in agent.tool_exec_environment_variables
            ],
            "tool_rules": [{k: v for k, v in r.items() if k != "prompt_template" or v} for r in agent.tool_rules],
            "tools": [
                {"args_json_schema": r.args_json_schema, "created_at": _ts(r.created_at), "description": r.description,
                 "json_schema": r.json_schema, "name": r.name, "return_char_limit": r.return_char_limit,
                 "source_code": r.source_code, "source_type": r.source_type, "tags": r.tags or [],
                 "tool_type": r.tool_type, "updated_at": _ts(r.updated_at), "metadata_": r.metadata_ or {},
                 "pip_requirements": r.pip_requirements}
                for r in (tool_rows[t.id] for t in agent.tools if t.id in tool_rows)
            ],
            "updated_at": _ts(agent.updated_at),
            "version": AGENT_FILE_VERSION,
        }

    async def import_(self, raw: bytes, *, append_copy_suffix: bool = True, override_existing_tools: bool = True,
                      strip_messages: bool = False, project_id: str | None = None) -> AgentState:
        try:
            data = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise BadRequestError(f"The agent file is not valid JSON: {exc}") from None
        try:
            af = AgentFile.model_validate(data)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first.get("loc", ()))
            raise BadRequestError(f"The agent file is invalid at {where}: {first.get('msg')}") from None
        for tool in af.tools:
            if tool.tool_type == "custom" and tool.source_code and not tool.json_schema:
                try:
                    tool.json_schema = parse_tool_source(tool.source_code).json_schema
                except SchemaError as exc:
                    raise BadRequestError(f"Tool {tool.name!r} in the agent file: {exc}") from None
        from host.services.agents import _rules_or_422

        async with self.db.transaction() as s:
            agent = AgentRow(
                id=new_id("agent"), name=af.name + ("_copy" if append_copy_suffix else ""),
                agent_type=af.agent_type, system=af.system, description=af.description, metadata_=af.metadata_,
                llm_config=af.llm_config, embedding_config=af.embedding_config, tool_rules=[], message_ids=[],
                tool_exec_env={v["key"]: {"id": new_id("agent-env"), "value": v.get("value") or "",
                                          "description": v.get("description")}
                               for v in af.tool_exec_environment_variables if v.get("key")},
                message_buffer_autoclear=af.message_buffer_autoclear, project_id=project_id,
            )
            s.add(agent)
            await s.flush()
            names: list[str] = []
            for pos, tool in enumerate(af.tools):
                row = (await s.execute(select(ToolRow).where(ToolRow.name == tool.name, same_namespace(ToolRow))
                                       .order_by(ToolRow.organization_id.is_(None)).limit(1))).scalar()
                if row is None:
                    if tool.tool_type != "custom" and not tool.json_schema:
                        raise BadRequestError(f"Tool {tool.name!r} in the agent file is unknown here")
                    row = ToolRow(id=new_id("tool"), name=tool.name, tool_type=tool.tool_type,
                                  json_schema=tool.json_schema or {}, tags=tool.tags)
                    s.add(row)
                if row.tool_type == "custom" and (override_existing_tools or row.source_code is None):
                    row.source_code = tool.source_code
                    row.json_schema = tool.json_schema or row.json_schema
                    row.args_json_schema = tool.args_json_schema
                    row.description = tool.description
                    row.return_char_limit = tool.return_char_limit
                    row.pip_requirements = tool.pip_requirements
                    row.tags = tool.tags
                await s.flush()
                s.add(AgentToolRow(agent_id=agent.id, tool_id=row.id, position=pos))
                names.append(row.name)
            try:
                agent.tool_rules, _ = _rules_or_422(af.tool_rules, names)
            except Exception as exc:
                raise BadRequestError(f"The agent file's tool rules are invalid: {exc}") from None
            for pos, b in enumerate(af.core_memory):
                block = BlockRow(id=new_id("block"), label=b.label, value=b.value, limit=max(b.limit, len(b.value)),
                                 description=b.description, is_template=b.is_template, read_only=b.read_only,
                                 name=b.template_name, metadata_=b.metadata_ or {})
                s.add(block)
                await s.flush()
                s.add(AgentBlockRow(agent_id=agent.id, block_id=block.id, position=pos))
            for tag in dict.fromkeys(t.get("tag") if isinstance(t, dict) else t for t in af.tags):
                if tag:
                    s.add(AgentTagRow(agent_id=agent.id, tag=str(tag)))
            stored = self._messages(agent.id, af, strip_messages)
            in_context = set(af.in_context_message_indices) if not strip_messages else {0}
            await append_messages(s, agent, stored, in_context=False)
            agent.message_ids = [m.id for i, m in enumerate(stored) if i in in_context] or [stored[0].id]
            await s.flush()
            await s.run_sync(recompile_system, agent)
            return (await hydrate(s, [agent]))[0]

    def _messages(self, agent_id: str, af: AgentFile, strip: bool) -> list[StoredMessage]:
        source = af.messages[:1] if strip else af.messages
        if not source or source[0].role != "system":
            source = [_AfMessage(role="system", content=af.system)] + list(source)
        out = []
        for m in source:
            calls = [ToolCallRecord(id=c.get("id") or new_id("call"), name=(c.get("function") or {}).get("name", ""),
                                    arguments=(c.get("function") or {}).get("arguments", "{}"))
                     for c in m.tool_calls or []]
            ret = None
            if m.role == "tool":
                first = (m.tool_returns or [{}])[0]
                ret = ToolReturnRecord(status=first.get("status", "success"), stdout=first.get("stdout"),
                                       stderr=first.get("stderr"))
            out.append(StoredMessage(id=new_id("message"), agent_id=agent_id,
                                     role=m.role if m.role in ("system", "user", "assistant", "tool") else "user",
                                     text=_text_of(m.content), name=m.name, tool_calls=calls,
                                     tool_call_id=m.tool_call_id, tool_return=ret, model=m.model,
                                     created_at=(m.created_at.replace(tzinfo=None) if m.created_at else utcnow())))
        return out
