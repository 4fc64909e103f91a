"""upload blobs: an uploaded file's bytes kept in the database until it is ingested

Revision ID: 0010
Revises: 0009

Written by hand. Before this the bytes waited on the receiving server's disk (``files.storage_path``), so on
a fleet another process that claimed the ingestion job could not read them. Rows written before keep their
``storage_path`` and are still read from disk.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "upload_blobs",
        sa.Column("file_id", sa.String(64), sa.ForeignKey("files.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("upload_blobs")
