"""Isolation between organizations (issue 18): organization A creates one object of each kind; a user of
organization B then calls every operation of ``/openapi.json`` on A's objects. No operation naming an A
object may succeed (another organization's object is a 404), and no response may show an id of A that B
did not send itself (lists, searches and errors alike). Every leak is collected and shown at once.
"""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

import anyio
import httpx
import pytest

from tests.host.mcp.mcp_gateway import stdio_entry
from tests.support.waiting import wait_until

ADMIN = {"Authorization": "Bearer secret"}
MODEL, EMBEDDING = "openai-proxy/gpt-4o-mini", None  # the embedding handle is looked up

# Global by design: no organization's objects behind them (B's answer may still not show any A id).
GLOBAL = {
    "/v1/health/": "liveness",
    "/v1/ready/": "readiness",
    "/v1/models/": "the server's model catalogue",
    "/v1/models/embedding": "the server's model catalogue",
    "/v1/auth": "password check",
}
# Not called: they start processes or reach outside services, with no A object in them.
SKIPPED = {
    ("POST", "/v1/tools/mcp/servers/test"): "starts the MCP server it is given",
    ("POST", "/v1/tools/mcp/servers/connect"): "starts the MCP server it is given",
    ("POST", "/v1/sandbox-config/local/recreate-venv"): "rebuilds a virtualenv",
    ("POST", "/v1/tools/run"): "runs the code it is given",
    ("GET", "/v1/tools/composio/apps"): "Composio (external)",
    ("GET", "/v1/tools/composio/apps/{composio_app_name}/actions"): "Composio (external)",
    ("POST", "/v1/tools/composio/{composio_action_name}"): "Composio (external)",
}


@pytest.fixture
def secure(make_server):
    return make_server({"SECURE": "true", "LETTA_SERVER_PASSWORD": "secret"})


def _user_key(http: httpx.Client, org_name: str) -> tuple[dict[str, str], str]:
    org = http.post("/v1/admin/orgs/", json={"name": org_name}, headers=ADMIN).json()
    user = http.post("/v1/admin/users/", json={"name": f"{org_name}-user", "organization_id": org["id"]},
                     headers=ADMIN).json()
    key = http.post(f"/v1/admin/users/{user['id']}/keys", headers=ADMIN).json()["key"]
    return {"Authorization": f"Bearer {key}"}, org["id"]


def _ok(resp: httpx.Response) -> Any:
    assert resp.is_success, f"{resp.request.method} {resp.request.url}: {resp.status_code} {resp.text}"
    return resp.json()


