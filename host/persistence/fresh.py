"""A fresh database from one script: the migrations rendered to SQL by Alembic's offline mode.

Creating the schema through Alembic costs its import (about 85 ms) plus the DDL issued statement by
statement; on a first start that was about 0.2 s of the server's start-up. The rendered script for the
dialect (``migrations/fresh/<dialect>.sql``, committed) runs in one go instead, and leaves the database
stamped at the head revision, exactly as the migrations would. Existing databases are still upgraded
by Alembic.

    python -m host.persistence.fresh      # re-render the scripts after adding a migration

``tests/host/persistence/test_fresh.py`` fails when a committed script differs from what the migrations
render, and checks that both paths give the same schema.
"""

from __future__ import annotations

import io
from pathlib import Path

SCRIPTS = Path(__file__).parent / "migrations" / "fresh"
DIALECTS = ("postgresql", "sqlite")


def render(dialect: str) -> str:
    """The SQL the migrations run on an empty database of ``dialect`` (with its BEGIN/COMMIT)."""
    from alembic import command
    from alembic.config import Config

    from host.persistence.db import _MIGRATIONS

    out = io.StringIO()
    cfg = Config()
    cfg.set_main_option("script_location", str(_MIGRATIONS))
    cfg.attributes["dialect"] = dialect
    cfg.attributes["output"] = out
    command.upgrade(cfg, "head", sql=True)
    return out.getvalue()


def statements(dialect: str) -> list[str]:
    """The committed script's statements for ``dialect``, without its own BEGIN/COMMIT (the caller owns the
    transaction). Alembic ends each statement with ';' at the end of a line; its comments stand alone."""
    out: list[str] = []
    current: list[str] = []
    for line in (SCRIPTS / f"{dialect}.sql").read_text().splitlines():
        if not current and (line.startswith("-- ") or not line.strip()):
            continue
        current.append(line)
        if line.rstrip().endswith(";"):
            statement = "\n".join(current).strip()
            if statement not in ("BEGIN;", "COMMIT;"):
                out.append(statement)
            current = []
    return out


def main() -> None:
    for dialect in DIALECTS:
        (SCRIPTS / f"{dialect}.sql").write_text(render(dialect))
        print(f"wrote {SCRIPTS / f'{dialect}.sql'}")


if __name__ == "__main__":
    main()
