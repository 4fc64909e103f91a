BEGIN;

CREATE TABLE alembic_version (
    version_num VARCHAR(32) NOT NULL, 
    CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)
);

-- Running upgrade  -> 0001

CREATE TABLE agents (
    id VARCHAR(64) NOT NULL, 
    name VARCHAR(256) NOT NULL, 
    agent_type VARCHAR(64) NOT NULL, 
    system TEXT NOT NULL, 
    description TEXT, 
    metadata JSONB, 
    llm_config JSONB NOT NULL, 
    embedding_config JSONB NOT NULL, 
    tool_rules JSONB NOT NULL, 
    message_ids JSONB NOT NULL, 
    tool_exec_env JSONB NOT NULL, 
    message_buffer_autoclear BOOLEAN NOT NULL, 
    enable_sleeptime BOOLEAN, 
    response_format JSONB, 
    timezone VARCHAR(64), 
    project_id VARCHAR(64), 
    template_id VARCHAR(64), 
    base_template_id VARCHAR(64), 
    last_run_completion TIMESTAMP WITHOUT TIME ZONE, 
    last_run_duration_ms INTEGER, 
    created_at TIMESTAMP WITHOUT TIME ZONE NOT NULL, 
    updated_at TIMESTAMP WITHOUT TIME ZONE NOT NULL, 
    PRIMARY KEY (id)
);

CREATE INDEX ix_agents_created ON agents (created_at, id);

CREATE INDEX ix_agents_name ON agents (name);

CREATE TABLE blocks (
    id VARCHAR(64) NOT NULL, 
    label VARCHAR(256) NOT NULL, 
    value TEXT NOT NULL, 
    "limit" INTEGER NOT NULL, 
    name VARCHAR(256), 
    description TEXT, 
    read_only BOOLEAN NOT NULL, 
    is_template BOOLEAN NOT NULL, 
    preserve_on_migration BOOLEAN NOT NULL, 
    metadata JSONB, 
    created_at TIMESTAMP WITHOUT TIME ZONE NOT NULL, 
    updated_at TIMESTAMP WITHOUT TIME ZONE NOT NULL, 
    PRIMARY KEY (id)
);

CREATE INDEX ix_blocks_created ON blocks (created_at, id);

CREATE INDEX ix_blocks_label ON blocks (label);

CREATE TABLE identities (
    id VARCHAR(64) NOT NULL, 
    identifier_key VARCHAR(256) NOT NULL, 
    name VARCHAR(256) NOT NULL, 
    identity_type VARCHAR(32) NOT NULL, 
    project_id VARCHAR(64), 
    properties JSONB NOT NULL, 
    created_at TIMESTAMP WITHOUT TIME ZONE NOT NULL, 
    updated_at TIMESTAMP WITHOUT TIME ZONE NOT NULL, 
    PRIMARY KEY (id), 
    CONSTRAINT uq_identity_key_project UNIQUE (identifier_key, project_id)
);

CREATE TABLE jobs (
    id VARCHAR(64) NOT NULL, 
    job_type VARCHAR(16) NOT NULL, 
    status VARCHAR(32) NOT NULL, 
    agent_id VARCHAR(64), 
    completed_at TIMESTAMP WITHOUT TIME ZONE, 
    stop_reason VARCHAR(64), 
    metadata JSONB, 
    request_config JSONB, 
    payload JSONB, 
    usage JSONB, 
    progress FLOAT, 
    created_at TIMESTAMP WITHOUT TIME ZONE NOT NULL, 
    updated_at TIMESTAMP WITHOUT TIME ZONE NOT NULL, 
    PRIMARY KEY (id)
);

CREATE INDEX ix_jobs_agent_id ON jobs (agent_id);

CREATE INDEX ix_jobs_status ON jobs (status);

