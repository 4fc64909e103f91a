"""Agents: create, read, list, modify, delete; their tools, blocks, tags and identities."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, cast

from pydantic import BaseModel, ValidationError
from sqlalchemy import String, bindparam, delete, exists, func, insert, or_, select
from sqlalchemy.orm import Session

from host.domain.actor import current_actor
from host.domain.prompt import DEFAULT_SYSTEM, DEFAULT_SYSTEM_V1, V1_AGENT_TYPE, BlockLike
from host.errors import InvalidRequestError, NotFoundError
from host.ids import new_id, utcnow
from host.llm.providers import EmbeddingConfig, LLMConfig, ProviderError
from host.llm.registry import ProviderRegistry
from host.persistence.convert import block_out, message_values
from host.persistence.core_insert import insert_new
from host.persistence.db import Database
from host.persistence.models import (
    AgentBlockRow,
    AgentRow,
    AgentSourceRow,
    AgentTagRow,
    AgentToolRow,
    BlockRow,
    IdentityAgentRow,
    IdentityRow,
    MessageRow,
    SourceRow,
    ToolRow,
)
from host.persistence.paging import paged
from host.persistence.tenancy import scope_org
from host.schemas.agents import MASKED, AgentState, CreateAgentRequest, UpdateAgent
from host.schemas.blocks import CreateBlock
from host.schemas.tools import Tool
from host.services.agent_view import RELATIONSHIPS, hydrate_sync, source_summary, state_of
from host.services.answer_cache import AnswerCache
from host.services.blocks import new_block_row
from host.services.memory import initial_messages_sync, mark_stale, recompile_system
from host.services.tool_cache import STAMP as TOOL_STAMP
from host.services.tool_cache import ToolCache
from host.services.view_cache import AgentViewCache, ViewKey, version_key
from host.tools.rule_graph import validate_rules
from host.tools.rule_models import default_rules_for, dump_tool_rules, parse_tool_rules

if TYPE_CHECKING:
    from host.services.byok import ByokService

logger = logging.getLogger(__name__)

BASE_TOOLS = [
    "send_message",
    "conversation_search",
    "archival_memory_insert",
    "archival_memory_search",
    "core_memory_append",
    "core_memory_replace",
]
BASE_TOOLS_V1 = ["memory_insert", "memory_replace", "conversation_search"]  # letta_v1_agent: no send_message
BASE_TOOLS_V2 = [
    "send_message",
    "conversation_search",
    "archival_memory_insert",
    "archival_memory_search",
    "memory_replace",
    "memory_insert",
    "memory_rethink",
]
MULTI_AGENT_TOOLS = [
    "send_message_to_agent_and_wait_for_reply",
    "send_message_to_agent_async",
    "send_message_to_agents_matching_tags",
    "send_message_to_agents_matching_all_tags",
]


def _rules_or_422(raw: list[dict[str, Any]], tool_names: list[str]) -> tuple[list[dict[str, Any]], list[str]]:
    try:
        rules = parse_tool_rules(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        raise InvalidRequestError(f"Invalid tool rule at tool_rules.{where}: {first.get('msg')}") from None
    report = validate_rules(rules, tool_names)
    if report.errors:
        raise InvalidRequestError("Invalid tool rules: " + "; ".join(e.message for e in report.errors))
    return dump_tool_rules(rules), [w.message for w in report.warnings]


def _validated(model: type[BaseModel], raw: dict[str, Any], field: str) -> dict[str, Any]:
    """A raw llm_config / embedding_config checked against Letta's schema (422 naming the bad field)."""
    try:
        return model.model_validate(raw).model_dump(mode="json")
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        raise InvalidRequestError(f"Invalid {field}.{where}: {first.get('msg')}") from None


def _env_dict(values: dict[str, str] | None, previous: dict[str, Any] | None = None) -> dict[str, Any]:
    previous = previous or {}
    out: dict[str, Any] = {}
    for key, value in (values or {}).items():
        old = previous.get(key) or {}
        if value == MASKED and "value" in old:  # the masked value of an answer sent back: keep the secret
            value = old["value"]
        out[key] = {"id": old.get("id") or new_id("agent-env"), "value": value, "description": old.get("description")}
    return out


