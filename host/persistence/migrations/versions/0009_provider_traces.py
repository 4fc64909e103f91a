"""provider traces: the request and response of a step's model call (GET /v1/telemetry/{step_id})

Revision ID: 0009
Revises: 0008

Written by hand. Rows are kept for a bounded time and size (host.services.provider_traces).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from host.persistence.types import JSONType

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "provider_traces",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("step_id", sa.String(64), nullable=False),
        sa.Column("agent_id", sa.String(64), nullable=True),
        sa.Column("request_json", JSONType(), nullable=False),
        sa.Column("response_json", JSONType(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_provider_traces_step_id", "provider_traces", ["step_id"])
    op.create_index("ix_provider_traces_created_at", "provider_traces", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_provider_traces_created_at", "provider_traces")
    op.drop_index("ix_provider_traces_step_id", "provider_traces")
    op.drop_table("provider_traces")
