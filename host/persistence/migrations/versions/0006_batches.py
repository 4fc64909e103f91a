"""message batches: one row per request of a batch

Revision ID: 0006
Revises: 0005

Written by hand. A batch is a job of type ``batch`` (``jobs``: status, owner and lease as runs have);
``batch_items`` holds each request of it (the agent, the request body, its position) and the run that
carries it once started. The request is stored, so a batch interrupted by a stopped server is resumed.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from host.persistence.types import JSONType

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "batch_items",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("batch_id", sa.String(64), nullable=False, index=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.String(64), nullable=False),
        sa.Column("request", JSONType(), nullable=False),
        sa.Column("run_id", sa.String(64), nullable=True),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("batch_items")
