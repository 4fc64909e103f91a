"""The voice endpoint with the `openai` SDK as the client (streamed and not), answered by the voice agent of a
voice_sleeptime group whose sleep-time agent takes over the messages that leave the voice agent's buffer."""

from __future__ import annotations

import openai
from letta_client import VoiceSleeptimeManager

from tests.host.groups.test_sleeptime import _finished
from tests.support.waiting import wait_until


def test_voice_chat_completions_streamed_and_not(client, http, server, make_agent):
    voice, helper = make_agent("voice"), make_agent("voicemem", tools=["memory_finish_edits"],
                                                     include_base_tools=False)
    group = client.groups.create(agent_ids=[helper.id], description="voice",
                                 manager_config=VoiceSleeptimeManager(manager_agent_id=voice.id,
                                                                      max_message_buffer_length=8,
                                                                      min_message_buffer_length=3))
    assert (group.max_message_buffer_length, group.min_message_buffer_length) == (8, 3)
    oai = openai.OpenAI(base_url=f"{server.base_url}/v1/voice-beta/{voice.id}", api_key="unused")

    voice.script.push_tool_call("send_message", {"message": "Hello there."})
    done = oai.chat.completions.create(model="voice", messages=[{"role": "user", "content": "hi"}])
    assert done.choices[0].message.content == "Hello there."
    assert done.choices[0].finish_reason == "stop" and done.object == "chat.completion"

    voice.script.push_tool_call("send_message", {"message": "Streaming now."})
    stream = oai.chat.completions.create(model="voice", stream=True,
                                         messages=[{"role": "user", "content": "hi"},
                                                   {"role": "assistant", "content": "Hello there."},
                                                   {"role": "user", "content": "stream please"}])
    chunks = list(stream)
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == "Streaming now."
    assert chunks[-1].choices[0].finish_reason == "stop"
    history = http.get(f"/v1/agents/{voice.id}/messages", params={"limit": 100}).json()
    users = [m["content"] for m in history if m["message_type"] == "user_message"]
    assert users[-2:] == ["hi", "stream please"], "only the newest user message is sent to the agent"

    # The buffer (now over 8 messages) is cut to the newest few; the sleep-time agent gets what left it.
    helper.script.push_tool_call("memory_finish_edits", {})
    voice.script.push_tool_call("send_message", {"message": "Third."})
    oai.chat.completions.create(model="voice", messages=[{"role": "user", "content": "third"}])
    [run] = wait_until(lambda: _finished(http, helper.id, 1), what="the voice sleep-time run")
    assert run["status"] == "completed"
    ids = http.get(f"/v1/agents/{voice.id}").json()["message_ids"]
    assert len(ids) <= 1 + 3


def test_voice_bad_input(http, make_agent):
    voice = make_agent("voice")
    resp = http.post(f"/v1/voice-beta/{voice.id}/chat/completions",
                     json={"model": "x", "messages": [{"role": "system", "content": "only system"}]})
    assert resp.status_code == 422 and "messages" in resp.text
    resp = http.post("/v1/voice-beta/agent-nope/chat/completions",
                     json={"messages": [{"role": "user", "content": "hi"}]})
    assert resp.status_code == 404
    resp = http.post(f"/v1/voice-beta/{voice.id}/chat/completions", json={"messages": []})
    assert resp.status_code == 422
