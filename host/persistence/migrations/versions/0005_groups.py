"""multi-agent groups (issue 16)

Revision ID: 0005
Revises: 0004

Written by hand.

* ``groups``: one row per group, its manager config flattened into columns (Letta's ``Group`` shape) and
  the sleep-time bookkeeping (``turns_counter``, ``last_processed_message_id``).
* ``groups_agents``: the members, in speaking order (``position``); deleting an agent removes it.
* ``groups_blocks``: the shared blocks of a group.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from host.persistence.types import JSONType

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "groups",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("manager_type", sa.String(32), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("manager_agent_id", sa.String(64), sa.ForeignKey("agents.id", ondelete="CASCADE")),
        sa.Column("termination_token", sa.String(256)),
        sa.Column("max_turns", sa.Integer()),
        sa.Column("sleeptime_agent_frequency", sa.Integer()),
        sa.Column("turns_counter", sa.Integer()),
        sa.Column("last_processed_message_id", sa.String(64)),
        sa.Column("max_message_buffer_length", sa.Integer()),
        sa.Column("min_message_buffer_length", sa.Integer()),
        sa.Column("metadata", JSONType()),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_groups_created", "groups", ["created_at", "id"])
    op.create_index("ix_groups_manager_agent_id", "groups", ["manager_agent_id"])
    op.create_table(
        "groups_agents",
        sa.Column("group_id", sa.String(64), sa.ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("agent_id", sa.String(64), sa.ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("position", sa.Integer(), nullable=False),
    )
    op.create_index("ix_groups_agents_agent_id", "groups_agents", ["agent_id"])
    op.create_table(
        "groups_blocks",
        sa.Column("group_id", sa.String(64), sa.ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("block_id", sa.String(64), sa.ForeignKey("blocks.id", ondelete="CASCADE"), primary_key=True),
    )


def downgrade() -> None:
    op.drop_table("groups_blocks")
    op.drop_table("groups_agents")
    op.drop_index("ix_groups_manager_agent_id", "groups")
    op.drop_index("ix_groups_created", "groups")
    op.drop_table("groups")