CREATE TABLE mcp_servers (
    id VARCHAR(64) NOT NULL, 
    server_name VARCHAR(256) NOT NULL, 
    server_type VARCHAR(32) NOT NULL, 
    config JSONB NOT NULL, 
    created_at TIMESTAMP WITHOUT TIME ZONE NOT NULL, 
    updated_at TIMESTAMP WITHOUT TIME ZONE NOT NULL, 
    PRIMARY KEY (id), 
    UNIQUE (server_name)
);

CREATE TABLE sandbox_configs (
    id VARCHAR(64) NOT NULL, 
    type VARCHAR(16) NOT NULL, 
    config JSONB NOT NULL, 
    created_at TIMESTAMP WITHOUT TIME ZONE NOT NULL, 
    updated_at TIMESTAMP WITHOUT TIME ZONE NOT NULL, 
    PRIMARY KEY (id)
);

CREATE TABLE sources (
    id VARCHAR(64) NOT NULL, 
    name VARCHAR(256) NOT NULL, 
    description TEXT, 
    instructions TEXT, 
    metadata JSONB, 
    embedding_config JSONB NOT NULL, 
    created_at TIMESTAMP WITHOUT TIME ZONE NOT NULL, 
    updated_at TIMESTAMP WITHOUT TIME ZONE NOT NULL, 
    PRIMARY KEY (id), 
    UNIQUE (name)
);

CREATE TABLE steps (
    seq BIGSERIAL NOT NULL, 
    id VARCHAR(64) NOT NULL, 
    agent_id VARCHAR(64) NOT NULL, 
    run_id VARCHAR(64), 
    provider_name VARCHAR(64), 
    model VARCHAR(256), 
    model_endpoint VARCHAR(512), 
    context_window_limit INTEGER, 
    prompt_tokens INTEGER NOT NULL, 
    completion_tokens INTEGER NOT NULL, 
    total_tokens INTEGER NOT NULL, 
    stop_reason VARCHAR(64), 
    feedback VARCHAR(16), 
    tid VARCHAR(128), 
    created_at TIMESTAMP WITHOUT TIME ZONE NOT NULL, 
    PRIMARY KEY (seq), 
    UNIQUE (id)
);

CREATE INDEX ix_steps_agent_id ON steps (agent_id);

CREATE INDEX ix_steps_run_id ON steps (run_id);

CREATE TABLE tools (
    id VARCHAR(64) NOT NULL, 
    name VARCHAR(256) NOT NULL, 
    tool_type VARCHAR(64) NOT NULL, 
    description TEXT, 
    source_type VARCHAR(32) NOT NULL, 
    source_code TEXT, 
    json_schema JSONB NOT NULL, 
    args_json_schema JSONB, 
    return_char_limit INTEGER NOT NULL, 
    pip_requirements JSONB, 
    tags JSONB NOT NULL, 
    metadata JSONB, 
    created_at TIMESTAMP WITHOUT TIME ZONE NOT NULL, 
    updated_at TIMESTAMP WITHOUT TIME ZONE NOT NULL, 
    PRIMARY KEY (id), 
    UNIQUE (name)
);

CREATE INDEX ix_tools_created ON tools (created_at, id);

CREATE TABLE agent_blocks (
    agent_id VARCHAR(64) NOT NULL, 
    block_id VARCHAR(64) NOT NULL, 
    position INTEGER NOT NULL, 
    PRIMARY KEY (agent_id, block_id), 
    FOREIGN KEY(agent_id) REFERENCES agents (id) ON DELETE CASCADE, 
    FOREIGN KEY(block_id) REFERENCES blocks (id) ON DELETE CASCADE
);

CREATE INDEX ix_agent_blocks_block_id ON agent_blocks (block_id);

CREATE TABLE agent_sources (
    agent_id VARCHAR(64) NOT NULL, 
    source_id VARCHAR(64) NOT NULL, 
    PRIMARY KEY (agent_id, source_id), 
    FOREIGN KEY(agent_id) REFERENCES agents (id) ON DELETE CASCADE, 
    FOREIGN KEY(source_id) REFERENCES sources (id) ON DELETE CASCADE
);

