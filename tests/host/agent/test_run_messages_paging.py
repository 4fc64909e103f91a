"""``GET /v1/runs/{id}/messages`` pages with ``before``/``after`` (message ids), through the letta-client SDK."""

from __future__ import annotations

from tests.support.waiting import wait_until


def test_run_messages_page_with_before_and_after(http, client, make_agent, model):
    agent = make_agent()
    for i in range(3):
        model.script.push_tool_call("conversation_search", {"query": f"q{i}", "request_heartbeat": True})
    model.script.push_tool_call("send_message", {"message": "done"})
    run = http.post(f"/v1/agents/{agent['id']}/messages/async",
                    json={"messages": [{"role": "user", "content": "page me"}]}).json()
    wait_until(lambda: http.get(f"/v1/runs/{run['id']}").json()["status"] not in ("created", "running"),
               what="the run to finish")

    everything = client.runs.messages.list(run_id=run["id"])
    ids = list(dict.fromkeys(m.id for m in everything))  # one stored message may show as several (call + thought)
    assert len(ids) >= 8, ids  # user, 4 assistant calls, 3 tool returns... and the last return

    first = client.runs.messages.list(run_id=run["id"], limit=3)  # (the first stored rows are all visible)
    assert list(dict.fromkeys(m.id for m in first)) == ids[:3]
    second = client.runs.messages.list(run_id=run["id"], limit=3, after=first[-1].id)
    assert list(dict.fromkeys(m.id for m in second)) == ids[3:6]
    before = client.runs.messages.list(run_id=run["id"], before=ids[5])
    assert list(dict.fromkeys(m.id for m in before)) == ids[:5]
    between = client.runs.messages.list(run_id=run["id"], after=ids[1], before=ids[4])
    assert list(dict.fromkeys(m.id for m in between)) == ids[2:4]
    def listed(**params) -> list[str]:
        return list(dict.fromkeys(m.id for m in client.runs.messages.list(run_id=run["id"], **params)))

    assert listed(order="desc") == ids[::-1]
    # Cursors follow the requested order (as the 1.x SDK pages: next page = after=<last id>, same order).
    assert listed(order="desc", after=ids[4]) == ids[:4][::-1], "after, in desc: older than the cursor"
    assert listed(order="desc", before=ids[4]) == ids[5:][::-1], "before, in desc: newer than the cursor"
    assert listed(after="message-nope") == ids, "an unknown cursor is ignored, as everywhere else"
