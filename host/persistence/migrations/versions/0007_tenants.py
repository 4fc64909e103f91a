"""organizations, users, per-user API keys and bring-your-own providers

Revision ID: 0007
Revises: 0006

Written by hand. The default organization and user (host.ids) are inserted here, so a single-user install
changes nothing. API keys keep only a SHA-256 of the token; provider keys are Fernet ciphertext.
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

DEFAULT_ORG_ID = "org-00000000-0000-4000-8000-000000000000"
DEFAULT_USER_ID = "user-00000000-0000-4000-8000-000000000000"


def _stamps() -> list[sa.Column]:
    return [sa.Column("created_at", sa.DateTime(), nullable=False), sa.Column("updated_at", sa.DateTime(), nullable=False)]


def upgrade() -> None:
    orgs = op.create_table(
        "organizations",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("privileged_tools", sa.Boolean(), nullable=False),
        *_stamps(),
    )
    users = op.create_table(
        "users",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("organization_id", sa.String(64), sa.ForeignKey("organizations.id"), nullable=False),
        *_stamps(),
    )
    op.create_index("ix_users_organization_id", "users", ["organization_id"])
    op.create_table(
        "api_keys",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("user_id", sa.String(64), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("name", sa.String(256), nullable=True),
        sa.Column("prefix", sa.String(32), nullable=False),
        sa.Column("key_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
    )
    op.create_index("ix_api_keys_user_id", "api_keys", ["user_id"])
    op.create_table(
        "providers",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("organization_id", sa.String(64), sa.ForeignKey("organizations.id"), nullable=False),
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("provider_type", sa.String(64), nullable=False),
        sa.Column("base_url", sa.Text(), nullable=True),
        sa.Column("api_key_enc", sa.Text(), nullable=True),
        sa.Column("access_key_enc", sa.Text(), nullable=True),
        sa.Column("region", sa.String(128), nullable=True),
        *_stamps(),
        sa.UniqueConstraint("organization_id", "name", name="uq_providers_org_name"),
    )
    op.create_index("ix_providers_organization_id", "providers", ["organization_id"])
    now = datetime(2025, 1, 1, tzinfo=UTC).replace(tzinfo=None)
    op.bulk_insert(orgs, [{"id": DEFAULT_ORG_ID, "name": "default_org", "privileged_tools": False,
                           "created_at": now, "updated_at": now}])
    op.bulk_insert(users, [{"id": DEFAULT_USER_ID, "name": "default_user", "organization_id": DEFAULT_ORG_ID,
                            "created_at": now, "updated_at": now}])


def downgrade() -> None:
    op.drop_table("providers")
    op.drop_table("api_keys")
    op.drop_table("users")
    op.drop_table("organizations")