CREATE INDEX ix_agent_sources_source_id ON agent_sources (source_id);

CREATE TABLE agent_tags (
    agent_id VARCHAR(64) NOT NULL, 
    tag VARCHAR(256) NOT NULL, 
    PRIMARY KEY (agent_id, tag), 
    FOREIGN KEY(agent_id) REFERENCES agents (id) ON DELETE CASCADE
);

CREATE INDEX ix_agent_tags_tag ON agent_tags (tag);

CREATE TABLE agent_tools (
    agent_id VARCHAR(64) NOT NULL, 
    tool_id VARCHAR(64) NOT NULL, 
    position INTEGER NOT NULL, 
    PRIMARY KEY (agent_id, tool_id), 
    FOREIGN KEY(agent_id) REFERENCES agents (id) ON DELETE CASCADE, 
    FOREIGN KEY(tool_id) REFERENCES tools (id) ON DELETE CASCADE
);

CREATE INDEX ix_agent_tools_tool_id ON agent_tools (tool_id);

CREATE TABLE files (
    id VARCHAR(64) NOT NULL, 
    source_id VARCHAR(64) NOT NULL, 
    file_name VARCHAR(512) NOT NULL, 
    file_type VARCHAR(128), 
    file_size BIGINT, 
    processing_status VARCHAR(32) NOT NULL, 
    error_message TEXT, 
    total_chunks INTEGER, 
    chunks_embedded INTEGER, 
    created_at TIMESTAMP WITHOUT TIME ZONE NOT NULL, 
    updated_at TIMESTAMP WITHOUT TIME ZONE NOT NULL, 
    PRIMARY KEY (id), 
    FOREIGN KEY(source_id) REFERENCES sources (id) ON DELETE CASCADE
);

CREATE INDEX ix_files_source_id ON files (source_id);

CREATE TABLE identity_agents (
    identity_id VARCHAR(64) NOT NULL, 
    agent_id VARCHAR(64) NOT NULL, 
    PRIMARY KEY (identity_id, agent_id), 
    FOREIGN KEY(agent_id) REFERENCES agents (id) ON DELETE CASCADE, 
    FOREIGN KEY(identity_id) REFERENCES identities (id) ON DELETE CASCADE
);

CREATE INDEX ix_identity_agents_agent_id ON identity_agents (agent_id);

CREATE TABLE identity_blocks (
    identity_id VARCHAR(64) NOT NULL, 
    block_id VARCHAR(64) NOT NULL, 
    PRIMARY KEY (identity_id, block_id), 
    FOREIGN KEY(block_id) REFERENCES blocks (id) ON DELETE CASCADE, 
    FOREIGN KEY(identity_id) REFERENCES identities (id) ON DELETE CASCADE
);

CREATE INDEX ix_identity_blocks_block_id ON identity_blocks (block_id);

CREATE TABLE messages (
    seq BIGSERIAL NOT NULL, 
    id VARCHAR(64) NOT NULL, 
    agent_id VARCHAR(64) NOT NULL, 
    role VARCHAR(16) NOT NULL, 
    content JSONB, 
    text TEXT, 
    name VARCHAR(256), 
    tool_calls JSONB, 
    tool_call_id VARCHAR(128), 
    tool_returns JSONB, 
    model VARCHAR(256), 
    sender_id VARCHAR(128), 
    otid VARCHAR(128), 
    step_id VARCHAR(64), 
    run_id VARCHAR(64), 
    group_id VARCHAR(64), 
    created_at TIMESTAMP WITHOUT TIME ZONE NOT NULL, 
    PRIMARY KEY (seq), 
    FOREIGN KEY(agent_id) REFERENCES agents (id) ON DELETE CASCADE, 
    UNIQUE (id)
);

CREATE INDEX ix_messages_agent_seq ON messages (agent_id, seq);

CREATE INDEX ix_messages_run_id ON messages (run_id);

