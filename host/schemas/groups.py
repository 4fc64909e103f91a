"""Letta 0.8's multi-agent group shapes: ``Group``, ``GroupCreate``/``GroupUpdate`` and the manager configs
(discriminated by ``manager_type``)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from host.schemas.common import RequestModel, ResponseModel, Short

ManagerType = Literal["round_robin", "supervisor", "dynamic", "sleeptime", "voice_sleeptime"]
Turns = Annotated[int, Field(ge=1)]


class _BufferLengths(RequestModel):
    max_message_buffer_length: int | None = None
    min_message_buffer_length: int | None = None

    @model_validator(mode="after")
    def _buffers(self) -> _BufferLengths:  # as Letta validates them
        hi, lo = self.max_message_buffer_length, self.min_message_buffer_length
        if hi is not None and hi <= 4:
            raise ValueError("max_message_buffer_length must be greater than 4")
        if lo is not None and lo <= 0:
            raise ValueError("min_message_buffer_length must be greater than 0")
        if hi is not None and lo is not None and lo >= hi:
            raise ValueError("min_message_buffer_length must be less than max_message_buffer_length")
        return self


class RoundRobinManager(RequestModel):
    manager_type: Literal["round_robin"] = "round_robin"
    max_turns: Turns | None = None


class SupervisorManager(RequestModel):
    manager_type: Literal["supervisor"] = "supervisor"
    manager_agent_id: Short


class DynamicManager(RequestModel):
    manager_type: Literal["dynamic"] = "dynamic"
    manager_agent_id: Short
    termination_token: str | None = "DONE!"
    max_turns: Turns | None = None


class SleeptimeManager(RequestModel):
    manager_type: Literal["sleeptime"] = "sleeptime"
    manager_agent_id: Short
    sleeptime_agent_frequency: Turns | None = None


class VoiceSleeptimeManager(_BufferLengths):
    manager_type: Literal["voice_sleeptime"] = "voice_sleeptime"
    manager_agent_id: Short


ManagerConfig = Annotated[RoundRobinManager | SupervisorManager | DynamicManager | SleeptimeManager | VoiceSleeptimeManager, Field(discriminator="manager_type")]


class RoundRobinManagerUpdate(RequestModel):
    manager_type: Literal["round_robin"] = "round_robin"
    max_turns: Turns | None = None


class SupervisorManagerUpdate(RequestModel):
    manager_type: Literal["supervisor"] = "supervisor"
    manager_agent_id: Short | None = None


class DynamicManagerUpdate(RequestModel):
    manager_type: Literal["dynamic"] = "dynamic"
    manager_agent_id: Short | None = None
    termination_token: str | None = None
    max_turns: Turns | None = None


class SleeptimeManagerUpdate(RequestModel):
    manager_type: Literal["sleeptime"] = "sleeptime"
    manager_agent_id: Short | None = None
    sleeptime_agent_frequency: Turns | None = None


class VoiceSleeptimeManagerUpdate(_BufferLengths):
    manager_type: Literal["voice_sleeptime"] = "voice_sleeptime"
    manager_agent_id: Short | None = None


ManagerConfigUpdate = Annotated[RoundRobinManagerUpdate | SupervisorManagerUpdate | DynamicManagerUpdate | SleeptimeManagerUpdate | VoiceSleeptimeManagerUpdate,
                                Field(discriminator="manager_type")]


class GroupCreate(RequestModel):
    agent_ids: list[Short]
    description: str
    manager_config: ManagerConfig = Field(default_factory=RoundRobinManager)
    shared_block_ids: list[Short] = Field(default_factory=list)


class GroupUpdate(RequestModel):
    agent_ids: list[Short] | None = None
    description: str | None = None
    manager_config: ManagerConfigUpdate | None = None
    shared_block_ids: list[Short] | None = None


class Group(ResponseModel):
    id: str
    manager_type: ManagerType
    agent_ids: list[str]
    description: str
    shared_block_ids: list[str] = Field(default_factory=list)
    manager_agent_id: str | None = None
    termination_token: str | None = None
    max_turns: int | None = None
    sleeptime_agent_frequency: int | None = None
    turns_counter: int | None = None
    last_processed_message_id: str | None = None
    max_message_buffer_length: int | None = None
    min_message_buffer_length: int | None = None


__all__ = ["Group", "GroupCreate", "GroupUpdate", "ManagerConfig", "ManagerConfigUpdate", "ManagerType"]
