"""Bad inputs over raw HTTP: the right 4xx with a message that names the problem, never a 500, and
nothing half-written."""

from __future__ import annotations

import textwrap

import pytest

MISSING = {
    "agent": "/v1/agents/agent-00000000-0000-0000-0000-000000000000",
    "block": "/v1/blocks/block-00000000-0000-0000-0000-000000000000",
    "tool": "/v1/tools/tool-00000000-0000-0000-0000-000000000000",
    "identity": "/v1/identities/identity-00000000-0000-0000-0000-000000000000",
}


@pytest.mark.parametrize("kind", sorted(MISSING))
def test_unknown_ids_are_404_naming_the_id(http, kind):
    path = MISSING[kind]
    ident = path.rsplit("/", 1)[1]
    for resp in (http.get(path), http.delete(path), http.patch(path, json={})):
        assert resp.status_code == 404, (resp.request.method, resp.text)
        assert ident in resp.json()["detail"]


def test_unknown_ids_in_agent_sub_routes_are_404(http, make_agent):
    agent = make_agent()
    nobody = "agent-00000000-0000-0000-0000-000000000000"
    for resp in (http.get(f"/v1/agents/{nobody}/core-memory"), http.get(f"/v1/agents/{nobody}/messages"),
                 http.get(f"/v1/agents/{nobody}/archival-memory"), http.get(f"/v1/agents/{nobody}/export"),
                 http.patch(f"/v1/agents/{agent.id}/tools/attach/tool-nope"),
                 http.patch(f"/v1/agents/{agent.id}/core-memory/blocks/attach/block-nope"),
                 http.delete(f"/v1/agents/{agent.id}/archival-memory/passage-nope")):
        assert resp.status_code == 404, (resp.request.url, resp.text)
        assert "nope" in resp.text or nobody in resp.text


def test_malformed_json_is_422(http):
    resp = http.post("/v1/agents/", content=b'{"name": ', headers={"content-type": "application/json"})

    assert resp.status_code == 422
    assert resp.json()["detail"][0]["type"] == "json_invalid"


@pytest.mark.parametrize("path", ["/v1/agents/", "/v1/blocks/", "/v1/tools/", "/v1/identities/"])
def test_unknown_fields_are_422_naming_the_field(http, path):
    resp = http.post(path, json={"definitely_not_a_field": 1})

    assert resp.status_code == 422
    assert any(e["loc"][-1] == "definitely_not_a_field" and e["type"] == "extra_forbidden"
               for e in resp.json()["detail"])


def test_wrong_types_are_422_in_letta_shape(http, llm_handle):
    resp = http.post("/v1/agents/", json={"model": llm_handle, "memory_blocks": "notalist"})

    assert resp.status_code == 422
    assert resp.json()["detail"][0] == {"type": "list_type", "loc": ["body", "memory_blocks"],
                                        "msg": "Input should be a valid list", "input": "notalist"}


def test_over_limit_block_in_agent_create_is_422_and_creates_nothing(client, http, llm_handle):
    agents, blocks = client.agents.count(), client.blocks.count()

    resp = http.post("/v1/agents/", json={"model": llm_handle, "memory_blocks": [
        {"label": "human", "value": "ok"}, {"label": "persona", "value": "p" * 5001}]})
    assert resp.status_code == 422
    assert "5000" in str(resp.json()["detail"])
    assert (client.agents.count(), client.blocks.count()) == (agents, blocks)


def test_tool_without_a_docstring_is_422_with_a_message(http):
    resp = http.post("/v1/tools/", json={"source_code": "def bare(x: int) -> int:\n    return x\n"})

    assert resp.status_code == 422
    assert "docstring" in resp.json()["detail"]


def test_undocumented_parameter_is_422_naming_it(http):
    source = textwrap.dedent('''
        def half_documented(alpha: int, beta: int) -> int:
            """Add.

            Args:
                alpha (int): The first.
            """
            return alpha + beta
    ''')
    resp = http.post("/v1/tools/", json={"source_code": source})

    assert resp.status_code == 422
    assert "'beta'" in resp.json()["detail"]


def test_source_that_does_not_parse_is_422(http):
    resp = http.post("/v1/tools/", json={"source_code": "def broken(:\n"})

    assert resp.status_code == 422
    assert "parse" in resp.json()["detail"]


def test_duplicate_tool_name_on_post_is_409_and_put_upserts(client, http, unique):
    name = unique("dup_tool")
    source = f'def {name}() -> str:\n    """Say hi."""\n    return "hi"\n'
    first = http.post("/v1/tools/", json={"source_code": source})
    assert first.status_code == 200, first.text
    try:
        again = http.post("/v1/tools/", json={"source_code": source})
        assert again.status_code == 409
        assert name in again.json()["detail"]
        upsert = http.put("/v1/tools/", json={"source_code": source, "description": "Say hello."})
        assert upsert.status_code == 200
        assert upsert.json()["id"] == first.json()["id"]
    finally:
        client.tools.delete(tool_id=first.json()["id"])


