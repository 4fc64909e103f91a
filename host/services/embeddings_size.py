"""How much room stored embeddings take: ``GET /v1/embeddings/total_storage_size``.

Letta's figure is an estimate — passages x dimension x 4 bytes (float32) — in the unit the caller asks
for. Here each passage counts with its own stored dimension (archival and source passages alike); a passage
stored without a vector counts nothing.
"""

from __future__ import annotations

from sqlalchemy import func, select

from host.errors import InvalidRequestError
from host.persistence.db import Database
from host.persistence.models import PassageRow

BYTES_PER_DIMENSION = 4  # float32
UNITS: dict[str, int] = {"B": 1, "KB": 1024, "MB": 1024**2, "GB": 1024**3, "TB": 1024**4}


def unit_bytes(unit: str | None) -> int:
    """The bytes in ``unit`` (B, KB, MB, GB, TB; case-insensitive; default GB), or a 422 naming the choices."""
    name = (unit or "GB").strip().upper()
    if name not in UNITS:
        raise InvalidRequestError(f"storage-unit {unit!r} is not one of {', '.join(UNITS)}")
    return UNITS[name]


async def total_embedding_bytes(db: Database) -> int:
    async with db.session() as s:
        dims = (await s.execute(select(func.coalesce(func.sum(PassageRow.embedding_dim), 0)))).scalar_one()
    return int(dims or 0) * BYTES_PER_DIMENSION
