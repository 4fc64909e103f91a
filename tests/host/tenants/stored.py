"""What the database holds, read raw: every file of a SQLite data directory, or every row of a Postgres table."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.support.server import ServerProcess


def stored_bytes(server: ServerProcess, tables: tuple[str, ...]) -> bytes:
    """The SQLite database files' bytes, or (Postgres) the tables' rows as text."""
    uri = server.env.get("LETTA_PG_URI")
    if not uri:
        return b"".join(p.read_bytes() for p in Path(server.home).glob("agenthost.db*"))

    import asyncpg

    async def dump() -> bytes:
        conn = await asyncpg.connect(uri.replace("postgresql+asyncpg://", "postgresql://"))
        try:
            out = []
            for table in tables:
                out += [repr(tuple(r)) for r in await conn.fetch(f"SELECT * FROM {table}")]  # noqa: S608
            return "\n".join(out).encode()
        finally:
            await conn.close()

    return asyncio.run(dump())