def _create_everything(http: httpx.Client, h: dict[str, str], tag: str, llm_url: str) -> dict[str, str]:
    """One object of each kind, created by the organization whose key is ``h``: path parameter -> value."""
    embedding = _ok(http.get("/v1/models/embedding", headers=h))[0]["handle"]
    agent = _ok(http.post("/v1/agents/", headers=h, json={
        "name": f"{tag}-agent", "model": MODEL, "embedding": embedding, "tags": [f"{tag}-label"],
        "memory_blocks": [{"label": "human", "value": f"{tag} secret human"}]}))
    ids: dict[str, str] = {"agent_id": agent["id"], "agent_tag": f"{tag}-label"}
    ids["block_id"] = _ok(http.post("/v1/blocks/", headers=h, json={"label": f"{tag}-notes", "value": "v"}))["id"]
    code = f"def {tag}_tool(x: str) -> str:\n    \"\"\"Echo.\n\n    Args:\n        x: text\n    \"\"\"\n    return x\n"
    tool = _ok(http.post("/v1/tools/", headers=h, json={"source_code": code}))
    ids["tool_id"], ids["tool_name"] = tool["id"], tool["name"]
    source = _ok(http.post("/v1/sources/", headers=h, json={"name": f"{tag}-source", "embedding": embedding}))
    ids["source_id"], ids["source_name"], ids["folder_name"] = source["id"], source["name"], source["name"]
    ids["file_id"] = _ok(http.post(f"/v1/sources/{source['id']}/upload", headers=h, files={
        "file": (f"{tag}.txt", f"{tag} secret file text".encode(), "text/plain")}))["id"]
    wait_until(lambda: _ok(http.get(f"/v1/sources/{source['id']}/files/{ids['file_id']}", headers=h)
                           )["processing_status"] == "completed", what="the upload to be ingested", timeout=60)
    ids["job_id"] = _ok(http.get("/v1/jobs/", headers=h, params={"source_id": source["id"]}))[0]["id"]
    _ok(http.patch(f"/v1/agents/{agent['id']}/sources/attach/{source['id']}", headers=h))
    passage = _ok(http.post(f"/v1/agents/{agent['id']}/archival-memory", headers=h, json={"text": f"{tag} secret"}))
    ids["memory_id"] = ids["passage_id"] = passage[0]["id"]
    ids["identity_id"] = _ok(http.post("/v1/identities/", headers=h, json={
        "identifier_key": f"{tag}-key", "name": f"{tag} person", "identity_type": "user",
        "agent_ids": [agent["id"]]}))["id"]
    _ok(http.put("/v1/tools/mcp/servers/", headers=h, json={"server_name": f"{tag}-mcp", **stdio_entry()}))
    ids["name"], ids["tool"] = f"{tag}-mcp", "echo"
    _ok(http.post(f"/v1/tools/mcp/servers/{tag}-mcp/tools/echo", headers=h))
    ids["provider_id"] = _ok(http.post("/v1/providers/", headers=h, json={
        "name": f"{tag}-provider", "provider_type": "openai", "api_key": "sk-x", "base_url": llm_url}))["id"]
    servers = _ok(http.get("/v1/mcp-servers/", headers=h))
    ids["mcp_server_id"] = next(s["id"] for s in servers if s["server_name"] == f"{tag}-mcp")
    ids["sandbox_config_id"] = _ok(http.post("/v1/sandbox-config/", headers=h,
                                             json={"config": {"sandbox_dir": f"/tmp/{tag}"}}))["id"]
    ids["env_var_id"] = _ok(http.post(f"/v1/sandbox-config/{ids['sandbox_config_id']}/environment-variable",
                                      headers=h, json={"key": f"{tag.upper()}_KEY", "value": "v"}))["id"]
    ids["group_id"] = _ok(http.post("/v1/groups/", headers=h, json={
        "agent_ids": [agent["id"]], "description": f"{tag} group"}))["id"]
    ids["archive_id"] = _ok(http.post("/v1/archives/", headers=h, json={"name": f"{tag}-archive"}))["id"]
    ids["conversation_id"] = _ok(http.post("/v1/conversations/", headers=h, params={"agent_id": agent["id"]}))["id"]
    sent = _ok(http.post(f"/v1/agents/{agent['id']}/messages", headers=h, json={
        "messages": [{"role": "user", "content": f"{tag} secret message"}]}))
    ids["message_id"] = sent["messages"][0]["id"]
    runs = _ok(http.get("/v1/runs/", headers=h, params={"agent_id": agent["id"]}))
    ids["run_id"] = runs[0]["id"]
    ids["step_id"] = _ok(http.get(f"/v1/runs/{ids['run_id']}/steps", headers=h))[0]["id"]
    ids["batch_id"] = _ok(http.post("/v1/messages/batches", headers=h, json={"requests": [{
        "agent_id": agent["id"], "messages": [{"role": "user", "content": "hi"}]}]}))["id"]
    ids["transaction_id"] = "tx-1"
    return ids


# Names of A's objects that are not ids (found in bodies as they are, so they are kept specific).
_NOT_SEARCHED = {"block_label", "tool", "transaction_id"}
_PARAM = re.compile(r"\{(\w+)\}")


def _operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    ops = [(method.upper(), path, op) for path, item in spec["paths"].items()
           for method, op in item.items() if method in ("get", "post", "put", "patch", "delete")]
    return sorted(ops, key=lambda o: o[0] == "DELETE")  # deletes last: a leaking delete spoils the rest


def _body(path: str, ids: dict[str, str]) -> dict[str, Any]:
    """A minimal body naming A's objects where the operation takes them in its body."""
    return {"query": "secret", "agent_id": ids["agent_id"], "archive_id": ids["archive_id"], "text": "x",
            "label": "x", "value": "x", "key": "X", "name": "x", "agent_ids": [ids["agent_id"]],
            "block_ids": [ids["block_id"]], "messages": [{"role": "user", "content": "hi"}],
            "requests": [{"agent_id": ids["agent_id"], "messages": [{"role": "user", "content": "hi"}]}],
            "conversation_id": ids["conversation_id"], "description": "x",
            "model": ids["agent_id"]}  # an agent id where the model is an agent (POST /v1/chat/completions)


def _leaks(resp: httpx.Response, a_ids: set[str], sent: str) -> list[str]:
    return sorted(i for i in a_ids if i in resp.text and i not in sent)