def _native_reasoning(config: dict[str, Any]) -> None:
    """``enable_reasoner`` as Letta applies it: a model that reasons natively (Claude 3.7 / 4, OpenAI's o-series
    and GPT-5) shows its own reasoning, so the tools lose the ``inner_thoughts`` argument, and gets a thinking
    budget (1024 tokens) or a reasoning effort (medium) unless one is given. Other models keep reasoning in
    ``inner_thoughts``."""
    config["enable_reasoner"] = True
    kind, model = config.get("model_endpoint_type"), str(config.get("model") or "")
    name = model.rsplit(".", 1)[-1] if kind == "bedrock" else model  # bedrock: anthropic.claude-...
    if kind in ("anthropic", "bedrock") and name.startswith(("claude-opus-4", "claude-sonnet-4", "claude-3-7-sonnet")):
        config["put_inner_thoughts_in_kwargs"] = False
        config["max_reasoning_tokens"] = config.get("max_reasoning_tokens") or 1024
    elif kind in ("openai", "azure") and model.startswith(("o1", "o3", "o4", "gpt-5")):
        config["put_inner_thoughts_in_kwargs"] = False
        config["reasoning_effort"] = config.get("reasoning_effort") or "medium"


class AgentService:
    def __init__(self, db: Database, registry: ProviderRegistry, byok: ByokService | None = None,
                 views: AgentViewCache | None = None) -> None:
        self.db = db
        self.registry = registry
        self.byok = byok  # the acting organization's own providers (host.services.byok)
        self.views = views if views is not None else AgentViewCache()  # whole views, by version key
        # Reads answered again while the database has not changed at all (SQLite, ``answer_cache``)
        self.answers: AnswerCache[AgentState] = AnswerCache()

    # ---- configuration resolution -------------------------------------------------------
    async def resolve_model(self, handle: str, context_window_limit: int | None = None) -> LLMConfig:
        """The model config of a handle: the server's providers', else the acting organization's own; an
        unknown handle is an InvalidRequestError listing the known ones."""
        await self.registry.refresh()
        try:
            return self.registry.resolve_llm(handle, context_window_limit=context_window_limit)
        except ProviderError as exc:
            own = await self.byok.resolve_llm(current_actor(), handle) if self.byok else None
            if own is None:
                raise InvalidRequestError(str(exc)) from None
            if context_window_limit is not None:
                own.context_window = min(context_window_limit, own.context_window)
            return own

    async def _llm_config(self, model: str | None, llm_config: dict[str, Any] | None,
                          context_window_limit: int | None, max_tokens: int | None = None,
                          enable_reasoner: bool | None = None, max_reasoning_tokens: int | None = None
                          ) -> dict[str, Any]:
        if model:
            out = (await self.resolve_model(model, context_window_limit)).model_dump(mode="json")
        elif llm_config:
            out = {**llm_config, **_validated(LLMConfig, llm_config, "llm_config")}
            if context_window_limit:
                out["context_window"] = context_window_limit
        else:
            raise InvalidRequestError("model is required: give a model handle such as 'openai/gpt-4o-mini' "
                                      "(GET /v1/models lists them) or an llm_config")
        if max_tokens is not None:
            out["max_tokens"] = max_tokens
        if max_reasoning_tokens is not None:
            out["max_reasoning_tokens"] = max_reasoning_tokens
        if enable_reasoner:
            _native_reasoning(out)
        elif enable_reasoner is not None:
            out["enable_reasoner"] = False
        return out

    async def _embedding_config(self, embedding: str | None, embedding_config: dict[str, Any] | None,
                                chunk_size: int | None) -> dict[str, Any]:
        if embedding:
            await self.registry.refresh()
            try:
                out = self.registry.resolve_embedding(embedding).model_dump(mode="json")
            except ProviderError as exc:
                own = await self.byok.resolve_embedding(current_actor(), embedding) if self.byok else None
                if own is None:
                    raise InvalidRequestError(str(exc)) from None
                out = own.model_dump(mode="json")
        elif embedding_config:
            out = {**embedding_config, **_validated(EmbeddingConfig, embedding_config, "embedding_config")}
        else:
            models = await self.registry.list_embedding_models()
            if models:
                out = models[0].model_dump(mode="json")
            else:
                # No embedding provider: archival memory is searched by full text only.
                out = {"embedding_endpoint_type": "openai", "embedding_endpoint": None,
                       "embedding_model": "none", "embedding_dim": 0, "embedding_chunk_size": 300,
                       "handle": None, "batch_size": 32, "azure_endpoint": None, "azure_version": None,
                       "azure_deployment": None}
        if chunk_size:
            out["embedding_chunk_size"] = chunk_size
        return out

    # ---- create --------------------------------------------------------------------------
    async def create(self, req: CreateAgentRequest) -> tuple[AgentState, list[str]]:
        llm = await self._llm_config(req.model, req.llm_config, req.context_window_limit, req.max_tokens,
                                     req.enable_reasoner, req.max_reasoning_tokens)
        emb = await self._embedding_config(req.embedding, req.embedding_config, req.embedding_chunk_size)
        seed = not self.db.is_postgres  # see AgentViewCache.seed

        def unit(s: Session) -> tuple[AgentState, list[str], ViewKey | None]:
            state, warnings = _create_rows(s, req, llm, emb, self.views.tools)
            return state, warnings, version_key(s.connection(), state.id) if seed else None

        # One unit: every row in one transaction (on SQLite one worker thread, no hop per statement).
        state, warnings, key = await self.db.write(unit)
        if key is not None:  # committed: a GET of the new agent finds its view built
            self.views.seed(state, key)
        return state, warnings

    # ---- read ------------------------------------------------------------------------------
    async def _row(self, s: Any, agent_id: str) -> AgentRow:
        row = await s.get(AgentRow, agent_id)
        if row is None:
            raise NotFoundError.for_id("Agent", agent_id)
        return row

    async def _answered(self, question: tuple[Any, ...], read: Callable[[], Awaitable[list[AgentState]]]
                        ) -> list[AgentState]:
        """``read()``, or its answer given again while the database has not changed since it was read
        (SQLite: ``host.services.answer_cache``); ``question`` holds everything the answer depends on."""
        stamp = await self.db.data_version()  # taken before the read
        question = (scope_org(), *question)
        if (again := self.answers.get(question, stamp)) is not None:
            return again
        answer = await read()
        self.answers.put(question, stamp, answer)
        return answer

    async def get(self, agent_id: str) -> AgentState:
        async def read() -> list[AgentState]:
            found = await self.db.peek(lambda conn: self.views.lookup(conn, agent_id))  # one statement
            view = None
            if found is not None:
                key, view = found
                if view is None:  # built once per version of the agent
                    view = await self.db.read(lambda s: self.views.build(s, agent_id, key))
            if view is None:
                raise NotFoundError.for_id("Agent", agent_id)
            return [view]

        return (await self._answered(("get", agent_id), read))[0]

    async def exists(self, agent_id: str) -> None:
        async with self.db.session() as s:
            await self._row(s, agent_id)

    def _filtered(self, *, name: str | None, tags: list[str] | None, match_all_tags: bool,
                  identity_id: str | None, identifier_keys: list[str] | None, query_text: str | None,
                  project_id: str | None = None, template_id: str | None = None,
                  base_template_id: str | None = None) -> Any:
        stmt = select(AgentRow)
        if name:
            stmt = stmt.where(AgentRow.name == name)
        if query_text:
            stmt = stmt.where(AgentRow.name.ilike(f"%{query_text}%"))
        if project_id:
            stmt = stmt.where(AgentRow.project_id == project_id)
        if template_id:
            stmt = stmt.where(AgentRow.template_id == template_id)
        if base_template_id:
            stmt = stmt.where(AgentRow.base_template_id == base_template_id)
        if tags:
            tagged = select(AgentTagRow.agent_id).where(AgentTagRow.tag.in_(tags))
            if match_all_tags:
                tagged = tagged.group_by(AgentTagRow.agent_id).having(
                    func.count(func.distinct(AgentTagRow.tag)) == len(set(tags)))
            stmt = stmt.where(AgentRow.id.in_(tagged))
        if identity_id:
            stmt = stmt.where(AgentRow.id.in_(
                select(IdentityAgentRow.agent_id).where(IdentityAgentRow.identity_id == identity_id)))
        if identifier_keys:
            stmt = stmt.where(AgentRow.id.in_(
                select(IdentityAgentRow.agent_id).join(IdentityRow, IdentityRow.id == IdentityAgentRow.identity_id)
                .where(IdentityRow.identifier_key.in_(identifier_keys))))
        return stmt

    async def list(self, *, name: str | None = None, tags: list[str] | None = None, match_all_tags: bool = False,
                   before: str | None = None, after: str | None = None, limit: int | None = 50,
                   query_text: str | None = None, identity_id: str | None = None,
                   identifier_keys: list[str] | None = None, ascending: bool = False,
                   project_id: str | None = None, template_id: str | None = None,
                   base_template_id: str | None = None,
                   include_relationships: list[str] | None = None) -> list[AgentState]:
        include = None
        if include_relationships is not None:
            unknown = sorted(set(include_relationships) - RELATIONSHIPS)
            if unknown:
                raise InvalidRequestError(f"include_relationships: unknown relation(s) {', '.join(unknown)}; "
                                          f"known: {', '.join(sorted(RELATIONSHIPS))}")
            include = frozenset(include_relationships)
        stmt = self._filtered(name=name, tags=tags, match_all_tags=match_all_tags, identity_id=identity_id,
                              identifier_keys=identifier_keys, query_text=query_text, project_id=project_id,
                              template_id=template_id, base_template_id=base_template_id)

        def load(s: Session) -> list[AgentState]:
            if include is None:  # whole views, through the cache: the page's ids, rows loaded only where needed
                ids = paged(s, stmt.with_only_columns(AgentRow.id), AgentRow, before=before, after=after,
                            limit=limit, ascending=ascending)
                return self.views.views(s, ids)
            rows = paged(s, stmt, AgentRow, before=before, after=after, limit=limit, ascending=ascending)
            return hydrate_sync(s, rows, include, blocks=self.views.blocks, tool_cache=self.views.tools)

        question = ("list", name, tuple(tags or ()), match_all_tags, before, after, limit, query_text, identity_id,
                    tuple(identifier_keys or ()), ascending, project_id, template_id, base_template_id, include)
        # A long page (its views built from rows where the cache misses) is bulk: it runs in a worker thread,
        # not on the event loop, which goes on serving meanwhile (host.persistence.on_loop).
        bulk = limit is None or limit > 100
        return await self._answered(question, lambda: self.db.read(load, bulk=bulk))

    async def count(self) -> int:
        async with self.db.session() as s:
            return int((await s.execute(select(func.count()).select_from(AgentRow))).scalar_one())

    # ---- modify / delete -------------------------------------------------------------------
    async def modify(self, agent_id: str, update: UpdateAgent) -> tuple[AgentState, list[str]]:
        data = update.model_dump(exclude_unset=True)
        llm = None
        if data.get("model") or data.get("llm_config"):
            llm = await self._llm_config(data.get("model"), data.get("llm_config"), data.get("context_window_limit"))
        emb = None
        if data.get("embedding") or data.get("embedding_config"):
            emb = await self._embedding_config(data.get("embedding"), data.get("embedding_config"), None)
        def unit(s: Session) -> tuple[AgentState, list[str]]:
            warnings: list[str] = []
            agent = _row_sync(s, agent_id)
            for key in ("name", "description", "agent_type", "response_format", "timezone", "project_id",
                        "template_id", "base_template_id", "enable_sleeptime", "last_run_completion",
                        "last_run_duration_ms"):
                if key in data and (data[key] is not None or key in ("description",)):
                    setattr(agent, key, data[key])
            if data.get("message_buffer_autoclear") is not None:
                agent.message_buffer_autoclear = data["message_buffer_autoclear"]
            if "metadata" in data:
                agent.metadata_ = data["metadata"]
            if llm is not None:
                agent.llm_config = llm
            if emb is not None:
                agent.embedding_config = emb
            if data.get("tool_exec_environment_variables") is not None:
                agent.tool_exec_env = _env_dict(data["tool_exec_environment_variables"], agent.tool_exec_env)
            if data.get("tool_ids") is not None:
                s.execute(delete(AgentToolRow).where(AgentToolRow.agent_id == agent_id))
                for pos, tool_id in enumerate(dict.fromkeys(data["tool_ids"])):
                    if s.get(ToolRow, tool_id) is None:
                        raise NotFoundError.unknown_id("Tool", tool_id)
                    s.add(AgentToolRow(agent_id=agent_id, tool_id=tool_id, position=pos))
            if data.get("block_ids") is not None:
                s.execute(delete(AgentBlockRow).where(AgentBlockRow.agent_id == agent_id))
                for pos, block_id in enumerate(dict.fromkeys(data["block_ids"])):
                    if s.get(BlockRow, block_id) is None:
                        raise NotFoundError.unknown_id("Block", block_id)
                    s.add(AgentBlockRow(agent_id=agent_id, block_id=block_id, position=pos))
            if data.get("tags") is not None:
                s.execute(delete(AgentTagRow).where(AgentTagRow.agent_id == agent_id))
                for tag in dict.fromkeys(data["tags"]):
                    s.add(AgentTagRow(agent_id=agent_id, tag=tag))
            if data.get("identity_ids") is not None:
                s.execute(delete(IdentityAgentRow).where(IdentityAgentRow.agent_id == agent_id))
                for identity_id in dict.fromkeys(data["identity_ids"]):
                    if s.get(IdentityRow, identity_id) is None:
                        raise NotFoundError.unknown_id("Identity", identity_id)
                    s.add(IdentityAgentRow(identity_id=identity_id, agent_id=agent_id))
            if data.get("source_ids") is not None:
                s.execute(delete(AgentSourceRow).where(AgentSourceRow.agent_id == agent_id))
                for source_id in dict.fromkeys(data["source_ids"]):
                    if s.get(SourceRow, source_id) is None:
                        raise NotFoundError.unknown_id("Source", source_id)
                    s.add(AgentSourceRow(agent_id=agent_id, source_id=source_id))
            if data.get("message_ids") is not None:
                agent.message_ids = list(data["message_ids"])
            s.flush()
            if data.get("tool_rules") is not None or data.get("tool_ids") is not None:
                names = _tool_names(s, agent_id)
                raw = data["tool_rules"] if data.get("tool_rules") is not None else agent.tool_rules
                agent.tool_rules, warnings = _rules_or_422(raw, names)
            if "system" in data and data["system"] is not None:
                agent.system = data["system"]
            agent.updated_at = utcnow()
            recompile_system(s, agent)
            return self._view_of(s, agent), warnings

        # One unit: on SQLite one worker thread for all its statements, no event-loop hop per statement.
        return await self.db.write(unit)

    def _view_of(self, s: Session, agent: AgentRow) -> AgentState:
        """The view a write answers, built in its transaction (blocks and tools through the process's caches)."""
        return hydrate_sync(s, [agent], blocks=self.views.blocks, tool_cache=self.views.tools)[0]

    async def delete(self, agent_id: str) -> None:
        # bulk: the delete cascades to the agent's messages, passages and links (host.persistence.on_loop)
        await self.db.write(lambda s: s.delete(_row_sync(s, agent_id)), bulk=True)

    # ---- tools --------------------------------------------------------------------------------
    async def list_tools(self, agent_id: str) -> list[Any]:
        return (await self.get(agent_id)).tools

    async def attach_tool(self, agent_id: str, tool_id: str) -> AgentState:
        def unit(s: Session) -> AgentState:
            agent = _row_sync(s, agent_id)
            if s.get(ToolRow, tool_id) is None:
                raise NotFoundError.for_id("Tool", tool_id)
            if s.get(AgentToolRow, (agent_id, tool_id)) is None:
                count = s.execute(select(func.count()).select_from(AgentToolRow)
                                  .where(AgentToolRow.agent_id == agent_id)).scalar_one()
                s.add(AgentToolRow(agent_id=agent_id, tool_id=tool_id, position=int(count)))
            agent.updated_at = utcnow()
            s.flush()
            return self._view_of(s, agent)

        return await self.db.write(unit)

    async def detach_tool(self, agent_id: str, tool_id: str) -> AgentState:
        def unit(s: Session) -> AgentState:
            agent = _row_sync(s, agent_id)
            tool = s.get(ToolRow, tool_id)
            if tool is None:
                raise NotFoundError.for_id("Tool", tool_id)
            link = s.get(AgentToolRow, (agent_id, tool_id))
            if link is not None:
                s.delete(link)
            # Rules that name a detached tool would no longer validate: drop them with the tool.
            agent.tool_rules = [r for r in agent.tool_rules if r.get("tool_name") != tool.name]
            agent.updated_at = utcnow()
            s.flush()
            return self._view_of(s, agent)

        return await self.db.write(unit)

    # ---- blocks ---------------------------------------------------------------------------------
    async def attach_block(self, agent_id: str, block_id: str) -> AgentState:
        def unit(s: Session) -> AgentState:
            agent = _row_sync(s, agent_id)
            block = s.get(BlockRow, block_id)
            if block is None:
                raise NotFoundError.for_id("Block", block_id)
            if s.get(AgentBlockRow, (agent_id, block_id)) is None:
                # the blocks with this label (indexed), each looked up in the agent's links: not a scan of them
                taken = s.execute(select(BlockRow.id).where(BlockRow.label == block.label, exists().where(
                    AgentBlockRow.agent_id == agent_id, AgentBlockRow.block_id == BlockRow.id)).limit(1))
                if taken.first() is not None:
                    raise InvalidRequestError(f"Agent {agent_id} already has a block labelled {block.label!r}; "
                                              "detach it first")
                count = s.execute(select(func.count()).select_from(AgentBlockRow)
                                  .where(AgentBlockRow.agent_id == agent_id)).scalar_one()
                s.add(AgentBlockRow(agent_id=agent_id, block_id=block_id, position=int(count)))
            s.flush()
            mark_stale(s, [agent_id])  # compiled by the next read that shows it
            return self._view_of(s, agent)

        return await self.db.write(unit)

    async def detach_block(self, agent_id: str, block_id: str) -> AgentState:
        def unit(s: Session) -> AgentState:
            agent = _row_sync(s, agent_id)
            if s.get(BlockRow, block_id) is None:
                raise NotFoundError.for_id("Block", block_id)
            link = s.get(AgentBlockRow, (agent_id, block_id))
            if link is not None:
                s.delete(link)
            s.flush()
            mark_stale(s, [agent_id])  # compiled by the next read that shows it
            return self._view_of(s, agent)

        return await self.db.write(unit)

    async def set_tool_approval(self, agent_id: str, tool_name: str, requires_approval: bool) -> AgentState:
        """The agent's ``requires_approval`` rule for one attached tool, added or removed (idempotent)."""
        def unit(s: Session) -> AgentState:
            agent = _row_sync(s, agent_id)
            names = _tool_names(s, agent_id)
            if tool_name not in names:
                raise NotFoundError(f"Tool {tool_name!r} is not attached to agent {agent_id}")
            rules = [r for r in agent.tool_rules
                     if not (r.get("type") == "requires_approval" and r.get("tool_name") == tool_name)]
            if requires_approval:
                rules.append({"type": "requires_approval", "tool_name": tool_name})
            agent.tool_rules, _ = _rules_or_422(rules, names)
            agent.updated_at = utcnow()
            s.flush()
            return self._view_of(s, agent)

        return await self.db.write(unit)

    async def create_block_for(self, agent_id: str, spec: CreateBlock) -> AgentState:
        def unit(s: Session) -> AgentState:
            agent = _row_sync(s, agent_id)
            block = new_block_row(spec)
            s.add(block)
            s.flush()
            s.add(AgentBlockRow(agent_id=agent_id, block_id=block.id, position=99))
            s.flush()
            mark_stale(s, [agent_id])  # compiled by the next read that shows it
            return self._view_of(s, agent)

        return await self.db.write(unit)


