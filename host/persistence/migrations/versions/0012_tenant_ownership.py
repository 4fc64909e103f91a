"""tenant ownership: each top-level object belongs to an organization

Revision ID: 0012
Revises: 0011

Written by hand. Rows written before belong to the default organization (a single-user install changes
nothing), except the built-in tools, which every organization shares (``organization_id`` NULL on the
shared catalogues: tools and MCP servers). Child rows (messages, steps, passages, files...) are scoped
through their parent (host.persistence.tenancy).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

DEFAULT_ORG_ID = "org-00000000-0000-4000-8000-000000000000"
OWNED = ("agents", "blocks", "identities", "archives", "sources", "jobs", "sandbox_configs", "groups")
SHARED = ("tools", "mcp_servers")


def upgrade() -> None:
    for table in OWNED:
        op.add_column(table, sa.Column("organization_id", sa.String(64), nullable=False,
                                       server_default=DEFAULT_ORG_ID))
        op.create_index(f"ix_{table}_organization_id", table, ["organization_id"])
    for table in SHARED:
        op.add_column(table, sa.Column("organization_id", sa.String(64), nullable=True))
        op.create_index(f"ix_{table}_organization_id", table, ["organization_id"])
    # Tools and MCP servers added through the API so far were the default organization's; built-in tools
    # and tools of MCP servers stay shared.
    op.execute(sa.text("UPDATE tools SET organization_id = :org WHERE tool_type = 'custom'")
               .bindparams(org=DEFAULT_ORG_ID))
    op.execute(sa.text("UPDATE mcp_servers SET organization_id = :org").bindparams(org=DEFAULT_ORG_ID))


def downgrade() -> None:
    for table in (*OWNED, *SHARED):
        op.drop_index(f"ix_{table}_organization_id", table_name=table)
        with op.batch_alter_table(table) as batch:
            batch.drop_column("organization_id")