CREATE INDEX ix_messages_step_id ON messages (step_id);

CREATE TABLE passages (
    seq BIGSERIAL NOT NULL, 
    id VARCHAR(64) NOT NULL, 
    agent_id VARCHAR(64), 
    source_id VARCHAR(64), 
    file_id VARCHAR(64), 
    file_name VARCHAR(512), 
    text TEXT NOT NULL, 
    embedding vector, 
    embedding_dim INTEGER, 
    embedding_config JSONB, 
    tags JSONB, 
    metadata JSONB, 
    created_at TIMESTAMP WITHOUT TIME ZONE NOT NULL, 
    updated_at TIMESTAMP WITHOUT TIME ZONE NOT NULL, 
    PRIMARY KEY (seq), 
    FOREIGN KEY(agent_id) REFERENCES agents (id) ON DELETE CASCADE, 
    FOREIGN KEY(source_id) REFERENCES sources (id) ON DELETE CASCADE, 
    UNIQUE (id)
);

CREATE INDEX ix_passages_agent_id ON passages (agent_id);

CREATE INDEX ix_passages_file_id ON passages (file_id);

CREATE INDEX ix_passages_source_id ON passages (source_id);

CREATE TABLE sandbox_env_vars (
    id VARCHAR(64) NOT NULL, 
    sandbox_config_id VARCHAR(64) NOT NULL, 
    key VARCHAR(256) NOT NULL, 
    value TEXT NOT NULL, 
    description TEXT, 
    created_at TIMESTAMP WITHOUT TIME ZONE NOT NULL, 
    updated_at TIMESTAMP WITHOUT TIME ZONE NOT NULL, 
    PRIMARY KEY (id), 
    FOREIGN KEY(sandbox_config_id) REFERENCES sandbox_configs (id) ON DELETE CASCADE, 
    CONSTRAINT uq_sandbox_env_key UNIQUE (sandbox_config_id, key)
);

CREATE INDEX ix_sandbox_env_vars_sandbox_config_id ON sandbox_env_vars (sandbox_config_id);

INSERT INTO alembic_version (version_num) VALUES ('0001') RETURNING alembic_version.version_num;

-- Running upgrade 0001 -> 0002

ALTER TABLE files ADD COLUMN original_file_name VARCHAR(512);

ALTER TABLE files ADD COLUMN job_id VARCHAR(64);

ALTER TABLE files ADD COLUMN storage_path TEXT;

ALTER TABLE jobs ADD COLUMN source_id VARCHAR(64);

CREATE INDEX ix_jobs_source_id ON jobs (source_id);

CREATE INDEX IF NOT EXISTS ix_passages_text_tsv ON passages USING gin (to_tsvector('english', text));

CREATE INDEX IF NOT EXISTS ix_passages_embedding_hnsw_384 ON passages USING hnsw ((embedding::vector(384)) vector_cosine_ops) WHERE embedding_dim = 384;

CREATE INDEX IF NOT EXISTS ix_passages_embedding_hnsw_768 ON passages USING hnsw ((embedding::vector(768)) vector_cosine_ops) WHERE embedding_dim = 768;

CREATE INDEX IF NOT EXISTS ix_passages_embedding_hnsw_1024 ON passages USING hnsw ((embedding::vector(1024)) vector_cosine_ops) WHERE embedding_dim = 1024;

CREATE INDEX IF NOT EXISTS ix_passages_embedding_hnsw_1536 ON passages USING hnsw ((embedding::vector(1536)) vector_cosine_ops) WHERE embedding_dim = 1536;

UPDATE alembic_version SET version_num='0002' WHERE alembic_version.version_num = '0001';

-- Running upgrade 0002 -> 0003

CREATE TABLE archives (
    id VARCHAR(64) NOT NULL, 
    name VARCHAR(256) NOT NULL, 
    description TEXT, 
    embedding_config JSONB, 
    metadata JSONB, 
    created_at TIMESTAMP WITHOUT TIME ZONE NOT NULL, 
    updated_at TIMESTAMP WITHOUT TIME ZONE NOT NULL, 
    PRIMARY KEY (id)
);

