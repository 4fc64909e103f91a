"""run_events: a background run's encoded stream events, numbered (1.x API generation)

Revision ID: 0008
Revises: 0007

Written by hand.

* ``run_events``: one row per event of a ``background`` stream, ``seq_id`` counting from 1 within the run,
  the event's wire payload as JSON. ``POST /v1/runs/{id}/stream`` replays the rows after a cursor and
  follows new ones, from any process sharing the database. Deleting the run deletes its events.
* ``conversations``: a named thread of an agent (1.x ``/v1/conversations``); its turns run on the agent.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from host.persistence.types import JSONType

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "run_events",
        sa.Column("run_id", sa.String(64), sa.ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("seq_id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("payload", JSONType(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )


    op.create_table(
        "conversations",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("agent_id", sa.String(64), sa.ForeignKey("agents.id", ondelete="CASCADE"), nullable=False),
        sa.Column("summary", sa.Text()),
        sa.Column("settings", JSONType()),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("last_message_at", sa.DateTime()),
    )
    op.create_index("ix_conversations_agent_id", "conversations", ["agent_id"])


def downgrade() -> None:
    op.drop_index("ix_conversations_agent_id", "conversations")
    op.drop_table("conversations")
    op.drop_table("run_events")
