"""archives (named passage stores) and agents' open files (1.x API generation)

Revision ID: 0003
Revises: 0002

Written by hand.

* ``archives``: a named store of passages with its own embedding config; ``archives_agents`` links
  archives to agents (many to many). ``passages.archive_id``: a passage belongs to an agent, a source
  or an archive (no foreign key: SQLite cannot add one to an existing table; deleting an archive deletes
  its passages in the same transaction).
* ``files_agents``: whether a file of an attached folder is open in an agent's view, and when it was
  last opened.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from host.persistence.types import JSONType

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    json = JSONType()
    op.create_table(
        "archives",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("description", sa.Text()),
        sa.Column("embedding_config", json),
        sa.Column("metadata", json),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "archives_agents",
        sa.Column("archive_id", sa.String(64), sa.ForeignKey("archives.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("agent_id", sa.String(64), sa.ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True),
    )
    op.create_index("ix_archives_agents_agent_id", "archives_agents", ["agent_id"])
    op.add_column("passages", sa.Column("archive_id", sa.String(64)))
    op.create_index("ix_passages_archive_id", "passages", ["archive_id"])
    op.create_table(
        "files_agents",
        sa.Column("agent_id", sa.String(64), sa.ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("file_id", sa.String(64), sa.ForeignKey("files.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("id", sa.String(64), nullable=False, unique=True),
        sa.Column("is_open", sa.Boolean(), nullable=False),
        sa.Column("last_accessed_at", sa.DateTime()),
    )


def downgrade() -> None:
    op.drop_table("files_agents")
    op.drop_index("ix_passages_archive_id", "passages")
    op.drop_column("passages", "archive_id")
    op.drop_index("ix_archives_agents_agent_id", "archives_agents")
    op.drop_table("archives_agents")
    op.drop_table("archives")
