"""Names are unique per organization (issue 18, migration 0013): two organizations each create a custom tool
and a source of the same name; each sees and uses only its own, and an agent of each, given the tool by name,
calls its own organization's. A name of a shared (built-in) tool stays everyone's: taking it is a 409."""

from __future__ import annotations

import uuid

import httpx

MODEL_PREFIX = "openai-proxy/"


def _org_key(http: httpx.Client, tag: str) -> dict[str, str]:
    org = http.post("/v1/admin/orgs/", json={"name": f"{tag}-{uuid.uuid4().hex[:6]}"}).json()
    user = http.post("/v1/admin/users/", json={"name": f"{tag}-user", "organization_id": org["id"]}).json()
    key = http.post(f"/v1/admin/users/{user['id']}/keys").json()["key"]
    return {"Authorization": f"Bearer {key}"}


def _code(name: str, answer: str) -> str:
    return (f"def {name}(x: str) -> str:\n    \"\"\"Say who answers.\n\n    Args:\n        x: text\n    \"\"\"\n"
            f"    return {answer!r} + x\n")


def test_two_organizations_each_have_their_own_tool_and_source_of_one_name(http, scripted_llm):
    a, b = _org_key(http, "names-a"), _org_key(http, "names-b")
    tool_name, source_name = f"same_{uuid.uuid4().hex[:8]}", f"same-{uuid.uuid4().hex[:8]}"
    tools, sources = {}, {}
    for who, h in (("A", a), ("B", b)):
        made = http.post("/v1/tools/", headers=h, json={"source_code": _code(tool_name, f"{who}:")})
        assert made.status_code == 200, made.text
        tools[who] = made.json()["id"]
        made = http.post("/v1/sources/", headers=h, json={"name": source_name})
        assert made.status_code == 200, made.text
        sources[who] = made.json()["id"]
    assert tools["A"] != tools["B"] and sources["A"] != sources["B"]

    for who, h in (("A", a), ("B", b)):
        listed = http.get("/v1/tools/", headers=h, params={"name": tool_name}).json()
        assert [t["id"] for t in listed] == [tools[who]]
        assert http.get(f"/v1/sources/name/{source_name}", headers=h).json() == sources[who]
        assert [s["id"] for s in http.get("/v1/sources/", headers=h).json() if s["name"] == source_name] == [
            sources[who]]
        # Within one organization the name is still taken; an upsert by name changes that organization's own.
        again = http.post("/v1/tools/", headers=h, json={"source_code": _code(tool_name, "again")})
        assert again.status_code == 409, again.text
        assert http.post("/v1/sources/", headers=h, json={"name": source_name}).status_code == 409
        upserted = http.put("/v1/tools/", headers=h, json={"source_code": _code(tool_name, f"{who}:")})
        assert upserted.status_code == 200 and upserted.json()["id"] == tools[who], upserted.text

    for who, h in (("A", a), ("B", b)):
        model = f"names-{uuid.uuid4().hex[:8]}"
        agent = http.post("/v1/agents/", headers=h, json={
            "name": f"names-{who}", "model": MODEL_PREFIX + model, "tools": [tool_name],
            "memory_blocks": [{"label": "human", "value": "Ada"}]})
        assert agent.status_code == 200, agent.text
        attached = [t["id"] for t in agent.json()["tools"] if t["name"] == tool_name]
        assert attached == [tools[who]]
        scripted_llm.for_model(model).push_tool_call(tool_name, {"x": "hello"})
        turn = http.post(f"/v1/agents/{agent.json()['id']}/messages", headers=h, timeout=120,
                         json={"messages": [{"role": "user", "content": "call it"}]})
        assert turn.status_code == 200, turn.text
        [returned] = [m for m in turn.json()["messages"] if m["message_type"] == "tool_return_message"]
        assert returned["status"] == "success" and returned["tool_return"] == f"{who}:hello", returned

    # Another organization's tool, given by id, does not exist for the agent's creator.
    foreign = http.post("/v1/agents/", headers=b, json={"name": "names-foreign", "model": MODEL_PREFIX + "names-x",
                                                        "tool_ids": [tools["A"]]})
    assert foreign.status_code == 404 and tools["A"] in foreign.text, foreign.text
    own = http.post("/v1/agents/", headers=b, json={"name": "names-own", "model": MODEL_PREFIX + "names-x",
                                                    "tool_ids": [tools["B"]], "include_base_tools": False})
    assert own.status_code == 200 and [t["id"] for t in own.json()["tools"]] == [tools["B"]], own.text

    # A shared (built-in) tool's name is everyone's.
    builtin = http.post("/v1/tools/", headers=a, json={"source_code": _code("send_message", "mine")})
    assert builtin.status_code == 409, builtin.text
