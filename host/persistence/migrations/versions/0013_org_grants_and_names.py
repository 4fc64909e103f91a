"""org grants and names: MCP OAuth grants per organization; tool and source names unique per organization

Revision ID: 0013
Revises: 0012

Written by hand. ``mcp_oauth_grants`` is keyed by (organization_id, server_url) instead of the URL alone
(NULL organization: the grant of the operator's config-file servers, every organization's); an existing
grant goes to the default organization when one of its database servers (all the default organization's
since 0012) has that URL, else it stays the config-file servers' (NULL). ``mcp_oauth_sessions`` carry the
organization whose grant the authorization becomes.

Tool and source names are unique per organization (``uq_tools_org_name``, ``uq_sources_org_name``) instead of
server-wide. A tool of NULL organization (built-in, or an MCP tool registered by the system) is every
organization's: the services refuse a name that clashes with one (host.services.tools), which a NULL in a
UNIQUE cannot. MCP server names stay unique server-wide (the pool runs servers by name).

SQLite cannot drop a table's inline UNIQUE: the tables are rebuilt there (create, copy, drop, rename, as
SQLite's ALTER TABLE documentation describes), with foreign keys off (``host.persistence.db`` migrates a SQLite
file so): dropping ``tools`` or ``sources`` would otherwise cascade to the agents' links.
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import context, op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

DEFAULT_ORG_ID = "org-00000000-0000-4000-8000-000000000000"


def _grants_table(name: str) -> None:
    op.create_table(
        name,
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("organization_id", sa.String(64), nullable=True),
        sa.Column("server_url", sa.String(2048), nullable=False),
        sa.Column("grant_enc", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("organization_id", "server_url", name="uq_mcp_oauth_grants_org_url"),
    )


def _grants_by_organization() -> None:
    if op.get_context().dialect.name == "postgresql":
        op.drop_constraint("mcp_oauth_grants_server_url_key", "mcp_oauth_grants", type_="unique")
        op.add_column("mcp_oauth_grants", sa.Column("organization_id", sa.String(64), nullable=True))
        op.create_unique_constraint("uq_mcp_oauth_grants_org_url", "mcp_oauth_grants",
                                    ["organization_id", "server_url"])
    else:
        _grants_table("mcp_oauth_grants_0013")
        op.execute("INSERT INTO mcp_oauth_grants_0013 (id, organization_id, server_url, grant_enc, created_at, "
                   "updated_at) SELECT id, NULL, server_url, grant_enc, created_at, updated_at FROM mcp_oauth_grants")
        op.drop_table("mcp_oauth_grants")
        op.rename_table("mcp_oauth_grants_0013", "mcp_oauth_grants")
    if context.is_offline_mode():  # a fresh database (host.persistence.fresh): no rows to place
        return
    bind = op.get_bind()
    urls: set[str] = set()
    for (config,) in bind.execute(sa.text("SELECT config FROM mcp_servers")):
        config = json.loads(config) if isinstance(config, str) else config
        if isinstance(config, dict) and isinstance(config.get("url"), str):
            urls.add(config["url"])
    for url in urls:
        bind.execute(sa.text("UPDATE mcp_oauth_grants SET organization_id = :org WHERE server_url = :url")
                     .bindparams(org=DEFAULT_ORG_ID, url=url))


def _sqlite_rebuild(table: str, columns: list[sa.Column], indexes: dict[str, list[str]]) -> None:
    names = ", ".join(c.name for c in columns)
    op.create_table(f"{table}_0013", *columns, sa.PrimaryKeyConstraint("id"),
                    sa.UniqueConstraint("organization_id", "name", name=f"uq_{table}_org_name"))
    op.execute(f"INSERT INTO {table}_0013 ({names}) SELECT {names} FROM {table}")
    op.drop_table(table)
    op.rename_table(f"{table}_0013", table)
    for name, cols in indexes.items():
        op.create_index(name, table, cols)


def _tools_columns() -> list[sa.Column]:
    return [
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("tool_type", sa.String(64), nullable=False),
        sa.Column("description", sa.Text()),
        sa.Column("source_type", sa.String(32), nullable=False),
        sa.Column("source_code", sa.Text()),
        sa.Column("json_schema", sa.JSON(), nullable=False),
        sa.Column("args_json_schema", sa.JSON()),
        sa.Column("return_char_limit", sa.Integer(), nullable=False),
        sa.Column("pip_requirements", sa.JSON()),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("metadata", sa.JSON()),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("organization_id", sa.String(64)),
    ]


def _sources_columns() -> list[sa.Column]:
    return [
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("description", sa.Text()),
        sa.Column("instructions", sa.Text()),
        sa.Column("metadata", sa.JSON()),
        sa.Column("embedding_config", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("organization_id", sa.String(64), nullable=False, server_default=DEFAULT_ORG_ID),
    ]


def _names_per_organization() -> None:
    if op.get_context().dialect.name == "postgresql":
        for table in ("tools", "sources"):
            op.drop_constraint(f"{table}_name_key", table, type_="unique")
            op.create_unique_constraint(f"uq_{table}_org_name", table, ["organization_id", "name"])
        return
    _sqlite_rebuild("tools", _tools_columns(), {"ix_tools_created": ["created_at", "id"],
                                                "ix_tools_organization_id": ["organization_id"]})
    _sqlite_rebuild("sources", _sources_columns(), {"ix_sources_organization_id": ["organization_id"]})


def upgrade() -> None:
    _grants_by_organization()
    _names_per_organization()
    op.add_column("mcp_oauth_sessions", sa.Column("organization_id", sa.String(64), nullable=True))


def downgrade() -> None:  # names must be unique server-wide again: fails while two organizations share one
    for table in ("tools", "sources"):
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(f"uq_{table}_org_name", type_="unique")
            batch.create_unique_constraint(f"{table}_name_key", ["name"])
    op.drop_column("mcp_oauth_sessions", "organization_id")
    op.execute("DELETE FROM mcp_oauth_grants WHERE organization_id IS NOT NULL")
    with op.batch_alter_table("mcp_oauth_grants") as batch:
        batch.drop_constraint("uq_mcp_oauth_grants_org_url", type_="unique")
        batch.drop_column("organization_id")
        batch.create_unique_constraint("mcp_oauth_grants_server_url_key", ["server_url"])
