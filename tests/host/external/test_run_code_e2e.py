"""run_code in an agent turn: e2b-code-interpreter against the loopback E2B fake (code really runs)."""

from __future__ import annotations

import json

from tests.host.external.helpers import E2B_KEY, the_return, turn


def test_run_code_runs_in_a_fresh_sandbox_that_is_then_killed(external, make_agent):
    agent_id, script = make_agent(external.http, tools=["run_code"])
    script.push_tool_call("run_code", {"code": "print(6 * 7)", "language": "python"})
    before = len(external.e2b.created)

    ret = the_return(turn(external.http, agent_id), "run_code")

    assert ret["status"] == "success", ret["tool_return"]
    assert json.loads(ret["tool_return"])["logs"]["stdout"] == ["42\n"]
    [created] = external.e2b.created[before:]
    assert created["id"] in external.e2b.killed
    assert external.e2b.api_keys[-1] == E2B_KEY


def test_an_exception_in_the_code_comes_back_as_an_error_the_model_can_read(external, make_agent):
    agent_id, script = make_agent(external.http, tools=["run_code"])
    script.push_tool_call("run_code", {"code": "1 / 0", "language": "python"})
    script.push_text("That divided by zero.")

    ret = the_return(turn(external.http, agent_id), "run_code")

    assert ret["status"] == "error"
    assert ret["tool_return"].startswith("The code raised ZeroDivisionError")


def test_without_a_key_run_code_says_it_is_not_configured(plain_http, make_agent):
    agent_id, script = make_agent(plain_http, tools=["run_code"])
    script.push_tool_call("run_code", {"code": "print(1)", "language": "python"})
    script.push_text("I cannot run code right now.")

    ret = the_return(turn(plain_http, agent_id), "run_code")

    assert ret["status"] == "error" and "run_code is not configured" in ret["tool_return"]
    assert "E2B_API_KEY" in ret["tool_return"]
