"""Cursor pagination over (created_at, id) or an integer sequence, as Letta's ``before``/``after``/``limit``."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session


def paged(
    session: Session,
    stmt: Select[Any],
    model: Any,
    *,
    before: str | None,
    after: str | None,
    limit: int | None,
    ascending: bool,
    order_col: str = "created_at",
) -> list[Any]:
    """``paginate`` on a synchronous session (a unit of reads: ``Database.read``)."""
    col = getattr(model, order_col)
    ident = model.id
    if after:
        value = session.execute(select(col).where(ident == after)).scalar_one_or_none()
        if value is not None:
            stmt = stmt.where(or_(col > value, and_(col == value, ident > after)))
    if before:
        value = session.execute(select(col).where(ident == before)).scalar_one_or_none()
        if value is not None:
            stmt = stmt.where(or_(col < value, and_(col == value, ident < before)))
    stmt = stmt.order_by(col.asc(), ident.asc()) if ascending else stmt.order_by(col.desc(), ident.desc())
    if limit is not None:
        stmt = stmt.limit(limit)
    return list(session.execute(stmt).scalars().all())


async def paginate(
    session: AsyncSession,
    stmt: Select[Any],
    model: Any,
    *,
    before: str | None,
    after: str | None,
    limit: int | None,
    ascending: bool,
    order_col: str = "created_at",
) -> list[Any]:
    """Apply cursors and order to ``stmt`` (which selects ``model`` rows). Unknown cursors are ignored."""
    return await session.run_sync(lambda sync: paged(sync, stmt, model, before=before, after=after, limit=limit,
                                                      ascending=ascending, order_col=order_col))
