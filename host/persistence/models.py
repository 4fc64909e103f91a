"""ORM tables. Repositories turn rows into domain objects; rows never leave ``host.persistence``.

Schema changes are versioned with Alembic (``host/persistence/migrations``): change a table here, then add
a revision there.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from host.ids import DEFAULT_ORG_ID, utcnow
from host.persistence.types import Embedding, JSONType


class Base(DeclarativeBase):
    __table__: ClassVar[Table]  # every model here is mapped to a Table (FromClause in general)


class _Timestamps:
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow, nullable=False)


class OrgOwned:
    """A top-level object of one organization (0012; host.persistence.tenancy scopes every ORM statement)."""

    organization_id: Mapped[str] = mapped_column(String(64), nullable=False, index=True,
                                                 server_default=DEFAULT_ORG_ID)


class OrgShared:
    """A catalogue entry of one organization, or (NULL) of every organization (0012)."""

    organization_id: Mapped[str | None] = mapped_column(String(64), index=True)


class AgentRow(OrgOwned, _Timestamps, Base):
    __tablename__ = "agents"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(256), nullable=False, index=True)
    agent_type: Mapped[str] = mapped_column(String(64), nullable=False, default="memgpt_agent")
    system: Mapped[str] = mapped_column(Text, nullable=False, default="")
    description: Mapped[str | None] = mapped_column(Text)
    metadata_: Mapped[dict[str, Any] | None] = mapped_column("metadata", JSONType)
    llm_config: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False)
    embedding_config: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False)
    tool_rules: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, nullable=False, default=list)
    message_ids: Mapped[list[str]] = mapped_column(JSONType, nullable=False, default=list)
    tool_exec_env: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False, default=dict)
    message_buffer_autoclear: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    enable_sleeptime: Mapped[bool | None] = mapped_column(Boolean)
    response_format: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    timezone: Mapped[str | None] = mapped_column(String(64))
    project_id: Mapped[str | None] = mapped_column(String(64))
    template_id: Mapped[str | None] = mapped_column(String(64))
    base_template_id: Mapped[str | None] = mapped_column(String(64))
    last_run_completion: Mapped[datetime | None] = mapped_column(DateTime)
    last_run_duration_ms: Mapped[int | None] = mapped_column(Integer)
    # The stored system message no longer shows the agent's memory: the next read that shows it compiles it
    # first (0014; host.memory.system.mark_stale / refresh_stale).
    prompt_stale: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False, server_default=false(),
                                               index=True)

    __table_args__ = (Index("ix_agents_created", "created_at", "id"),)


class BlockRow(OrgOwned, _Timestamps, Base):
    __tablename__ = "blocks"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    label: Mapped[str] = mapped_column(String(256), nullable=False, index=True)
    value: Mapped[str] = mapped_column(Text, nullable=False, default="")
    limit: Mapped[int] = mapped_column(Integer, nullable=False, default=5000)
    name: Mapped[str | None] = mapped_column(String(256))
    description: Mapped[str | None] = mapped_column(Text)
    read_only: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    is_template: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    preserve_on_migration: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    metadata_: Mapped[dict[str, Any] | None] = mapped_column("metadata", JSONType)

    __table_args__ = (Index("ix_blocks_created", "created_at", "id"),)


class AgentBlockRow(Base):
    __tablename__ = "agent_blocks"

    agent_id: Mapped[str] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True)
    block_id: Mapped[str] = mapped_column(ForeignKey("blocks.id", ondelete="CASCADE"), primary_key=True, index=True)
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


class ToolRow(OrgShared, _Timestamps, Base):
    __tablename__ = "tools"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(256), nullable=False)  # unique per organization (0013)
    tool_type: Mapped[str] = mapped_column(String(64), nullable=False, default="custom")
    description: Mapped[str | None] = mapped_column(Text)
    source_type: Mapped[str] = mapped_column(String(32), nullable=False, default="python")
    source_code: Mapped[str | None] = mapped_column(Text)
    json_schema: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False)
    args_json_schema: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    return_char_limit: Mapped[int] = mapped_column(Integer, nullable=False, default=6000)
    pip_requirements: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONType)
    tags: Mapped[list[str]] = mapped_column(JSONType, nullable=False, default=list)
    metadata_: Mapped[dict[str, Any] | None] = mapped_column("metadata", JSONType)

    __table_args__ = (Index("ix_tools_created", "created_at", "id"),
                      UniqueConstraint("organization_id", "name", name="uq_tools_org_name"))


class AgentToolRow(Base):
    __tablename__ = "agent_tools"

    agent_id: Mapped[str] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True)
    tool_id: Mapped[str] = mapped_column(ForeignKey("tools.id", ondelete="CASCADE"), primary_key=True, index=True)
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


class AgentTagRow(Base):
    __tablename__ = "agent_tags"

    agent_id: Mapped[str] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True)
    tag: Mapped[str] = mapped_column(String(256), primary_key=True, index=True)


class IdentityRow(OrgOwned, _Timestamps, Base):
    __tablename__ = "identities"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    identifier_key: Mapped[str] = mapped_column(String(256), nullable=False)
    name: Mapped[str] = mapped_column(String(256), nullable=False)
    identity_type: Mapped[str] = mapped_column(String(32), nullable=False)
    project_id: Mapped[str | None] = mapped_column(String(64))
    properties: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, nullable=False, default=list)

    __table_args__ = (UniqueConstraint("identifier_key", "project_id", name="uq_identity_key_project"),)


class IdentityAgentRow(Base):
    __tablename__ = "identity_agents"

    identity_id: Mapped[str] = mapped_column(ForeignKey("identities.id", ondelete="CASCADE"), primary_key=True)
    agent_id: Mapped[str] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True, index=True)


class IdentityBlockRow(Base):
    __tablename__ = "identity_blocks"

    identity_id: Mapped[str] = mapped_column(ForeignKey("identities.id", ondelete="CASCADE"), primary_key=True)
    block_id: Mapped[str] = mapped_column(ForeignKey("blocks.id", ondelete="CASCADE"), primary_key=True, index=True)


class MessageRow(Base):
    __tablename__ = "messages"

    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    agent_id: Mapped[str] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"), nullable=False)
    role: Mapped[str] = mapped_column(String(16), nullable=False)
    content: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONType)
    text: Mapped[str | None] = mapped_column(Text)
    name: Mapped[str | None] = mapped_column(String(256))
    tool_calls: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONType)
    tool_call_id: Mapped[str | None] = mapped_column(String(128))
    tool_returns: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONType)
    model: Mapped[str | None] = mapped_column(String(256))
    sender_id: Mapped[str | None] = mapped_column(String(128))
    otid: Mapped[str | None] = mapped_column(String(128))
    step_id: Mapped[str | None] = mapped_column(String(64), index=True)
    run_id: Mapped[str | None] = mapped_column(String(64), index=True)
    group_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)

    __table_args__ = (Index("ix_messages_agent_seq", "agent_id", "seq"),)


class PassageRow(Base):
    __tablename__ = "passages"

    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    agent_id: Mapped[str | None] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"), index=True)
    source_id: Mapped[str | None] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"), index=True)
    file_id: Mapped[str | None] = mapped_column(String(64), index=True)
    file_name: Mapped[str | None] = mapped_column(String(512))
    text: Mapped[str] = mapped_column(Text, nullable=False)
    embedding: Mapped[list[float] | None] = mapped_column(Embedding)
    embedding_dim: Mapped[int | None] = mapped_column(Integer)
    embedding_config: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    tags: Mapped[list[str] | None] = mapped_column(JSONType)
    metadata_: Mapped[dict[str, Any] | None] = mapped_column("metadata", JSONType)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow, nullable=False)
    archive_id: Mapped[str | None] = mapped_column(String(64), index=True)  # 0003


class ArchiveRow(OrgOwned, _Timestamps, Base):  # 0003: a named passage store (1.x API)
    __tablename__ = "archives"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(256), nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
    embedding_config: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    metadata_: Mapped[dict[str, Any] | None] = mapped_column("metadata", JSONType)


class ArchiveAgentRow(Base):  # 0003
    __tablename__ = "archives_agents"

    archive_id: Mapped[str] = mapped_column(ForeignKey("archives.id", ondelete="CASCADE"), primary_key=True)
    agent_id: Mapped[str] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True, index=True)


class FileAgentRow(Base):  # 0003: a file of an attached folder, open or closed in the agent's view
    __tablename__ = "files_agents"

    agent_id: Mapped[str] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True)
    file_id: Mapped[str] = mapped_column(ForeignKey("files.id", ondelete="CASCADE"), primary_key=True)
    id: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    is_open: Mapped[bool] = mapped_column(Boolean, nullable=False)
    last_accessed_at: Mapped[datetime | None] = mapped_column(DateTime)


class SourceRow(OrgOwned, _Timestamps, Base):
    __tablename__ = "sources"
    __table_args__ = (UniqueConstraint("organization_id", "name", name="uq_sources_org_name"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(256), nullable=False)  # unique per organization (0013)
    description: Mapped[str | None] = mapped_column(Text)
    instructions: Mapped[str | None] = mapped_column(Text)
    metadata_: Mapped[dict[str, Any] | None] = mapped_column("metadata", JSONType)
    embedding_config: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False)


class FileRow(_Timestamps, Base):
    __tablename__ = "files"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    source_id: Mapped[str] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"), nullable=False, index=True)
    file_name: Mapped[str] = mapped_column(String(512), nullable=False)
    file_type: Mapped[str | None] = mapped_column(String(128))
    file_size: Mapped[int | None] = mapped_column(BigInteger)
    processing_status: Mapped[str] = mapped_column(String(32), nullable=False, default="pending")
    error_message: Mapped[str | None] = mapped_column(Text)
    total_chunks: Mapped[int | None] = mapped_column(Integer)
    chunks_embedded: Mapped[int | None] = mapped_column(Integer)
    original_file_name: Mapped[str | None] = mapped_column(String(512))  # 0002
    job_id: Mapped[str | None] = mapped_column(String(64))  # 0002: the ingestion job
    storage_path: Mapped[str | None] = mapped_column(Text)  # 0002: uploaded bytes until ingested


class UploadBlobRow(Base):
    """An uploaded file's bytes until its ingestion job ends (0010): in the database, so that any server
    process sharing it can ingest the file."""

    __tablename__ = "upload_blobs"

    file_id: Mapped[str] = mapped_column(ForeignKey("files.id", ondelete="CASCADE"), primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)


class AgentSourceRow(Base):
    __tablename__ = "agent_sources"

    agent_id: Mapped[str] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True)
    source_id: Mapped[str] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"), primary_key=True, index=True)


class JobRow(OrgOwned, _Timestamps, Base):
    """Jobs and runs share a table (Letta: a run is a job of type ``run``)."""

    __tablename__ = "jobs"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    job_type: Mapped[str] = mapped_column(String(16), nullable=False, default="job")
    status: Mapped[str] = mapped_column(String(32), nullable=False, default="created", index=True)
    agent_id: Mapped[str | None] = mapped_column(String(64), index=True)
    completed_at: Mapped[datetime | None] = mapped_column(DateTime)
    stop_reason: Mapped[str | None] = mapped_column(String(64))
    metadata_: Mapped[dict[str, Any] | None] = mapped_column("metadata", JSONType)
    request_config: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    usage: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    progress: Mapped[float | None] = mapped_column(Float)
    source_id: Mapped[str | None] = mapped_column(String(64), index=True)  # 0002: ingestion jobs
    owner: Mapped[str | None] = mapped_column(String(64))  # 0003: the server process running the run
    lease_expires_at: Mapped[datetime | None] = mapped_column(DateTime)  # 0003: orphaned after this


class BatchItemRow(_Timestamps, Base):
    """One request of a message batch (0005); the batch itself is a ``jobs`` row of type ``batch``."""

    __tablename__ = "batch_items"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    batch_id: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    agent_id: Mapped[str] = mapped_column(String(64), nullable=False)
    request: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False)
    run_id: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(32), nullable=False)  # pending | running | completed | failed | cancelled
    error: Mapped[str | None] = mapped_column(Text)


class RunEventRow(Base):  # 0004: a background run's encoded stream events, numbered from 1
    __tablename__ = "run_events"

    run_id: Mapped[str] = mapped_column(String(64), ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True)
    seq_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)


class ConversationRow(_Timestamps, Base):  # 0004: an agent's named thread (1.x /v1/conversations)
    __tablename__ = "conversations"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    agent_id: Mapped[str] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"), nullable=False, index=True)
    summary: Mapped[str | None] = mapped_column(Text)
    settings: Mapped[dict[str, Any] | None] = mapped_column(JSONType)  # model, model_settings, isolated labels
    last_message_at: Mapped[datetime | None] = mapped_column(DateTime)


class StepRow(Base):
    __tablename__ = "steps"

    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    agent_id: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    run_id: Mapped[str | None] = mapped_column(String(64), index=True)
    provider_name: Mapped[str | None] = mapped_column(String(64))
    model: Mapped[str | None] = mapped_column(String(256))
    model_endpoint: Mapped[str | None] = mapped_column(String(512))
    context_window_limit: Mapped[int | None] = mapped_column(Integer)
    prompt_tokens: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    completion_tokens: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    total_tokens: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    stop_reason: Mapped[str | None] = mapped_column(String(64))
    feedback: Mapped[str | None] = mapped_column(String(16))
    tid: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)


class SandboxConfigRow(OrgOwned, _Timestamps, Base):
    __tablename__ = "sandbox_configs"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    type: Mapped[str] = mapped_column(String(16), nullable=False)
    config: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False, default=dict)


class SandboxEnvVarRow(_Timestamps, Base):
    __tablename__ = "sandbox_env_vars"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    sandbox_config_id: Mapped[str] = mapped_column(
        ForeignKey("sandbox_configs.id", ondelete="CASCADE"), nullable=False, index=True
    )
    key: Mapped[str] = mapped_column(String(256), nullable=False)
    value: Mapped[str] = mapped_column(Text, nullable=False)
    description: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (UniqueConstraint("sandbox_config_id", "key", name="uq_sandbox_env_key"),)


class McpServerRow(OrgShared, _Timestamps, Base):
    __tablename__ = "mcp_servers"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    server_name: Mapped[str] = mapped_column(String(256), nullable=False, unique=True)
    server_type: Mapped[str] = mapped_column(String(32), nullable=False)
    config: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False)


class GroupRow(OrgOwned, _Timestamps, Base):  # 0004_groups: a multi-agent group (issue 16)
    __tablename__ = "groups"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    manager_type: Mapped[str] = mapped_column(String(32), nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False)
    manager_agent_id: Mapped[str | None] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"), index=True)
    termination_token: Mapped[str | None] = mapped_column(String(256))
    max_turns: Mapped[int | None] = mapped_column(Integer)
    sleeptime_agent_frequency: Mapped[int | None] = mapped_column(Integer)
    turns_counter: Mapped[int | None] = mapped_column(Integer)
    last_processed_message_id: Mapped[str | None] = mapped_column(String(64))
    max_message_buffer_length: Mapped[int | None] = mapped_column(Integer)
    min_message_buffer_length: Mapped[int | None] = mapped_column(Integer)
    metadata_: Mapped[dict[str, Any] | None] = mapped_column("metadata", JSONType)

    __table_args__ = (Index("ix_groups_created", "created_at", "id"),)


class GroupAgentRow(Base):  # 0004_groups: members in speaking order
    __tablename__ = "groups_agents"

    group_id: Mapped[str] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True)
    agent_id: Mapped[str] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True, index=True)
    position: Mapped[int] = mapped_column(Integer, nullable=False)


class GroupBlockRow(Base):  # 0004_groups
    __tablename__ = "groups_blocks"

    group_id: Mapped[str] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True)
    block_id: Mapped[str] = mapped_column(ForeignKey("blocks.id", ondelete="CASCADE"), primary_key=True)


# ---- 0005: organizations, users, per-user API keys, bring-your-own providers ------------------------
class OrganizationRow(_Timestamps, Base):
    __tablename__ = "organizations"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(256), nullable=False)
    privileged_tools: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)


class UserRow(_Timestamps, Base):
    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(256), nullable=False)
    organization_id: Mapped[str] = mapped_column(String(64), ForeignKey("organizations.id"), nullable=False,
                                                 index=True)


class ApiKeyRow(Base):
    """A user's API key: only its SHA-256 (the token is 256 random bits) and a short prefix are kept."""

    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(64), ForeignKey("users.id", ondelete="CASCADE"), nullable=False,
                                         index=True)
    name: Mapped[str | None] = mapped_column(String(256))
    prefix: Mapped[str] = mapped_column(String(32), nullable=False)
    key_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)


