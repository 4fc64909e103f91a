"""Secrets never leave: not in any answer (every GET route of /openapi.json, PUT/POST/PATCH answers), not in
what the model is sent, not in the server's debug log - while the real values still reach their servers."""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import re
from typing import Any

from tests.host.security.planted import (
    AGENT_EXTRA,
    AGENT_SECRET,
    ARG_SECRET,
    ARG_VALUES,
    BEARER_SECRET,
    FLAG_SECRET,
    HEADER_SECRET,
    PLAIN_ARG,
    SANDBOX_SECRET,
    SECRETS,
    URL_PASSWORD,
    URL_QUERY,
    Scenario,
)
from tests.support.scripted_llm import ScriptedLLM

_ID = re.compile(r"^([a-z][a-z_-]*?)-[0-9a-f]{8}")


def _without_args(value: Any) -> Any:
    """An answer without the `args` of MCP server views (where plain argument values are shown)."""
    if isinstance(value, dict):
        return {key: _without_args(item) for key, item in value.items() if key != "args"}
    if isinstance(value, list):
        return [_without_args(item) for item in value]
    return value


def _leaks(text: str, *, args_shown: bool = False) -> list[str]:
    """The planted values in `text`; `args_shown`: `text` is an answer that may show server `args`."""
    found = [secret for secret in SECRETS if secret in text]
    if SANDBOX_SECRET in text:
        found.append(SANDBOX_SECRET)
    if args_shown:
        try:
            text = json.dumps(_without_args(json.loads(text)))
        except ValueError:
            pass
    return found + [value for value in ARG_VALUES if value in text]


def _ids(value: Any, into: dict[str, set[str]]) -> None:
    if isinstance(value, dict):
        for item in value.values():
            _ids(item, into)
    elif isinstance(value, list):
        for item in value:
            _ids(item, into)
    elif isinstance(value, str) and (match := _ID.match(value)):
        into.setdefault(match.group(1), set()).add(value)


def _candidates(sc: Scenario, param: str, seen: dict[str, set[str]]) -> list[str]:
    fixed = {"agent_id": [sc.agent_id], "name": list(sc.servers.values()), "tool_id": list(sc.tool_ids.values()),
             "sandbox_config_id": [sc.sandbox_config_id], "block_label": ["human", "persona"]}
    if param in fixed:
        return fixed[param]
    prefix = param.removesuffix("_id").replace("_", "-")
    return sorted(seen.get(prefix, ()))[:3] or ["unknown-id"]


def test_put_post_and_patch_answers_hold_no_secret(scenario: Scenario) -> None:
    leaks = {what: found for what, resp in scenario.answers if (found := _leaks(resp.text, args_shown=True))}
    assert not leaks
    status = next(r for what, r in scenario.answers if what == "status failing").json()
    assert status["state"] == "error" and "unrecognized arguments: --api-key **** --token=**** ****" in \
        status["last_error"], status
    remote = next(r for what, r in scenario.answers if what == "status remote").json()
    assert remote["state"] == "error" and "/mcp?api_key=****" in remote["last_error"], remote
    assert "'x-api-key': '****'" in remote["last_error"] and "Basic ****" in remote["last_error"], remote
    listing = next(r for what, r in scenario.answers if what == "list servers").json()
    view = listing[scenario.servers["failing"]]
    assert view["env"] == {"LEAKY_TOKEN": "****", "LEAKY_ARGV_LOG": "****"} and view["args"][1:4] == ["--api-key", "****", "--token=****"]
    assert "unrecognized arguments" in view["last_error"]


def test_no_get_route_answers_with_a_secret(scenario: Scenario) -> None:
    spec = scenario.http.get("/openapi.json").json()
    routes = [(path, op["get"]) for path, op in spec["paths"].items() if "get" in op]
    routes.sort(key=lambda route: route[0].count("{"))  # lists first: their answers name the ids
    seen: dict[str, set[str]] = {}
    for _, resp in scenario.answers:
        _ids(resp.json(), seen)
    called, leaks, masked = 0, [], 0
    for path, op in routes:
        params = re.findall(r"{(\w+)}", path)
        query = {p["name"]: "x" for p in op.get("parameters", []) if p.get("in") == "query" and p.get("required")}
        for values in itertools.product(*(_candidates(scenario, p, seen) for p in params)):
            url = path
            for param, value in zip(params, values, strict=False):
                url = url.replace("{" + param + "}", value)
            resp = scenario.http.get(url, params=query)
            called += 1
            assert resp.status_code != 500, f"GET {url}: {resp.text[:300]}"  # 502: a server is not ready
            if found := _leaks(resp.text, args_shown=True):
                leaks.append((url, found))
            masked += resp.text.count("****")
            if resp.headers.get("content-type", "").startswith("application/json"):
                _ids(resp.json(), seen)
    assert not leaks
    assert called > len(routes) and masked > 0, "the walk reached the planted values' places"


