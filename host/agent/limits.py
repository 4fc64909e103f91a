"""One gate for every way into a turn: input over a limit is refused before anything is written or any model
is called (``TooLargeError``: a 413 over HTTP, a tool error over MCP), naming the limit and its variable.

``Runner.admit`` applies it; the runner's own entries (``send``, ``stream``, ``start_async``: the message
routes, voice and the MCP server's ``send_message_to_agent``) call it before they create the run, and the
callers that create runs themselves (group turns, batches, agent-to-agent messages) call it first.

* the number of input messages: at most ``max_input_messages`` (AGENTHOST_MAX_INPUT_MESSAGES);
* each input message's text: at most ``max_message_chars`` characters (AGENTHOST_MAX_MESSAGE_CHARS);
* the input together with the agent's system prompt and memory blocks must fit the agent's context window:
  history can be summarized away, those cannot, so such a turn could never be sent.

Counting tokens is only needed for large inputs: a token is at least one byte, so an input of fewer bytes
than a small floor is let through without loading the agent.
"""

from __future__ import annotations

from dataclasses import dataclass

import anyio

from host.agent.store import load_turn, system_text
from host.agent.turn import TurnRequest
from host.errors import TooLargeError
from host.persistence.db import Database

# Below this many bytes of input no agent's window can be overflowed by the input itself (windows are
# thousands of tokens); such turns skip the window check entirely.
_CHECK_FROM_BYTES = 2048


@dataclass(frozen=True)
class TurnLimits:
    """The input limits of one turn (built from the settings at wiring time; docs/limits.md)."""

    max_message_chars: int = 1_000_000
    max_input_messages: int = 1_000


def check_sizes(req: TurnRequest, limits: TurnLimits) -> None:
    """The limits that need no database: message count and each message's size."""
    if len(req.messages) > limits.max_input_messages:
        raise TooLargeError(f"The request has {len(req.messages)} input messages; the limit is "
                            f"{limits.max_input_messages} (AGENTHOST_MAX_INPUT_MESSAGES)")
    for i, message in enumerate(req.messages):
        if len(message.text) > limits.max_message_chars:
            raise TooLargeError(f"messages[{i}] is {len(message.text)} characters; the limit is "
                                f"{limits.max_message_chars} (AGENTHOST_MAX_MESSAGE_CHARS)")


async def check_turn(db: Database, req: TurnRequest, limits: TurnLimits) -> None:
    """Raise ``TooLargeError`` for a turn over a limit (``NotFoundError`` for an unknown agent when its
    input is large enough to need the agent)."""
    check_sizes(req, limits)
    texts = [m.text for m in req.messages]
    if sum(len(t.encode("utf-8", "surrogatepass")) for t in texts) < _CHECK_FROM_BYTES:
        return
    snap = (await load_turn(db, req.agent_id)).snap
    window, model = int(snap.llm.context_window or 0), snap.llm.model
    if window <= 0:
        return
    system = system_text(snap, 0, 0)

    def count() -> tuple[int, int]:
        from host.llm import ChatMessage, count_tokens

        return (count_tokens(model, [ChatMessage(role="user", content=t) for t in texts]),
                count_tokens(model, [ChatMessage(role="system", content=system)]))

    inputs, fixed = await anyio.to_thread.run_sync(count)
    if inputs + fixed > window:
        raise TooLargeError(
            f"The input is {inputs} tokens; with the system prompt and memory ({fixed} tokens) it cannot fit "
            f"agent {req.agent_id}'s context window of {window} tokens, even after summarizing its history. "
            f"Send a shorter message, or raise the agent's context_window_limit")


__all__ = ["TurnLimits", "check_sizes", "check_turn"]