def test_another_organization_sees_and_changes_nothing(secure, scripted_llm) -> None:
    with httpx.Client(base_url=secure.base_url, timeout=120) as http:
        (alice, alice_org), (bob, _) = _user_key(http, "alpha"), _user_key(http, "beta")
        tag = f"a{uuid.uuid4().hex[:6]}"
        ids = {**_create_everything(http, alice, tag, scripted_llm.base_url), "block_label": "human"}
        bob_ids = {"agent_id": _ok(http.post("/v1/agents/", headers=bob, json={"name": "b-agent", "model": MODEL,
                   "embedding": _ok(http.get("/v1/models/embedding", headers=bob))[0]["handle"]}))["id"],
                   "block_id": _ok(http.post("/v1/blocks/", headers=bob, json={"label": "b", "value": "v"}))["id"]}
        bob_ids["group_id"] = _ok(http.post("/v1/groups/", headers=bob, json={
            "agent_ids": [bob_ids["agent_id"]], "description": "b group"}))["id"]
        a_ids = {v for k, v in ids.items() if k not in _NOT_SEARCHED}
        spec = _ok(http.get("/openapi.json", headers=ADMIN))

        failures: list[str] = []
        calls = 0
        for method, path, op in _operations(spec):
            if path in GLOBAL or (method, path) in SKIPPED or path.startswith("/v1/admin/"):
                continue
            names = _PARAM.findall(path)
            missing = [n for n in names if n not in ids]
            if missing:
                failures.append(f"{method} {path}: no A object for {missing} (extend the table)")
                continue
            # All path ids A's; then each of B's own objects beside A's (attach A's block to B's agent...).
            variants = [dict.fromkeys(names, "a")]
            if len(names) > 1:
                variants += [{n: ("b" if n == own else "a") for n in names} for own in names if own in bob_ids]
            for variant in variants:
                url = path
                for n in names:
                    url = url.replace("{" + n + "}", (bob_ids if variant[n] == "b" else ids)[n])
                query = {p["name"]: ids[p["name"]] for p in op.get("parameters", [])
                         if p.get("in") == "query" and p["name"] in ids}
                if "agent_ids" in {p["name"] for p in op.get("parameters", [])}:
                    query["agent_ids"] = ids["agent_id"]
                body = _body(path, ids) if method in ("POST", "PUT", "PATCH") else None
                if "multipart/form-data" in op.get("requestBody", {}).get("content", {}):
                    resp = http.request(method, url, params=query, headers=bob,
                                        files={"file": ("b.txt", b"b text", "text/plain")})
                else:
                    resp = http.request(method, url, params=query, headers=bob, json=body)
                calls += 1
                sent = url + json.dumps(query) + json.dumps(body)
                names_a = any(variant[n] == "a" for n in names)
                if names and names_a and resp.is_success:
                    failures.append(f"{method} {url} ({variant}): {resp.status_code} {resp.text[:200]}")
                elif names and names_a and resp.status_code not in (404, 405, 422):
                    failures.append(f"{method} {url} ({variant}): {resp.status_code}, not 404: {resp.text[:200]}")
                if leaked := _leaks(resp, a_ids, sent):
                    failures.append(f"{method} {url}: A's ids {leaked} in a {resp.status_code}: {resp.text[:300]}")
        assert calls > 200
        assert failures == [], "\n".join(failures)

        # Counts count only B's own objects.
        counts = {path: http.get(path, headers=bob).json() for path in (
            "/v1/agents/count", "/v1/groups/count", "/v1/sources/count", "/v1/folders/count", "/v1/identities/count")}
        assert counts == {"/v1/agents/count": 1, "/v1/groups/count": 1, "/v1/sources/count": 0,
                          "/v1/folders/count": 0, "/v1/identities/count": 0}, counts
        # Names are unique per organization: B takes A's tool and source names for objects of its own.
        same = _ok(http.post("/v1/tools/", headers=bob, json={"source_code": http.get(
            f"/v1/tools/{ids['tool_id']}", headers=alice).json()["source_code"]}))
        assert same["name"] == ids["tool_name"] and same["id"] != ids["tool_id"]
        same = _ok(http.post("/v1/sources/", headers=bob, json={"name": ids["source_name"], "embedding": _ok(
            http.get("/v1/models/embedding", headers=bob))[0]["handle"]}))
        assert same["name"] == ids["source_name"] and same["id"] != ids["source_id"]
        # A multi-agent tool of B's agent cannot reach A's agent: to it, A's agent does not exist.
        model = f"tenant-{uuid.uuid4().hex[:6]}"
        caller = _ok(http.post("/v1/agents/", headers=bob, json={
            "name": "b-caller", "model": f"openai-proxy/{model}", "include_multi_agent_tools": True}))["id"]
        scripted_llm.for_model(model).push_tool_call("send_message_to_agent_and_wait_for_reply", {
            "other_agent_id": ids["agent_id"], "message": "tell me your secrets", "request_heartbeat": True,
        }).push_tool_call("send_message", {"message": "done"})
        reply = _ok(http.post(f"/v1/agents/{caller}/messages", headers=bob,
                              json={"messages": [{"role": "user", "content": "ask alpha"}]}))
        [ret] = [m for m in reply["messages"] if m["message_type"] == "tool_return_message"]
        assert ret["status"] == "error" and "No agent with id" in ret["tool_return"], ret
        assert f"{tag} secret" not in json.dumps(reply["messages"])

        # A still sees and uses all of it.
        assert _ok(http.get(f"/v1/agents/{ids['agent_id']}", headers=alice))["id"] == ids["agent_id"]
        assert ids["agent_id"] in http.get("/v1/agents/", headers=alice).text
        _ok(http.patch(f"/v1/agents/{ids['agent_id']}/core-memory/blocks/attach/{ids['block_id']}", headers=alice))
        sent = _ok(http.post(f"/v1/agents/{ids['agent_id']}/messages", headers=alice,
                             json={"messages": [{"role": "user", "content": "still mine"}]}))
        assert any("still mine" in json.dumps(m) for m in sent["messages"])

        # An organization that still owns objects is not deleted, even without users (no orphans).
        _ok(http.delete(f"/v1/providers/{ids['provider_id']}", headers=alice))
        a_user = next(u for u in _ok(http.get("/v1/admin/users/", headers=ADMIN)) if u["organization_id"] == alice_org)
        _ok(http.delete("/v1/admin/users/", params={"user_id": a_user["id"]}, headers=ADMIN))
        refused = http.delete("/v1/admin/orgs/", params={"org_id": alice_org}, headers=ADMIN)
        assert refused.status_code == 409 and "agents, archives, blocks" in refused.json()["detail"], refused.text


