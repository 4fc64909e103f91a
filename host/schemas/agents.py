"""Agent wire models (``CreateAgentRequest``, ``UpdateAgent``, ``AgentState``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from host.domain.actor import acting_organization
from host.schemas.blocks import CreateBlock, Memory
from host.schemas.common import Audited, Name, RequestModel, ResponseModel, Short
from host.schemas.messages import MessageCreate
from host.schemas.tools import Tool

MASKED = "****"  # what answers show for a tool variable's value (write-only); sent back, it keeps the value


class CreateAgentRequest(RequestModel):
    name: Name | None = None
    memory_blocks: list[CreateBlock] | None = None
    tools: list[str] | None = None
    tool_ids: list[str] | None = None
    source_ids: list[str] | None = None
    block_ids: list[str] | None = None
    tool_rules: list[dict[str, Any]] | None = None
    tags: list[Name] | None = None
    system: str | None = None
    agent_type: Short = "memgpt_agent"
    llm_config: dict[str, Any] | None = None
    embedding_config: dict[str, Any] | None = None
    initial_message_sequence: list[MessageCreate] | None = None
    include_base_tools: bool = True
    include_multi_agent_tools: bool = False
    include_base_tool_rules: bool = True
    include_default_source: bool = False
    description: str | None = None
    metadata: dict[str, Any] | None = None
    model: str | None = None
    embedding: str | None = None
    context_window_limit: int | None = Field(default=None, ge=1)
    embedding_chunk_size: int | None = 300
    max_tokens: int | None = None
    max_reasoning_tokens: int | None = None
    enable_reasoner: bool | None = False
    from_template: str | None = None
    template: bool = False
    project: str | None = None
    tool_exec_environment_variables: dict[str, str] | None = None
    memory_variables: dict[str, str] | None = None
    project_id: Short | None = None
    template_id: Short | None = None
    base_template_id: Short | None = None
    identity_ids: list[str] | None = None
    message_buffer_autoclear: bool = False
    enable_sleeptime: bool | None = None
    response_format: dict[str, Any] | None = None
    timezone: Short | None = None
    actor_id: str | None = None
    # 1.x fields (Letta Code sends them); accepted, not acted on: one tool call is run at a time, and
    # compaction follows the agent's context window rather than these settings
    parallel_tool_calls: bool | None = None
    compaction_settings: dict[str, Any] | None = None
    model_settings: dict[str, Any] | None = None


class UpdateAgent(RequestModel):
    name: Name | None = None
    tool_ids: list[str] | None = None
    source_ids: list[str] | None = None
    block_ids: list[str] | None = None
    tags: list[Name] | None = None
    system: str | None = None
    tool_rules: list[dict[str, Any]] | None = None
    llm_config: dict[str, Any] | None = None
    embedding_config: dict[str, Any] | None = None
    message_ids: list[str] | None = None
    description: str | None = None
    metadata: dict[str, Any] | None = None
    tool_exec_environment_variables: dict[str, str] | None = None
    project_id: Short | None = None
    template_id: Short | None = None
    base_template_id: Short | None = None
    identity_ids: list[str] | None = None
    message_buffer_autoclear: bool | None = None
    model: str | None = None
    embedding: str | None = None
    enable_sleeptime: bool | None = None
    response_format: dict[str, Any] | None = None
    last_run_completion: datetime | None = None
    last_run_duration_ms: int | None = None
    timezone: Short | None = None
    # 1.x fields (Letta Code sends them); accepted, not acted on (see CreateAgentRequest)
    context_window_limit: int | None = Field(default=None, ge=1)
    parallel_tool_calls: bool | None = None
    compaction_settings: dict[str, Any] | None = None
    model_settings: dict[str, Any] | None = None


class ModifyApprovalRequest(RequestModel):
    """``PATCH /v1/agents/{id}/tools/approval/{tool_name}`` (1.x)."""

    requires_approval: bool


class AgentEnvironmentVariable(Audited):
    id: str
    key: str
    value: str | None = Field(description=f'Always "{MASKED}" in answers: values are write-only')
    description: str | None = None
    organization_id: str | None = Field(default_factory=acting_organization)
    agent_id: str


class AgentState(Audited):
    id: str
    name: str
    tool_rules: list[dict[str, Any]] = Field(default_factory=list)
    message_ids: list[str] = Field(default_factory=list)
    system: str
    agent_type: str = "memgpt_agent"
    llm_config: dict[str, Any]
    embedding_config: dict[str, Any]
    response_format: dict[str, Any] | None = None
    description: str | None = None
    metadata: dict[str, Any] | None = None
    memory: Memory
    tools: list[Tool]
    sources: list[dict[str, Any]] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    tool_exec_environment_variables: list[AgentEnvironmentVariable] = Field(default_factory=list)
    project_id: str | None = None
    template_id: str | None = None
    base_template_id: str | None = None
    identity_ids: list[str] = Field(default_factory=list)
    message_buffer_autoclear: bool = False
    enable_sleeptime: bool | None = None
    multi_agent_group: dict[str, Any] | None = None
    last_run_completion: datetime | None = None
    last_run_duration_ms: int | None = None
    timezone: str | None = None


class ContextWindowOverview(ResponseModel):
    context_window_size_max: int
    context_window_size_current: int
    num_messages: int
    num_archival_memory: int
    num_recall_memory: int
    num_tokens_external_memory_summary: int
    external_memory_summary: str
    num_tokens_system: int
    system_prompt: str
    num_tokens_core_memory: int
    core_memory: str
    num_tokens_summary_memory: int
    summary_memory: str | None = None
    num_tokens_functions_definitions: int
    functions_definitions: list[dict[str, Any]] | None = None
    num_tokens_messages: int
    messages: list[dict[str, Any]]