def _row_sync(s: Session, agent_id: str) -> AgentRow:
    row = s.get(AgentRow, agent_id)
    if row is None:
        raise NotFoundError.for_id("Agent", agent_id)
    return row


def _tool_names(s: Session, agent_id: str) -> list[str]:
    rows = s.execute(select(ToolRow.name).join(AgentToolRow, AgentToolRow.tool_id == ToolRow.id)
                     .where(AgentToolRow.agent_id == agent_id))
    return [n for (n,) in rows.all()]

def _create_rows(s: Session, req: CreateAgentRequest, llm: dict[str, Any], emb: dict[str, Any], tools: ToolCache
                 ) -> tuple[AgentState, list[str]]:
    """The new agent's rows (agent, tools, rules, blocks, tags, identities, sources, first messages) and its
    view: synchronous, inside one write unit; an unknown id raises before anything is written.

    Every row is a Core insert, many rows a statement: the agent and its new blocks through ``insert_new`` (the
    values a flush would write; the answer is built from those objects), the links and the first messages as
    plain rows (the unit of work's bookkeeping was most of a create's CPU).
    """
    now = utcnow()
    agent = AgentRow(
        id=new_id("agent"),
        name=req.name or f"agent-{new_id('x')[2:10]}",
        agent_type=req.agent_type,
        system=req.system or (DEFAULT_SYSTEM_V1 if req.agent_type == V1_AGENT_TYPE else DEFAULT_SYSTEM),
        description=req.description,
        metadata_=req.metadata,
        llm_config=llm,
        embedding_config=emb,
        tool_rules=[],
        message_ids=[],
        tool_exec_env=_env_dict(req.tool_exec_environment_variables),
        message_buffer_autoclear=req.message_buffer_autoclear,
        enable_sleeptime=req.enable_sleeptime,
        response_format=req.response_format,
        timezone=req.timezone,
        project_id=req.project_id,
        template_id=req.template_id,
        base_template_id=req.base_template_id,
        created_at=now,
        updated_at=now,
    )
    tool_views = _resolve_tools(s, req, tools)
    names = [t.name or "" for t in tool_views]
    raw_rules = list(req.tool_rules or [])
    if req.include_base_tool_rules:
        given = {(r.get("type"), r.get("tool_name")) for r in raw_rules}
        ruled = {r.get("tool_name") for r in raw_rules if r.get("type") in ("exit_loop", "continue_loop")}
        for rule in dump_tool_rules(default_rules_for(names)):
            if (rule["type"], rule["tool_name"]) not in given and rule["tool_name"] not in ruled:
                raw_rules.append(rule)
    agent.tool_rules, warnings = _rules_or_422(raw_rules, names)

    new_blocks: list[BlockRow] = [new_block_row(spec) for spec in req.memory_blocks or []]
    for block in new_blocks:
        block.created_at = block.updated_at = now
    blocks = list(new_blocks)
    for block_id in req.block_ids or []:
        if (found := s.get(BlockRow, block_id)) is None:
            raise NotFoundError.unknown_id("Block", block_id)
        blocks.append(found)
    tags = list(dict.fromkeys(req.tags or []))
    identity_ids = list(dict.fromkeys(req.identity_ids or []))
    for identity_id in identity_ids:
        if s.get(IdentityRow, identity_id) is None:
            raise NotFoundError.unknown_id("Identity", identity_id)
    sources: list[SourceRow] = []
    for source_id in dict.fromkeys(req.source_ids or []):
        if (source := s.get(SourceRow, source_id)) is None:
            raise NotFoundError.unknown_id("Source", source_id)
        sources.append(source)

    seq = [m.model_dump() for m in req.initial_message_sequence] if req.initial_message_sequence else None
    prompt_blocks = cast("list[BlockLike]", blocks)  # pyright cannot match Mapped to a protocol (pyright#11021)
    messages = initial_messages_sync(s, agent, seq, blocks=prompt_blocks)
    agent.message_ids = [m.id for m in messages]
    conn, aid = s.connection(), agent.id
    insert_new(conn, [agent, *new_blocks])  # the agent (and its organization) before the rows that refer to it
    links: list[tuple[Any, list[dict[str, Any]]]] = [
        (AgentToolRow, [{"agent_id": aid, "tool_id": t.id, "position": i} for i, t in enumerate(tool_views)]),
        (AgentBlockRow, [{"agent_id": aid, "block_id": b.id, "position": i} for i, b in enumerate(blocks)]),
        (AgentTagRow, [{"agent_id": aid, "tag": tag} for tag in tags]),
        (IdentityAgentRow, [{"identity_id": i, "agent_id": aid} for i in identity_ids]),
        (AgentSourceRow, [{"agent_id": aid, "source_id": src.id} for src in sources]),
        (MessageRow, [message_values(m) for m in messages]),
    ]
    for row_type, rows in links:
        if rows:
            conn.execute(insert(row_type.__table__), rows)
    # The view from the rows in hand: nothing is read back.
    return state_of(agent, blocks=[block_out(b) for b in blocks], tools=tool_views,
                    sources=[source_summary(src) for src in sources], tags=tags, identity_ids=identity_ids), warnings