CREATE TABLE archives_agents (
    archive_id VARCHAR(64) NOT NULL, 
    agent_id VARCHAR(64) NOT NULL, 
    PRIMARY KEY (archive_id, agent_id), 
    FOREIGN KEY(archive_id) REFERENCES archives (id) ON DELETE CASCADE, 
    FOREIGN KEY(agent_id) REFERENCES agents (id) ON DELETE CASCADE
);

CREATE INDEX ix_archives_agents_agent_id ON archives_agents (agent_id);

ALTER TABLE passages ADD COLUMN archive_id VARCHAR(64);

CREATE INDEX ix_passages_archive_id ON passages (archive_id);

CREATE TABLE files_agents (
    agent_id VARCHAR(64) NOT NULL, 
    file_id VARCHAR(64) NOT NULL, 
    id VARCHAR(64) NOT NULL, 
    is_open BOOLEAN NOT NULL, 
    last_accessed_at TIMESTAMP WITHOUT TIME ZONE, 
    PRIMARY KEY (agent_id, file_id), 
    FOREIGN KEY(agent_id) REFERENCES agents (id) ON DELETE CASCADE, 
    FOREIGN KEY(file_id) REFERENCES files (id) ON DELETE CASCADE, 
    UNIQUE (id)
);

UPDATE alembic_version SET version_num='0003' WHERE alembic_version.version_num = '0002';

-- Running upgrade 0003 -> 0004

ALTER TABLE jobs ADD COLUMN owner VARCHAR(64);

ALTER TABLE jobs ADD COLUMN lease_expires_at TIMESTAMP WITHOUT TIME ZONE;

UPDATE alembic_version SET version_num='0004' WHERE alembic_version.version_num = '0003';

-- Running upgrade 0004 -> 0005

CREATE TABLE groups (
    id VARCHAR(64) NOT NULL, 
    manager_type VARCHAR(32) NOT NULL, 
    description TEXT NOT NULL, 
    manager_agent_id VARCHAR(64), 
    termination_token VARCHAR(256), 
    max_turns INTEGER, 
    sleeptime_agent_frequency INTEGER, 
    turns_counter INTEGER, 
    last_processed_message_id VARCHAR(64), 
    max_message_buffer_length INTEGER, 
    min_message_buffer_length INTEGER, 
    metadata JSONB, 
    created_at TIMESTAMP WITHOUT TIME ZONE NOT NULL, 
    updated_at TIMESTAMP WITHOUT TIME ZONE NOT NULL, 
    PRIMARY KEY (id), 
    FOREIGN KEY(manager_agent_id) REFERENCES agents (id) ON DELETE CASCADE
);

CREATE INDEX ix_groups_created ON groups (created_at, id);

CREATE INDEX ix_groups_manager_agent_id ON groups (manager_agent_id);

CREATE TABLE groups_agents (
    group_id VARCHAR(64) NOT NULL, 
    agent_id VARCHAR(64) NOT NULL, 
    position INTEGER NOT NULL, 
    PRIMARY KEY (group_id, agent_id), 
    FOREIGN KEY(group_id) REFERENCES groups (id) ON DELETE CASCADE, 
    FOREIGN KEY(agent_id) REFERENCES agents (id) ON DELETE CASCADE
);

CREATE INDEX ix_groups_agents_agent_id ON groups_agents (agent_id);

CREATE TABLE groups_blocks (
    group_id VARCHAR(64) NOT NULL, 
    block_id VARCHAR(64) NOT NULL, 
    PRIMARY KEY (group_id, block_id), 
    FOREIGN KEY(group_id) REFERENCES groups (id) ON DELETE CASCADE, 
    FOREIGN KEY(block_id) REFERENCES blocks (id) ON DELETE CASCADE
);

