"""sources ingestion columns; archival search indexes (full text + vectors)

Revision ID: 0002
Revises: 0001

Written by hand. Upgrades a 0001 database in place, indexing the passages it already holds.

* ``files``: ``original_file_name``, ``job_id`` (the ingestion job), ``storage_path`` (uploaded bytes kept
  on disk until ingested, so queued work survives a restart). ``jobs.source_id`` (list jobs of a source).
* SQLite: ``passages_fts`` (FTS5, external content over ``passages``, porter stemming) and, per common
  embedding dimension D, ``passages_vec_D`` (sqlite-vec ``vec0``, binary-quantised ``bit[D]`` vectors,
  partitioned by owner ``agent:<id>`` / ``source:<id>``); triggers keep both in step with ``passages``.
  Search takes the nearest candidates by Hamming distance there, then re-ranks them by exact cosine.
* Postgres: a GIN index on ``to_tsvector('english', text)`` and, per dimension D <= 2000, an HNSW index on
  the expression ``(embedding::vector(D))`` restricted to ``embedding_dim = D`` (the column is untyped).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# Keep in step with host.services.archival_index.
SQLITE_VEC_DIMS = (256, 384, 512, 768, 1024, 1536, 3072)
PG_HNSW_DIMS = (384, 768, 1024, 1536)

_OWNER = "CASE WHEN {r}.agent_id IS NOT NULL THEN 'agent:' || {r}.agent_id ELSE 'source:' || coalesce({r}.source_id, '') END"


def _sqlite_upgrade() -> None:
    op.execute("CREATE VIRTUAL TABLE passages_fts USING fts5(text, content='passages', content_rowid='seq', "
               "tokenize='porter unicode61')")
    op.execute("INSERT INTO passages_fts(passages_fts) VALUES ('rebuild')")
    op.execute("CREATE TRIGGER passages_fts_ai AFTER INSERT ON passages BEGIN "
               "INSERT INTO passages_fts(rowid, text) VALUES (new.seq, new.text); END")
    op.execute("CREATE TRIGGER passages_fts_ad AFTER DELETE ON passages BEGIN "
               "INSERT INTO passages_fts(passages_fts, rowid, text) VALUES ('delete', old.seq, old.text); END")
    op.execute("CREATE TRIGGER passages_fts_au AFTER UPDATE OF text ON passages BEGIN "
               "INSERT INTO passages_fts(passages_fts, rowid, text) VALUES ('delete', old.seq, old.text); "
               "INSERT INTO passages_fts(rowid, text) VALUES (new.seq, new.text); END")
    for dim in SQLITE_VEC_DIMS:
        table = f"passages_vec_{dim}"
        fits = f"{{r}}.embedding_dim = {dim} AND {{r}}.embedding IS NOT NULL AND length({{r}}.embedding) = {dim * 4}"
        # VALUES, not INSERT ... SELECT ... WHERE: inside an UPDATE trigger the latter loses the bit-vector
        # subtype of vec_quantize_binary's result (sqlite-vec 0.1.9).
        insert = (f"INSERT INTO {table}(rowid, owner, embedding) "
                  f"VALUES ({{r}}.seq, {_OWNER}, vec_quantize_binary({{r}}.embedding))")
        op.execute(f"CREATE VIRTUAL TABLE {table} USING vec0(owner text partition key, embedding bit[{dim}])")
        op.execute(f"INSERT INTO {table}(rowid, owner, embedding) SELECT passages.seq, "
                   f"{_OWNER.format(r='passages')}, vec_quantize_binary(passages.embedding) FROM passages "
                   f"WHERE {fits.format(r='passages')}")
        op.execute(f"CREATE TRIGGER {table}_ai AFTER INSERT ON passages WHEN {fits.format(r='new')} BEGIN "
                   f"{insert.format(r='new')}; END")
        op.execute(f"CREATE TRIGGER {table}_ad AFTER DELETE ON passages WHEN old.embedding_dim = {dim} BEGIN "
                   f"DELETE FROM {table} WHERE rowid = old.seq; END")
        changed = "AFTER UPDATE OF embedding, embedding_dim, agent_id, source_id ON passages"
        # Two triggers with exclusive conditions, so their firing order does not matter.
        op.execute(f"CREATE TRIGGER {table}_au {changed} WHEN {fits.format(r='new')} BEGIN "
                   f"DELETE FROM {table} WHERE rowid = old.seq; {insert.format(r='new')}; END")
        op.execute(f"CREATE TRIGGER {table}_au_out {changed} WHEN old.embedding_dim = {dim} AND NOT "
                   f"({fits.format(r='new')}) BEGIN DELETE FROM {table} WHERE rowid = old.seq; END")


def _sqlite_downgrade() -> None:
    for dim in SQLITE_VEC_DIMS:
        for suffix in ("ai", "ad", "au", "au_out"):
            op.execute(f"DROP TRIGGER IF EXISTS passages_vec_{dim}_{suffix}")
        op.execute(f"DROP TABLE IF EXISTS passages_vec_{dim}")
    for suffix in ("ai", "ad", "au"):
        op.execute(f"DROP TRIGGER IF EXISTS passages_fts_{suffix}")
    op.execute("DROP TABLE IF EXISTS passages_fts")


def _pg_upgrade() -> None:
    op.execute("CREATE INDEX IF NOT EXISTS ix_passages_text_tsv ON passages USING gin (to_tsvector('english', text))")
    for dim in PG_HNSW_DIMS:
        op.execute(f"CREATE INDEX IF NOT EXISTS ix_passages_embedding_hnsw_{dim} ON passages USING hnsw "
                   f"((embedding::vector({dim})) vector_cosine_ops) WHERE embedding_dim = {dim}")


def _pg_downgrade() -> None:
    for dim in PG_HNSW_DIMS:
        op.execute(f"DROP INDEX IF EXISTS ix_passages_embedding_hnsw_{dim}")
    op.execute("DROP INDEX IF EXISTS ix_passages_text_tsv")


def upgrade() -> None:
    op.add_column("files", sa.Column("original_file_name", sa.String(length=512), nullable=True))
    op.add_column("files", sa.Column("job_id", sa.String(length=64), nullable=True))
    op.add_column("files", sa.Column("storage_path", sa.Text(), nullable=True))
    op.add_column("jobs", sa.Column("source_id", sa.String(length=64), nullable=True))
    op.create_index("ix_jobs_source_id", "jobs", ["source_id"], unique=False)
    if op.get_context().dialect.name == "postgresql":
        _pg_upgrade()
    else:
        _sqlite_upgrade()


def downgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        _pg_downgrade()
    else:
        _sqlite_downgrade()
    op.drop_index("ix_jobs_source_id", table_name="jobs")
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("source_id")
    with op.batch_alter_table("files") as batch:
        batch.drop_column("storage_path")
        batch.drop_column("job_id")
        batch.drop_column("original_file_name")