# The tools a create may name, read as Core with the scoping written out (``org``: the caller's organization, None
# for the unscoped system; host.persistence.tenancy): by name, the caller's organization's tools and the shared
# ones, its own listed last so that it wins a name both have (the system: the shared ones only, see
# ``same_namespace``); by id, those and, for the system, every organization's.
_TOOLS_BY_NAME = (select(ToolRow.name, ToolRow.id, TOOL_STAMP)
                  .where(ToolRow.name.in_(bindparam("names", expanding=True)),
                         or_(ToolRow.organization_id == bindparam("org", type_=String), ToolRow.organization_id.is_(None)))
                  .order_by(ToolRow.organization_id.is_(None).desc()))
_TOOLS_BY_ID = (select(ToolRow.id, TOOL_STAMP)
                .where(ToolRow.id.in_(bindparam("ids", expanding=True)),
                       or_(ToolRow.organization_id == func.coalesce(bindparam("org", type_=String), ToolRow.organization_id),
                           ToolRow.organization_id.is_(None))))


def _resolve_tools(s: Session, req: CreateAgentRequest, cache: ToolCache) -> list[Tool]:
    """The new agent's tools, named or by id, in order, each once; each read whole only when ``cache`` does not
    hold it at its current version."""
    wanted: list[str] = []
    if req.include_base_tools:
        wanted += (BASE_TOOLS_V2 if req.agent_type == "memgpt_v2_agent" else
                   BASE_TOOLS_V1 if req.agent_type == V1_AGENT_TYPE else BASE_TOOLS)
    if req.include_multi_agent_tools:
        wanted += MULTI_AGENT_TOOLS
    wanted += list(req.tools or [])
    conn, org = s.connection(), scope_org()
    by_name: dict[str, tuple[str, Any]] = {}
    if wanted:
        by_name = {name: (tool_id, stamp) for name, tool_id, stamp in conn.execute(
            _TOOLS_BY_NAME, {"names": sorted(set(wanted)), "org": org}).all()}
    missing = [n for n in dict.fromkeys(wanted) if n not in by_name]
    if missing:
        raise NotFoundError(f"Tool(s) not found by name: {', '.join(missing)}; create them first or check "
                            "GET /v1/tools")
    versions = dict(by_name[n] for n in dict.fromkeys(wanted))
    if req.tool_ids:
        found = dict(conn.execute(_TOOLS_BY_ID, {"ids": sorted(set(req.tool_ids)), "org": org}).all())
        for tool_id in req.tool_ids:
            if tool_id not in found:
                raise NotFoundError.unknown_id("Tool", tool_id)
            versions.setdefault(tool_id, found[tool_id])
    views = cache.views(s, versions.items())
    for tool_id in versions:
        if tool_id not in views:  # deleted since the statement above (another transaction)
            raise NotFoundError.unknown_id("Tool", tool_id)
    return [views[tool_id] for tool_id in versions]