UPDATE alembic_version SET version_num='0005' WHERE alembic_version.version_num = '0004';

-- Running upgrade 0005 -> 0006

CREATE TABLE batch_items (
    id VARCHAR(64) NOT NULL, 
    batch_id VARCHAR(64) NOT NULL, 
    position INTEGER NOT NULL, 
    agent_id VARCHAR(64) NOT NULL, 
    request JSONB NOT NULL, 
    run_id VARCHAR(64), 
    status VARCHAR(32) NOT NULL, 
    error TEXT, 
    created_at TIMESTAMP WITHOUT TIME ZONE NOT NULL, 
    updated_at TIMESTAMP WITHOUT TIME ZONE NOT NULL, 
    PRIMARY KEY (id)
);

CREATE INDEX ix_batch_items_batch_id ON batch_items (batch_id);

UPDATE alembic_version SET version_num='0006' WHERE alembic_version.version_num = '0005';

-- Running upgrade 0006 -> 0007

CREATE TABLE organizations (
    id VARCHAR(64) NOT NULL, 
    name VARCHAR(256) NOT NULL, 
    privileged_tools BOOLEAN NOT NULL, 
    created_at TIMESTAMP WITHOUT TIME ZONE NOT NULL, 
    updated_at TIMESTAMP WITHOUT TIME ZONE NOT NULL, 
    PRIMARY KEY (id)
);

CREATE TABLE users (
    id VARCHAR(64) NOT NULL, 
    name VARCHAR(256) NOT NULL, 
    organization_id VARCHAR(64) NOT NULL, 
    created_at TIMESTAMP WITHOUT TIME ZONE NOT NULL, 
    updated_at TIMESTAMP WITHOUT TIME ZONE NOT NULL, 
    PRIMARY KEY (id), 
    FOREIGN KEY(organization_id) REFERENCES organizations (id)
);

CREATE INDEX ix_users_organization_id ON users (organization_id);

CREATE TABLE api_keys (
    id VARCHAR(64) NOT NULL, 
    user_id VARCHAR(64) NOT NULL, 
    name VARCHAR(256), 
    prefix VARCHAR(32) NOT NULL, 
    key_hash VARCHAR(64) NOT NULL, 
    created_at TIMESTAMP WITHOUT TIME ZONE NOT NULL, 
    revoked_at TIMESTAMP WITHOUT TIME ZONE, 
    PRIMARY KEY (id), 
    FOREIGN KEY(user_id) REFERENCES users (id) ON DELETE CASCADE, 
    UNIQUE (key_hash)
);

CREATE INDEX ix_api_keys_user_id ON api_keys (user_id);

CREATE TABLE providers (
    id VARCHAR(64) NOT NULL, 
    organization_id VARCHAR(64) NOT NULL, 
    name VARCHAR(256) NOT NULL, 
    provider_type VARCHAR(64) NOT NULL, 
    base_url TEXT, 
    api_key_enc TEXT, 
    access_key_enc TEXT, 
    region VARCHAR(128), 
    created_at TIMESTAMP WITHOUT TIME ZONE NOT NULL, 
    updated_at TIMESTAMP WITHOUT TIME ZONE NOT NULL, 
    PRIMARY KEY (id), 
    CONSTRAINT uq_providers_org_name UNIQUE (organization_id, name), 
    FOREIGN KEY(organization_id) REFERENCES organizations (id)
);

CREATE INDEX ix_providers_organization_id ON providers (organization_id);

INSERT INTO organizations (id, name, privileged_tools, created_at, updated_at) VALUES ('org-00000000-0000-4000-8000-000000000000', 'default_org', false, '2025-01-01 00:00:00', '2025-01-01 00:00:00');

INSERT INTO users (id, name, organization_id, created_at, updated_at) VALUES ('user-00000000-0000-4000-8000-000000000000', 'default_user', 'org-00000000-0000-4000-8000-000000000000', '2025-01-01 00:00:00', '2025-01-01 00:00:00');

