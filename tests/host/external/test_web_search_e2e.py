"""web_search in an agent turn: tavily-python against the loopback Tavily fake."""

from __future__ import annotations

from tests.host.external.helpers import TAVILY_KEY, the_return, turn

SEARCH = {"tasks": [{"query": "sea otters", "question": "What do sea otters eat?"}], "limit": 2}


def test_web_search_uses_the_servers_key_and_base_url(external, make_agent):
    agent_id, script = make_agent(external.http, tools=["web_search"])
    script.push_tool_call("web_search", SEARCH)
    before = len(external.tavily.requests)

    ret = the_return(turn(external.http, agent_id), "web_search")

    assert ret["status"] == "success", ret["tool_return"]
    assert "Result 1 about sea otters" in ret["tool_return"] and "Result 2 about sea otters" in ret["tool_return"]
    assert "Result 3" not in ret["tool_return"], "limit bounds the results"
    assert "https://example.test/sea-otters/1" in ret["tool_return"]
    [request] = external.tavily.requests[before:]
    assert (request["query"], request["max_results"]) == ("sea otters", 2)
    assert external.tavily.auth_headers[-1] == f"Bearer {TAVILY_KEY}"


def test_the_agents_tool_variable_key_takes_precedence_over_the_servers(external, make_agent):
    agent_id, script = make_agent(external.http, tools=["web_search"],
                                  tool_exec_environment_variables={"TAVILY_API_KEY": "tvly-agent-own"})
    script.push_tool_call("web_search", SEARCH)

    ret = the_return(turn(external.http, agent_id), "web_search")

    assert external.tavily.auth_headers[-1] == "Bearer tvly-agent-own"
    assert ret["status"] == "error" and "TAVILY_API_KEY was rejected" in ret["tool_return"]


def test_without_a_key_web_search_says_it_is_not_configured(plain_http, make_agent):
    agent_id, script = make_agent(plain_http, tools=["web_search"])
    script.push_tool_call("web_search", SEARCH)
    script.push_text("I cannot search right now.")

    ret = the_return(turn(plain_http, agent_id), "web_search")

    assert ret["status"] == "error"
    assert "web_search is not configured" in ret["tool_return"] and "TAVILY_API_KEY" in ret["tool_return"]