class ProviderRow(_Timestamps, Base):
    """An organization's own provider; ``api_key_enc`` is Fernet ciphertext (host.persistence.secret_box)."""

    __tablename__ = "providers"
    __table_args__ = (UniqueConstraint("organization_id", "name", name="uq_providers_org_name"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    organization_id: Mapped[str] = mapped_column(String(64), ForeignKey("organizations.id"), nullable=False,
                                                 index=True)
    name: Mapped[str] = mapped_column(String(256), nullable=False)
    provider_type: Mapped[str] = mapped_column(String(64), nullable=False)
    base_url: Mapped[str | None] = mapped_column(Text)
    api_key_enc: Mapped[str | None] = mapped_column(Text)
    access_key_enc: Mapped[str | None] = mapped_column(Text)
    region: Mapped[str | None] = mapped_column(String(128))


class ProviderTraceRow(Base):
    """A step's model call as sent and answered (secrets stripped, bounded in size; pruned by age)."""

    __tablename__ = "provider_traces"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    step_id: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    agent_id: Mapped[str | None] = mapped_column(String(64))
    request_json: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False)
    response_json: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False, index=True)


class McpOAuthGrantRow(_Timestamps, Base):  # 0011, 0013: OAuth grants of remote MCP servers, per organization
    """``grant_enc`` is Fernet ciphertext (host.persistence.secret_box) of the grant's JSON: tokens, the client
    registration (its secret too), the access token's expiry and the authorization server's metadata.

    One per (organization, server URL); ``organization_id`` NULL: the grant of the operator's config-file
    servers (every organization's). Not ``OrgShared``: the store filters by the owner it connects for."""

    __tablename__ = "mcp_oauth_grants"
    __table_args__ = (UniqueConstraint("organization_id", "server_url", name="uq_mcp_oauth_grants_org_url"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    organization_id: Mapped[str | None] = mapped_column(String(64))
    server_url: Mapped[str] = mapped_column(String(2048), nullable=False)
    grant_enc: Mapped[str] = mapped_column(Text, nullable=False)


class McpOAuthSessionRow(Base):  # 0011: one interactive authorization, waiting for the provider's redirect
    """Found by its ``state`` (unguessable, single use, short-lived); ``code_enc`` is Fernet ciphertext."""

    __tablename__ = "mcp_oauth_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    state: Mapped[str] = mapped_column(String(256), nullable=False, unique=True)
    server_name: Mapped[str] = mapped_column(String(256), nullable=False)
    server_url: Mapped[str] = mapped_column(String(2048), nullable=False)
    organization_id: Mapped[str | None] = mapped_column(String(64))  # 0013: whose grant it becomes (NULL: shared)
    status: Mapped[str] = mapped_column(String(16), nullable=False)  # pending | authorized | refused | used
    code_enc: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    expires_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
