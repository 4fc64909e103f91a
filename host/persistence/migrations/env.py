"""Alembic environment: run by ``host.persistence.db.migrate`` on a live connection, never by import."""

from __future__ import annotations

from alembic import context

from host.persistence.models import Base

if context.is_offline_mode():  # rendering the SQL that creates a fresh database (host.persistence.fresh)
    context.configure(dialect_name=context.config.attributes["dialect"], target_metadata=Base.metadata,
                      output_buffer=context.config.attributes["output"], literal_binds=True,
                      transaction_per_migration=False)
else:
    connection = context.config.attributes.get("connection")
    if connection is None:  # pragma: no cover - only for `alembic revision --autogenerate` by developers
        raise RuntimeError("run migrations through host.persistence.db.migrate()")
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
with context.begin_transaction():
    context.run_migrations()
