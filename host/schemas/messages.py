"""Request bodies of the messages routes (``LettaRequest`` and friends)."""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from pydantic import Discriminator, Field, Tag

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


class ApprovalCreate(RequestModel):
    """The client's answer to an ``approval_request_message``: run (or refuse) the paused tool call."""

    type: Literal["approval"] = "approval"
    approve: bool
    approval_request_id: str = Field(description="The id of the approval_request_message (or its tool_call_id).")
    reason: str | None = None


def _message_kind(value: Any) -> str:
    kind = value.get("type") if isinstance(value, dict) else getattr(value, "type", None)
    return "approval" if kind == "approval" else "message"


InputMessage = Annotated[
    Union[Annotated[MessageCreate, Tag("message")], Annotated[ApprovalCreate, Tag("approval")]],
    Discriminator(_message_kind),
]


class LettaRequest(RequestModel):
    messages: list[InputMessage] = Field(min_length=1)
    max_steps: int = Field(default=50, ge=1, le=1000)
    use_assistant_message: bool = True
    assistant_message_tool_name: str = "send_message"
    assistant_message_tool_kwarg: str = "message"
    include_return_message_types: list[str] | None = None
    enable_thinking: str | None = None


class LettaStreamingRequest(LettaRequest):
    stream_tokens: bool = False
    include_pings: bool | None = None  # None: pings for 1.x clients (Letta 0.16's default), none for 0.8's
    streaming: bool = False  # 1.x: POST /messages answers SSE instead of JSON (1.x clients only)
    background: bool = False  # 1.x: the run outlives the client; its events are kept for /v1/runs/{id}/stream


class LettaAsyncRequest(LettaRequest):
    callback_url: str | None = None