UPDATE alembic_version SET version_num='0007' WHERE alembic_version.version_num = '0006';

-- Running upgrade 0007 -> 0008

CREATE TABLE run_events (
    run_id VARCHAR(64) NOT NULL, 
    seq_id INTEGER NOT NULL, 
    payload JSONB NOT NULL, 
    created_at TIMESTAMP WITHOUT TIME ZONE NOT NULL, 
    PRIMARY KEY (run_id, seq_id), 
    FOREIGN KEY(run_id) REFERENCES jobs (id) ON DELETE CASCADE
);

CREATE TABLE conversations (
    id VARCHAR(64) NOT NULL, 
    agent_id VARCHAR(64) NOT NULL, 
    summary TEXT, 
    settings JSONB, 
    created_at TIMESTAMP WITHOUT TIME ZONE NOT NULL, 
    updated_at TIMESTAMP WITHOUT TIME ZONE NOT NULL, 
    last_message_at TIMESTAMP WITHOUT TIME ZONE, 
    PRIMARY KEY (id), 
    FOREIGN KEY(agent_id) REFERENCES agents (id) ON DELETE CASCADE
);

CREATE INDEX ix_conversations_agent_id ON conversations (agent_id);

UPDATE alembic_version SET version_num='0008' WHERE alembic_version.version_num = '0007';

-- Running upgrade 0008 -> 0009

CREATE TABLE provider_traces (
    id VARCHAR(64) NOT NULL, 
    step_id VARCHAR(64) NOT NULL, 
    agent_id VARCHAR(64), 
    request_json JSONB NOT NULL, 
    response_json JSONB NOT NULL, 
    created_at TIMESTAMP WITHOUT TIME ZONE NOT NULL, 
    PRIMARY KEY (id)
);

CREATE INDEX ix_provider_traces_step_id ON provider_traces (step_id);

CREATE INDEX ix_provider_traces_created_at ON provider_traces (created_at);

UPDATE alembic_version SET version_num='0009' WHERE alembic_version.version_num = '0008';

-- Running upgrade 0009 -> 0010

CREATE TABLE upload_blobs (
    file_id VARCHAR(64) NOT NULL, 
    data BYTEA NOT NULL, 
    created_at TIMESTAMP WITHOUT TIME ZONE NOT NULL, 
    PRIMARY KEY (file_id), 
    FOREIGN KEY(file_id) REFERENCES files (id) ON DELETE CASCADE
);

UPDATE alembic_version SET version_num='0010' WHERE alembic_version.version_num = '0009';

-- Running upgrade 0010 -> 0011

CREATE TABLE mcp_oauth_grants (
    id VARCHAR(64) NOT NULL, 
    server_url VARCHAR(2048) NOT NULL, 
    grant_enc TEXT NOT NULL, 
    created_at TIMESTAMP WITHOUT TIME ZONE NOT NULL, 
    updated_at TIMESTAMP WITHOUT TIME ZONE NOT NULL, 
    PRIMARY KEY (id), 
    UNIQUE (server_url)
);

CREATE TABLE mcp_oauth_sessions (
    id VARCHAR(64) NOT NULL, 
    state VARCHAR(256) NOT NULL, 
    server_name VARCHAR(256) NOT NULL, 
    server_url VARCHAR(2048) NOT NULL, 
    status VARCHAR(16) NOT NULL, 
    code_enc TEXT, 
    error TEXT, 
    created_at TIMESTAMP WITHOUT TIME ZONE NOT NULL, 
    expires_at TIMESTAMP WITHOUT TIME ZONE NOT NULL, 
    PRIMARY KEY (id), 
    UNIQUE (state)
);

UPDATE alembic_version SET version_num='0011' WHERE alembic_version.version_num = '0010';

-- Running upgrade 0011 -> 0012

