"""Tools: custom tools from Python source, the built-in catalogue, attach/detach lives in agents."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.exc import IntegrityError

from host.errors import ConflictError, InvalidRequestError, NotFoundError
from host.ids import new_id
from host.persistence.convert import tool_out
from host.persistence.db import Database
from host.persistence.models import ToolRow
from host.persistence.paging import paginate
from host.persistence.tenancy import same_namespace
from host.schemas.tools import Tool, ToolCreate, ToolUpdate
from host.tools.schema_gen import SchemaError, parse_tool_source

logger = logging.getLogger(__name__)


MAX_TOOL_NAME = 256  # the tools.name column


def schema_for(source_code: str, json_schema: dict[str, Any] | None,
               args_json_schema: dict[str, Any] | None) -> tuple[str, str, dict[str, Any]]:
    """(name, description, json_schema) for a custom tool, or InvalidRequestError naming the problem."""
    if json_schema:
        name = json_schema.get("name")
        if not isinstance(name, str) or not name:
            raise InvalidRequestError("json_schema must have a 'name'")
        description = json_schema.get("description") or ""
    else:
        try:
            parsed = parse_tool_source(source_code, args_json_schema=args_json_schema)
        except SchemaError as exc:
            raise InvalidRequestError(f"Cannot create tool: {exc}") from None
        name, description, json_schema = parsed.name, parsed.description, parsed.json_schema
    if len(name) > MAX_TOOL_NAME:
        raise InvalidRequestError(f"Tool name {name[:40]}... is {len(name)} characters long; at most {MAX_TOOL_NAME}")
    return name, description, json_schema



@asynccontextmanager
async def _name_taken(name: str) -> AsyncIterator[None]:
    """Tool names are unique per organization (0013): a same-named tool created meanwhile fails the insert."""
    try:
        yield
    except IntegrityError:
        raise ConflictError(f"Tool name {name!r} is taken; choose another name") from None


def _named(name: str) -> Select[Any]:
    """The tool called `name` among those the caller's names clash with (its organization's, then the shared
    ones: a name of a shared tool is everyone's, so an organization cannot take it)."""
    return (select(ToolRow).where(ToolRow.name == name, same_namespace(ToolRow))
            .order_by(ToolRow.organization_id.is_(None)).limit(1))


