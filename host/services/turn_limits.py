"""A turn is refused before any model call when its input is over the limits (413 naming the limit).

* each input message's text: at most ``Limits.max_message_chars`` characters (AGENTHOST_MAX_MESSAGE_CHARS);
* the input together with the agent's system prompt (which holds its memory blocks) must fit the agent's
  context window: history can be summarized away, those cannot, so such a turn could never be sent.

Counting tokens is only needed for large inputs: a token is at least one byte, so an input of fewer bytes
than a small floor is let through without looking up the agent.
"""

from __future__ import annotations

from typing import Any

import anyio

from host.errors import TooLargeError
from host.settings import Limits

# Below this many bytes of input no agent's window can be overflowed by the input itself (windows are
# thousands of tokens); such turns skip the check entirely.
_CHECK_FROM_BYTES = 2048


def _texts(body: Any) -> list[str]:
    return [m.text() for m in body.messages if hasattr(m, "text")]


def check_message_sizes(body: Any, limits: Limits) -> None:
    for i, text in enumerate(_texts(body)):
        if len(text) > limits.max_message_chars:
            raise TooLargeError(f"messages[{i}] is {len(text)} characters; the limit is {limits.max_message_chars} "
                                f"(AGENTHOST_MAX_MESSAGE_CHARS)")


async def check_turn(svc: Any, agent_id: str, body: Any) -> None:
    """Raise ``TooLargeError`` for a turn that is over a limit; a 404 for an unknown agent is left to the run."""
    check_message_sizes(body, svc.settings.limits)
    texts = _texts(body)
    if sum(len(t.encode("utf-8", "surrogatepass")) for t in texts) < _CHECK_FROM_BYTES:
        return
    agent = await svc.agents.get(agent_id)
    window = int(agent.llm_config.get("context_window") or 0)
    model = str(agent.llm_config.get("model") or "")
    if window <= 0:
        return

    def count() -> tuple[int, int]:
        from host.llm import ChatMessage, count_tokens

        return (count_tokens(model, [ChatMessage(role="user", content=t) for t in texts]),
                count_tokens(model, [ChatMessage(role="system", content=agent.system)]))

    inputs, system = await anyio.to_thread.run_sync(count)
    if inputs + system > window:
        raise TooLargeError(
            f"The input is {inputs} tokens; with the system prompt and memory ({system} tokens) it cannot fit "
            f"agent {agent_id}'s context window of {window} tokens, even after summarizing its history. "
            f"Send a shorter message, or raise the agent's context_window_limit")