def test_shadowing_a_builtin_tool_is_409(http):
    source = 'def send_message(message: str) -> str:\n    """Hijack.\n\n    Args:\n        message: text\n    """\n'
    for method in ("POST", "PUT"):
        resp = http.request(method, "/v1/tools/", json={"source_code": source})
        assert resp.status_code == 409, resp.text


def test_bad_model_handle_is_422_naming_valid_handles(client, http, llm_handle):
    start = client.agents.count()

    resp = http.post("/v1/agents/", json={"model": "nosuchprovider/nope-model"})
    assert resp.status_code == 422
    detail = resp.json()["detail"]
    assert "nosuchprovider/nope-model" in detail and llm_handle in detail
    resp = http.post("/v1/agents/", json={"model": llm_handle, "embedding": "nosuchprovider/emb"})
    assert resp.status_code == 422
    assert "nosuchprovider/emb" in resp.json()["detail"]
    assert client.agents.count() == start


# An unknown id is a 404, whether in the path or named in the body (as Letta answers); a body that names
# no id but makes no sense is a 422.
@pytest.mark.parametrize(("extra", "named", "status"), [
    ({"tool_ids": ["tool-00000000-0000-0000-0000-000000000000"]}, "tool-00000000-0000-0000-0000-000000000000", 404),
    ({"tools": ["no_such_tool_anywhere"]}, "no_such_tool_anywhere", 404),
    ({"block_ids": ["block-00000000-0000-0000-0000-000000000000"]}, "block-00000000-0000-0000-0000-000000000000",
     404),
    ({"identity_ids": ["identity-00000000-0000-0000-0000-000000000000"]}, "identity-00000000", 404),
    ({"source_ids": ["source-00000000-0000-0000-0000-000000000000"]}, "source-00000000", 404),
    ({"tool_rules": [{"type": "exit_loop", "tool_name": "not_attached"}]}, "not_attached", 422),
    ({"tool_rules": [{"type": "no_such_rule", "tool_name": "send_message"}]}, "no_such_rule", 422),
])
def test_a_failed_agent_create_leaves_nothing_behind(client, http, llm_handle, extra, named, status):
    agents, blocks = client.agents.count(), client.blocks.count()

    resp = http.post("/v1/agents/", json={"model": llm_handle,
                                          "memory_blocks": [{"label": "human", "value": "half-written?"}], **extra})
    assert resp.status_code == status, resp.text
    assert named in resp.json()["detail"]
    assert (client.agents.count(), client.blocks.count()) == (agents, blocks)


def test_a_failed_modify_leaves_the_agent_unchanged(client, http, make_agent):
    agent = make_agent(tags=["keep"])

    resp = http.patch(f"/v1/agents/{agent.id}", json={"tags": ["changed"], "name": "renamed",
                                                      "tool_ids": ["tool-00000000-0000-0000-0000-000000000000"]})
    assert resp.status_code == 404, resp.text  # the body names a tool that does not exist
    assert "tool-00000000-0000-0000-0000-000000000000" in resp.json()["detail"]
    after = client.agents.retrieve(agent_id=agent.id)
    assert (after.tags, after.name, [t.id for t in after.tools]) == (["keep"], agent.name,
                                                                       [t.id for t in agent.tools])


@pytest.mark.parametrize(("body", "named"), [
    ({"llm_config": {"model": "gpt-4o-mini"}}, "llm_config.model_endpoint_type"),
    ({"llm_config": {"model": "m", "model_endpoint_type": "openai", "context_window": "big"}},
     "llm_config.context_window"),
    ({"model": "LLM", "embedding_config": {"embedding_model": "e"}}, "embedding_config.embedding_endpoint_type"),
])
def test_an_incomplete_raw_config_is_422_naming_the_field(client, http, llm_handle, body, named):
    start = client.agents.count()
    body = {k: (llm_handle if v == "LLM" else v) for k, v in body.items()}

    resp = http.post("/v1/agents/", json=body)
    assert resp.status_code == 422, resp.text
    assert named in resp.json()["detail"]
    assert client.agents.count() == start