ALTER TABLE agents ADD COLUMN organization_id VARCHAR(64) DEFAULT 'org-00000000-0000-4000-8000-000000000000' NOT NULL;

CREATE INDEX ix_agents_organization_id ON agents (organization_id);

ALTER TABLE blocks ADD COLUMN organization_id VARCHAR(64) DEFAULT 'org-00000000-0000-4000-8000-000000000000' NOT NULL;

CREATE INDEX ix_blocks_organization_id ON blocks (organization_id);

ALTER TABLE identities ADD COLUMN organization_id VARCHAR(64) DEFAULT 'org-00000000-0000-4000-8000-000000000000' NOT NULL;

CREATE INDEX ix_identities_organization_id ON identities (organization_id);

ALTER TABLE archives ADD COLUMN organization_id VARCHAR(64) DEFAULT 'org-00000000-0000-4000-8000-000000000000' NOT NULL;

CREATE INDEX ix_archives_organization_id ON archives (organization_id);

ALTER TABLE sources ADD COLUMN organization_id VARCHAR(64) DEFAULT 'org-00000000-0000-4000-8000-000000000000' NOT NULL;

CREATE INDEX ix_sources_organization_id ON sources (organization_id);

ALTER TABLE jobs ADD COLUMN organization_id VARCHAR(64) DEFAULT 'org-00000000-0000-4000-8000-000000000000' NOT NULL;

CREATE INDEX ix_jobs_organization_id ON jobs (organization_id);

ALTER TABLE sandbox_configs ADD COLUMN organization_id VARCHAR(64) DEFAULT 'org-00000000-0000-4000-8000-000000000000' NOT NULL;

CREATE INDEX ix_sandbox_configs_organization_id ON sandbox_configs (organization_id);

ALTER TABLE groups ADD COLUMN organization_id VARCHAR(64) DEFAULT 'org-00000000-0000-4000-8000-000000000000' NOT NULL;

CREATE INDEX ix_groups_organization_id ON groups (organization_id);

ALTER TABLE tools ADD COLUMN organization_id VARCHAR(64);

CREATE INDEX ix_tools_organization_id ON tools (organization_id);

ALTER TABLE mcp_servers ADD COLUMN organization_id VARCHAR(64);

CREATE INDEX ix_mcp_servers_organization_id ON mcp_servers (organization_id);

UPDATE tools SET organization_id = 'org-00000000-0000-4000-8000-000000000000' WHERE tool_type = 'custom';

UPDATE mcp_servers SET organization_id = 'org-00000000-0000-4000-8000-000000000000';

UPDATE alembic_version SET version_num='0012' WHERE alembic_version.version_num = '0011';

-- Running upgrade 0012 -> 0013

ALTER TABLE mcp_oauth_grants DROP CONSTRAINT mcp_oauth_grants_server_url_key;

ALTER TABLE mcp_oauth_grants ADD COLUMN organization_id VARCHAR(64);

ALTER TABLE mcp_oauth_grants ADD CONSTRAINT uq_mcp_oauth_grants_org_url UNIQUE (organization_id, server_url);

ALTER TABLE tools DROP CONSTRAINT tools_name_key;

ALTER TABLE tools ADD CONSTRAINT uq_tools_org_name UNIQUE (organization_id, name);

ALTER TABLE sources DROP CONSTRAINT sources_name_key;

ALTER TABLE sources ADD CONSTRAINT uq_sources_org_name UNIQUE (organization_id, name);

ALTER TABLE mcp_oauth_sessions ADD COLUMN organization_id VARCHAR(64);

UPDATE alembic_version SET version_num='0013' WHERE alembic_version.version_num = '0012';

-- Running upgrade 0013 -> 0014

ALTER TABLE agents ADD COLUMN prompt_stale BOOLEAN DEFAULT false NOT NULL;

CREATE INDEX ix_agents_prompt_stale ON agents (prompt_stale);

UPDATE alembic_version SET version_num='0014' WHERE alembic_version.version_num = '0013';

COMMIT;