def test_agent_tool_variables_are_write_only_and_a_masked_value_keeps_the_secret(scenario: Scenario) -> None:
    agent = scenario.http.get(f"/v1/agents/{scenario.agent_id}").json()
    assert {(v["key"], v["value"]) for v in agent["tool_exec_environment_variables"]} == {
        ("AGENT_SECRET", "****"), ("REGION", "****"), ("AGENT_EXTRA", "****")}
    first_turn = next(r for what, r in scenario.answers if what == "message 'first turn'").json()
    digests = next(m for m in first_turn["messages"] if m["message_type"] == "tool_return_message"
                   and m["name"] == "variable_digests")
    assert json.loads(digests["tool_return"]) == {
        name: hashlib.sha256(value.encode()).hexdigest()
        for name, value in (("AGENT_SECRET", AGENT_SECRET), ("AGENT_EXTRA", AGENT_EXTRA), ("REGION", "eu"))
    }, "the tool saw the real values: PATCHing back **** kept the stored secret"


def test_tool_errors_reach_the_model_redacted(scenario: Scenario, scripted_llm: ScriptedLLM) -> None:
    sent = json.dumps(scripted_llm.requests_for(scenario.model))
    assert not _leaks(sent)
    assert "cannot work: argv=" in sent and "token=****" in sent, "the MCP error result reached the model"
    assert "bad key **** / ****" in sent, "the custom tool's error reached the model"
    assert "unrecognized arguments: --api-key ****" in sent, "the failed server's stderr reached the model"


def test_tool_output_in_answers_is_redacted(scenario: Scenario) -> None:
    first_turn = next(r for what, r in scenario.answers if what == "message 'first turn'").json()
    failed = next(m for m in first_turn["messages"] if m["message_type"] == "tool_return_message"
                  and m["name"] == "fail_loudly")
    assert failed["status"] == "error" and "stderr of the tool: **** ****" in "".join(failed["stderr"])
    assert "stdout of the tool: ****" in "".join(failed["stdout"])


def test_the_servers_still_receive_the_real_secrets(scenario: Scenario) -> None:
    received = "\n".join(scenario.endpoint.seen)
    assert URL_QUERY in received and HEADER_SECRET in received
    assert BEARER_SECRET in received or "basic " in received.lower()


def test_masked_values_sent_back_in_a_patch_keep_the_stored_secrets(scenario: Scenario) -> None:
    runs = scenario.argv_log.read_text().splitlines()
    assert len(runs) >= 2 and runs[0] == runs[-1], runs  # the restart after the PATCH got the same arguments
    assert f"--api-key {ARG_SECRET} --token={FLAG_SECRET} {PLAIN_ARG}" in runs[-1] and "****" not in runs[-1]
    received = "\n".join(scenario.remote_seen_after_patch)
    assert received and "****" not in received, received
    assert URL_QUERY in received and HEADER_SECRET in received
    basic = base64.b64encode(f"operator:{URL_PASSWORD}".encode()).decode()
    assert basic in received or BEARER_SECRET in received


def test_the_debug_log_holds_no_secret(scenario: Scenario) -> None:
    log = scenario.log_text()
    assert not _leaks(log)
    failing, remote = scenario.servers["failing"], scenario.servers["remote"]
    assert f"[{failing} stderr]" in log and "unrecognized arguments: --api-key ****" in log, "stderr is logged"
    assert "HTTP Request: POST http://127.0.0.1:" in log and "api_key=****" in log, "URLs are logged, scrubbed"
    assert f"MCP server {remote!r}: denied:" in log
