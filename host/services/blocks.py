"""Memory blocks: standalone CRUD and the agents that share a block."""

from __future__ import annotations

from sqlalchemy import func, select

from host.errors import InvalidRequestError, NotFoundError
from host.ids import new_id
from host.persistence.convert import block_out
from host.persistence.db import Database
from host.persistence.models import AgentBlockRow, AgentRow, BlockRow
from host.persistence.paging import paginate
from host.schemas.blocks import DEFAULT_DESCRIPTIONS, Block, BlockUpdate, CreateBlock, check_limit


def new_block_row(spec: CreateBlock) -> BlockRow:
    return BlockRow(
        id=new_id("block"),
        label=spec.label,
        value=spec.value,
        limit=spec.limit,
        name=spec.name,
        description=spec.description if spec.description is not None else DEFAULT_DESCRIPTIONS.get(spec.label),
        read_only=spec.read_only,
        is_template=spec.is_template,
        preserve_on_migration=bool(spec.preserve_on_migration),
        metadata_=spec.metadata or {},
    )


def apply_block_update(row: BlockRow, update: BlockUpdate) -> None:
    data = update.model_dump(exclude_unset=True)
    new_value = data.get("value", row.value)
    new_limit = data.get("limit", row.limit)
    try:
        check_limit(new_value if new_value is not None else "", new_limit, data.get("label", row.label))
    except ValueError as exc:
        raise InvalidRequestError(str(exc)) from None
    for key, value in data.items():
        if key == "metadata":
            row.metadata_ = value or {}
        elif value is not None or key in ("description", "name"):
            setattr(row, key, value)


class BlockService:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def create(self, spec: CreateBlock) -> Block:
        async with self.db.transaction() as s:
            row = new_block_row(spec)
            s.add(row)
        return block_out(row)

    async def get(self, block_id: str) -> Block:
        async with self.db.session() as s:
            row = await s.get(BlockRow, block_id)
            if row is None:
                raise NotFoundError.for_id("Block", block_id)
            return block_out(row)

    async def list(self, *, label: str | None = None, templates_only: bool = False, name: str | None = None,
                   identity_id: str | None = None, before: str | None = None, after: str | None = None,
                   limit: int | None = 50, ascending: bool = True) -> list[Block]:
        from host.persistence.models import IdentityBlockRow

        async with self.db.session() as s:
            stmt = select(BlockRow)
            if label:
                stmt = stmt.where(BlockRow.label == label)
            if templates_only:
                stmt = stmt.where(BlockRow.is_template.is_(True))
            if name:
                stmt = stmt.where(BlockRow.name == name)
            if identity_id:
                stmt = stmt.join(IdentityBlockRow, IdentityBlockRow.block_id == BlockRow.id).where(
                    IdentityBlockRow.identity_id == identity_id)
            rows = await paginate(s, stmt, BlockRow, before=before, after=after, limit=limit, ascending=ascending)
            return [block_out(r) for r in rows]

    async def count(self) -> int:
        async with self.db.session() as s:
            return int((await s.execute(select(func.count()).select_from(BlockRow))).scalar_one())

    async def modify(self, block_id: str, update: BlockUpdate) -> Block:
        async with self.db.transaction() as s:
            row = await s.get(BlockRow, block_id)
            if row is None:
                raise NotFoundError.for_id("Block", block_id)
            apply_block_update(row, update)
            await s.flush()
            from host.services.memory import recompile_sharing

            await s.run_sync(recompile_sharing, row.id)
        return block_out(row)

    async def delete(self, block_id: str) -> None:
        from host.services.memory import recompile_system

        async with self.db.transaction() as s:
            row = await s.get(BlockRow, block_id)
            if row is None:
                raise NotFoundError.for_id("Block", block_id)
            sharing = (await s.execute(select(AgentRow).join(AgentBlockRow, AgentBlockRow.agent_id == AgentRow.id)
                                       .where(AgentBlockRow.block_id == block_id))).scalars().all()
            await s.delete(row)
            await s.flush()
            for agent in sharing:  # the block leaves every agent's compiled system prompt too
                await s.run_sync(recompile_system, agent)

    async def agent_ids(self, block_id: str) -> list[str]:
        async with self.db.session() as s:
            if await s.get(BlockRow, block_id) is None:
                raise NotFoundError.for_id("Block", block_id)
            rows = await s.execute(
                select(AgentRow.id).join(AgentBlockRow, AgentBlockRow.agent_id == AgentRow.id)
                .where(AgentBlockRow.block_id == block_id).order_by(AgentRow.created_at)
            )
            return [r for (r,) in rows.all()]
