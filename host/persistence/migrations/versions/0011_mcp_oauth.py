"""mcp oauth: OAuth grants of remote MCP servers, and authorizations waiting for their redirect

Revision ID: 0011
Revises: 0010

Written by hand. ``mcp_oauth_grants`` holds one encrypted grant per server URL (tokens, client registration);
``mcp_oauth_sessions`` one row per interactive authorization, found by its single-use ``state`` from
``GET /v1/tools/mcp/oauth/callback`` on whichever process the provider's redirect reaches.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "mcp_oauth_grants",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("server_url", sa.String(2048), nullable=False, unique=True),
        sa.Column("grant_enc", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "mcp_oauth_sessions",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("state", sa.String(256), nullable=False, unique=True),
        sa.Column("server_name", sa.String(256), nullable=False),
        sa.Column("server_url", sa.String(2048), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("code_enc", sa.Text(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("mcp_oauth_sessions")
    op.drop_table("mcp_oauth_grants")