class ToolService:
    def __init__(self, db: Database) -> None:
        self.db = db
        # Told (synchronously, on the event loop) once a tool created, changed or deleted here is committed:
        # the MCP server's catalogue, whose clients then get tools/list_changed.
        self.observers: list[Callable[[], None]] = []

    def _changed(self) -> None:
        for observe in self.observers:
            observe()

    async def sync_builtins(self, builtins: Iterable[Any]) -> None:
        """Create or refresh the built-in tools (base, memory, multi-agent, web_search, run_code)."""
        async with self.db.transaction() as s:
            # Workers of one server start side by side on an empty database: one of them seeds, the next ones
            # find the rows (without the lock both would insert: shared rows, of NULL organization, are not
            # held unique by the (organization_id, name) constraint).
            await self.db.serialize(s, "tools.builtins")
            existing = {r.name: r for r in (await s.execute(select(ToolRow).where(ToolRow.organization_id.is_(None))
                                                            )).scalars()}
            for tool in builtins:
                row = existing.get(tool.name)
                if row is None:
                    row = ToolRow(id=new_id("tool"), name=tool.name)
                    s.add(row)
                row.tool_type = tool.tool_type
                row.description = tool.description
                row.source_type = "python"
                row.source_code = None
                row.json_schema = tool.json_schema
                row.tags = list(tool.tags)
                row.return_char_limit = 1_000_000
                row.metadata_ = {}

    async def create(self, spec: ToolCreate, *, upsert: bool = False) -> Tool:
        name, description, json_schema = schema_for(spec.source_code, spec.json_schema, spec.args_json_schema)
        async with _name_taken(name), self.db.transaction() as s:
            await self.db.serialize(s, f"tools.name:{name}")
            row = (await s.execute(_named(name))).scalar()
            if row is not None and not upsert:
                raise ConflictError(f"Tool with name {name!r} already exists (id {row.id}); use PUT /v1/tools to upsert")
            if row is not None and row.tool_type != "custom":
                raise ConflictError(f"Tool name {name!r} belongs to a built-in tool; choose another name")
            if row is None:
                row = ToolRow(id=new_id("tool"), name=name, tool_type="custom")
                s.add(row)
            row.description = spec.description or description
            row.source_type = spec.source_type
            row.source_code = spec.source_code
            row.json_schema = json_schema
            row.args_json_schema = spec.args_json_schema
            row.return_char_limit = spec.return_char_limit
            row.pip_requirements = [p.model_dump() for p in spec.pip_requirements] if spec.pip_requirements else None
            row.tags = list(spec.tags)
            row.metadata_ = row.metadata_ or {}
        self._changed()
        return tool_out(row)

    async def register(self, *, name: str, tool_type: str, description: str, json_schema: dict[str, Any],
                       tags: list[str], metadata: dict[str, Any]) -> Tool:
        """Create or refresh a non-Python tool (an MCP or Composio tool) by name."""
        async with _name_taken(name), self.db.transaction() as s:
            await self.db.serialize(s, f"tools.name:{name}")  # every worker registers the same MCP servers' tools
            row = (await s.execute(_named(name))).scalar()
            if row is not None and row.tool_type not in (tool_type,):
                raise ConflictError(f"Tool with name {name!r} already exists as a {row.tool_type} tool")
            if row is None:
                row = ToolRow(id=new_id("tool"), name=name, tool_type=tool_type)
                s.add(row)
            row.description = description
            row.source_type = "python"
            row.json_schema = json_schema
            row.tags = tags
            row.metadata_ = metadata
            row.return_char_limit = 6000
        return tool_out(row)

    async def refresh(self, tool_id: str, *, description: str, json_schema: dict[str, Any]) -> None:
        """Give a registered (MCP) tool its server's current description and schema; its name stays."""
        async with self.db.transaction() as s:
            row = await s.get(ToolRow, tool_id)
            if row is not None:
                row.description = description
                row.json_schema = json_schema

    async def get(self, tool_id: str) -> Tool:
        async with self.db.session() as s:
            row = await s.get(ToolRow, tool_id)
            if row is None:
                raise NotFoundError.for_id("Tool", tool_id)
            return tool_out(row)

    async def get_by_name(self, name: str) -> Tool | None:
        async with self.db.session() as s:
            row = (await s.execute(_named(name))).scalar()
            return tool_out(row) if row else None

    async def list(self, *, name: str | None = None, before: str | None = None, after: str | None = None,
                   limit: int | None = 50, ascending: bool = True) -> list[Tool]:
        async with self.db.session() as s:
            stmt = select(ToolRow)
            if name:
                stmt = stmt.where(ToolRow.name == name)
            rows = await paginate(s, stmt, ToolRow, before=before, after=after, limit=limit, ascending=ascending)
            return [tool_out(r) for r in rows]

    async def count(self) -> int:
        async with self.db.session() as s:
            return int((await s.execute(select(func.count()).select_from(ToolRow))).scalar_one())

    async def modify(self, tool_id: str, update: ToolUpdate) -> Tool:
        async with self.db.transaction() as s:
            row = await s.get(ToolRow, tool_id)
            if row is None:
                raise NotFoundError.for_id("Tool", tool_id)
            data = update.model_dump(exclude_unset=True)
            if "source_code" in data or "json_schema" in data or "args_json_schema" in data:
                if row.tool_type != "custom":
                    raise InvalidRequestError(f"Tool {row.name!r} is a {row.tool_type} tool; its code cannot change")
                source = data.get("source_code") or row.source_code or ""
                name, description, json_schema = schema_for(
                    source, data.get("json_schema"), data.get("args_json_schema", row.args_json_schema))
                if name != row.name:
                    clash = (await s.execute(_named(name))).scalar()
                    if clash is not None:
                        raise ConflictError(f"Tool with name {name!r} already exists (id {clash.id})")
                    row.name = name
                row.source_code = source
                row.json_schema = json_schema
                if "args_json_schema" in data:
                    row.args_json_schema = data["args_json_schema"]
                if "description" not in data:
                    row.description = description
            for key in ("description", "tags", "source_type", "return_char_limit"):
                if key in data and data[key] is not None:
                    setattr(row, key, data[key])
            if "description" in data and data["description"]:
                row.json_schema = {**row.json_schema, "description": data["description"]}
            if "pip_requirements" in data:
                row.pip_requirements = data["pip_requirements"]
        self._changed()
        return tool_out(row)

    async def delete(self, tool_id: str) -> None:
        async with self.db.transaction() as s:
            row = await s.get(ToolRow, tool_id)
            if row is None:
                raise NotFoundError.for_id("Tool", tool_id)
            await s.delete(row)
        self._changed()
