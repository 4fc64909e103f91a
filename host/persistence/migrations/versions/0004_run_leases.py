"""runs record their owner (a server process) and a lease the owner renews

Revision ID: 0004
Revises: 0003

Written by hand. ``jobs.owner`` is the instance id of the server process running the run;
``jobs.lease_expires_at`` is when the run counts as orphaned unless that process renews it. Runs written
before this revision have neither: they count as orphaned (host.services.recovery).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("owner", sa.String(64), nullable=True))
        batch.add_column(sa.Column("lease_expires_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("lease_expires_at")
        batch.drop_column("owner")