def test_a_nul_character_is_422_naming_the_field_and_nothing_is_written(client, http, llm_handle):
    """Postgres cannot store U+0000: refused on both databases alike, before anything is written."""
    label = "nul-test-block"
    resp = http.post("/v1/blocks/", json={"label": label, "value": "x\u0000y"})
    assert resp.status_code == 422, resp.text
    assert resp.json()["detail"].startswith("body.value contains a NUL character")
    assert not [b for b in http.get("/v1/blocks/", params={"label": label}).json() if b["label"] == label]

    agent = client.agents.create(model=llm_handle, embedding="openai/text-embedding-3-small")
    before = http.get(f"/v1/agents/{agent.id}/messages").json()
    resp = http.post(f"/v1/agents/{agent.id}/messages",
                     json={"messages": [{"role": "user", "content": [{"type": "text", "text": "hi\u0000"}]}]})
    assert resp.status_code == 422, resp.text
    assert "body.messages[0].content[0].text contains a NUL character" in resp.json()["detail"]
    assert http.get(f"/v1/agents/{agent.id}/messages").json() == before
    # A backslash followed by "u0000" is text, not a NUL: accepted.
    resp = http.post("/v1/blocks/", json={"label": label, "value": "a \\u0000 b"})
    assert resp.status_code == 200 and resp.json()["value"] == "a \\u0000 b"
    http.delete(f"/v1/blocks/{resp.json()['id']}")
    client.agents.delete(agent.id)


TOO_LONG = "x" * 300


@pytest.mark.parametrize(("path", "body", "loc"), [
    ("/v1/agents/", {"name": TOO_LONG}, ["body", "name"]),
    ("/v1/agents/", {"tags": ["ok", TOO_LONG]}, ["body", "tags", 1]),
    ("/v1/blocks/", {"label": TOO_LONG, "value": "v"}, ["body", "label"]),
    ("/v1/identities/", {"identifier_key": TOO_LONG, "name": "n", "identity_type": "user"}, ["body", "identifier_key"]),
])
def test_a_string_longer_than_its_column_is_422_naming_the_field(http, llm_handle, path, body, loc):
    """Postgres enforces column lengths (SQLite does not): both refuse alike, before the database."""
    if path == "/v1/agents/":
        body = {"model": llm_handle, "embedding": "openai/text-embedding-3-small", **body}
    resp = http.post(path, json=body)
    assert resp.status_code == 422, resp.text
    assert resp.json()["detail"][0]["loc"] == loc and resp.json()["detail"][0]["type"] == "string_too_long"


def test_message_references_longer_than_their_columns_are_422(http, client, llm_handle):
    agent = client.agents.create(model=llm_handle, embedding="openai/text-embedding-3-small")
    before = http.get(f"/v1/agents/{agent.id}/messages").json()
    for field in ("otid", "sender_id", "name"):
        resp = http.post(f"/v1/agents/{agent.id}/messages",
                         json={"messages": [{"role": "user", "content": "hi", field: TOO_LONG}]})
        assert resp.status_code == 422, resp.text
        assert field in resp.json()["detail"][0]["loc"]
    assert http.get(f"/v1/agents/{agent.id}/messages").json() == before
    client.agents.delete(agent.id)


def test_a_tool_whose_function_name_is_too_long_is_422(http):
    name = "f" * 300
    source = f'def {name}(a: str) -> str:\n    """Doc.\n\n    Args:\n        a (str): A.\n    """\n    return a\n'
    resp = http.post("/v1/tools/", json={"source_code": source})
    assert resp.status_code == 422, resp.text
    assert "300 characters long; at most 256" in resp.json()["detail"]


@pytest.mark.parametrize(("path", "body", "loc"), [
    ("/v1/blocks/", {"label": "big", "value": "v", "limit": 10**12}, ["body", "limit"]),
    ("/v1/tools/", {"source_code": 'def f(a: str) -> str:\n    """Doc.\n\n    Args:\n        a (str): A.\n    """\n'
                                   '    return a\n', "return_char_limit": 10**12}, ["body", "return_char_limit"]),
])
def test_an_integer_beyond_its_column_is_422_naming_the_field(http, path, body, loc):
    resp = http.post(path, json=body)
    assert resp.status_code == 422, resp.text
    assert resp.json()["detail"][0]["loc"] == loc and resp.json()["detail"][0]["type"] == "less_than_equal"


@pytest.mark.parametrize("source", [
    "x = " + "-" * 500_000 + "1",  # past the parser's own depth limit: MemoryError / RecursionError inside ast
    "def f(x: 'int +') -> int:\n    \"\"\"F.\n\n    Args:\n        x: x\n    \"\"\"\n    return 1\n",  # string hint
    "def f():\n    return 1\x00\n",  # a NUL byte
])
def test_sources_python_cannot_parse_are_a_4xx_or_the_runs_error(http, source):
    created = http.post("/v1/tools/", json={"source_code": source})
    assert created.status_code in (400, 422), created.text
    assert "parse" in created.text or "type hint" in created.text or "NUL" in created.text or "null" in created.text
    run = http.post("/v1/tools/run", json={"source_code": source, "args": {}})
    assert run.status_code in (200, 400, 422), run.text
    if run.status_code == 200:
        assert run.json()["status"] == "error"
