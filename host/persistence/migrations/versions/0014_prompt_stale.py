"""prompt_stale: an agent's stored system prompt is compiled again by the next read that shows it

Revision ID: 0014
Revises: 0013

Written by hand. Attaching or detaching a block no longer recompiles the stored system message (a prompt
holds every block: that work grew with the agent); it marks the agent, and the next read that shows the
stored message (message lists, exports, message search) compiles it first (host.memory.system). The mark
lives in the database so that every server process sharing it sees it. Existing rows: not stale.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("agents", sa.Column("prompt_stale", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_index("ix_agents_prompt_stale", "agents", ["prompt_stale"])


def downgrade() -> None:
    op.drop_index("ix_agents_prompt_stale", table_name="agents")
    op.drop_column("agents", "prompt_stale")