@pytest.mark.anyio
async def test_the_mcp_endpoint_and_the_bridge_see_only_the_callers_organization(secure, tmp_path) -> None:
    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client

    from tests.mcp_server.conftest import stdio_params, text_of

    with httpx.Client(base_url=secure.base_url, timeout=60) as http:
        (alice, _), (bob, _) = _user_key(http, "alpha"), _user_key(http, "beta")
        agent = _ok(http.post("/v1/agents/", headers=alice, json={
            "name": "alpha-agent", "model": MODEL,
            "memory_blocks": [{"label": "human", "value": "alpha secret human"}]}))["id"]
        own = _ok(http.post("/v1/agents/", headers=bob, json={"name": "beta-agent", "model": MODEL}))["id"]

    async def as_bob(client: Client) -> list[str]:
        leaks: list[str] = []
        listed = text_of(await client.call_tool("list_agents", {}))
        if agent in listed or own not in listed:
            leaks.append(f"list_agents: {listed[:300]}")
        for tool, args in [("get_agent", {"agent_id": agent}), ("send_message_to_agent", {"agent_id": agent,
                           "message": "hi"}), ("append_memory_block", {"agent_id": agent, "label": "human",
                                                                       "text": "x"})]:
            result = await client.call_tool(tool, args)
            if not result.is_error or "alpha secret" in text_of(result):
                leaks.append(f"{tool}: {text_of(result)[:300]}")
        return leaks

    with anyio.fail_after(60):
        leaks: list[str] = []
        for mode in ("auto", "legacy"):  # legacy: sessions run in the session manager's tasks, not the request's
            async with httpx.AsyncClient(headers=bob) as client_http, Client(
                    streamable_http_client(secure.base_url + "/mcp", http_client=client_http), mode=mode) as client:
                leaks += [f"/mcp ({mode}, {client.protocol_version}) {leak}" for leak in await as_bob(client)]
        key = bob["Authorization"].removeprefix("Bearer ")
        async with Client(stdio_params(tmp_path / "bridge-home", None, "--url", secure.base_url,
                                       "--password", key)) as client:
            leaks += [f"bridge {leak}" for leak in await as_bob(client)]
    assert leaks == []
