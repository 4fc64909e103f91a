"""Request bodies of the messages routes (``LettaRequest`` and friends)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Discriminator, Field, Tag, model_validator

from host.schemas.common import Name, Ref, RequestModel, Short


class MessageCreate(RequestModel):
    role: Literal["user", "system", "assistant"]
    content: str | list[dict[str, Any]]
    name: Name | None = None
    otid: Ref | None = None
    sender_id: Ref | None = None
    batch_item_id: str | None = None
    group_id: Short | None = None
    type: str | None = None

    def text(self) -> str:
        if isinstance(self.content, str):
            return self.content
        return "\n".join(str(p.get("text", "")) for p in self.content if isinstance(p, dict))


class ApprovalItem(RequestModel):
    """1.x: one answer in ``approvals``: an approval (``type: approval``) or a client tool's result (``type: tool``)."""

    type: Literal["approval", "tool"] = "approval"
    tool_call_id: Ref
    approve: bool | None = None
    reason: str | None = None
    tool_return: str | list[dict[str, Any]] | None = None
    status: Literal["success", "error"] | None = None
    stdout: list[str] | None = None
    stderr: list[str] | None = None

    @model_validator(mode="after")
    def _complete(self) -> ApprovalItem:
        if self.type == "approval" and self.approve is None:
            raise ValueError("an approval needs approve: true or false")
        if self.type == "tool" and (self.tool_return is None or self.status is None):
            raise ValueError("a tool result needs tool_return and status (success or error)")
        return self

    def return_text(self) -> str:
        if isinstance(self.tool_return, list):
            return "".join(str(p.get("text", "")) for p in self.tool_return if isinstance(p, dict))
        return self.tool_return or ""


class ApprovalCreate(RequestModel):
    """The client's answer to an ``approval_request_message``: run (or refuse) the paused tool call, or (1.x,
    ``approvals``) give the result of a client-side tool it ran itself."""

    type: Literal["approval"] = "approval"
    approve: bool | None = None
    approval_request_id: Ref | None = Field(
        default=None, description="The id of the approval_request_message (or its tool_call_id).")
    reason: str | None = None
    approvals: list[ApprovalItem] | None = None
    otid: Ref | None = None
    group_id: Short | None = None

    @model_validator(mode="after")
    def _answer(self) -> ApprovalCreate:
        if self.approvals:
            if len(self.approvals) > 1:
                raise ValueError("answer one tool call per request (approvals has more than one item)")
            return self
        if self.approve is None or self.approval_request_id is None:
            raise ValueError("an approval needs approve and approval_request_id (or a list in approvals)")
        return self


def _message_kind(value: Any) -> str:
    kind = value.get("type") if isinstance(value, dict) else getattr(value, "type", None)
    return "approval" if kind == "approval" else "message"


InputMessage = Annotated[
    Annotated[MessageCreate, Tag("message")] | Annotated[ApprovalCreate, Tag("approval")],
    Discriminator(_message_kind),
]


class ClientTool(RequestModel):
    """1.x: a tool the client runs itself; the model's call to it pauses the turn (``approval_request_message``)."""

    name: Name
    description: str | None = None
    parameters: dict[str, Any] | None = None


class LettaRequest(RequestModel):
    messages: list[InputMessage] = Field(min_length=1)
    max_steps: int = Field(default=50, ge=1, le=1000)
    use_assistant_message: bool = True
    assistant_message_tool_name: str = "send_message"
    assistant_message_tool_kwarg: str = "message"
    include_return_message_types: list[str] | None = None
    enable_thinking: str | None = None
    client_tools: list[ClientTool] | None = None  # 1.x: tools the client runs (their calls come back as approvals)
    # 1.x fields Letta Code sends; accepted, not acted on (no skills catalogue; compaction is not streamed)
    client_skills: list[dict[str, Any]] | None = None
    include_compaction_messages: bool = False


class LettaStreamingRequest(LettaRequest):
    stream_tokens: bool = False
    include_pings: bool | None = None  # None: pings for 1.x clients (Letta 0.16's default), none for 0.8's
    streaming: bool = False  # 1.x: POST /messages answers SSE instead of JSON (1.x clients only)
    background: bool = False  # 1.x: the run outlives the client; its events are kept for /v1/runs/{id}/stream


class LettaAsyncRequest(LettaRequest):
    callback_url: str | None = None
