"""Two server processes on one Postgres: a sleep-time group made (or removed) through one process is seen by
the other from its next turn, because each turn reads the groups from the database."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import PG_ADMIN_URI
from tests.conftest import test_database_uri as fresh_database_uri
from tests.host.groups.test_sleeptime import _finished, _runs
from tests.host.groups.test_sleeptime_runs import _main_with_helper, _send
from tests.support.waiting import wait_until

pytestmark = pytest.mark.skipif(PG_ADMIN_URI is None, reason="two `serve` processes share a Postgres database "
                                                            "(set AGENTHOST_TEST_PG_URI)")


def test_a_group_made_through_one_process_counts_the_turns_served_by_another(make_server, scripted_llm, token):
    uri = fresh_database_uri()
    one, two = make_server(pg_uri=uri), make_server(pg_uri=uri)  # both up before the group exists
    with httpx.Client(base_url=one.base_url, timeout=60) as a, httpx.Client(base_url=two.base_url, timeout=60) as b:
        main, group, helper, script, sleepy = _main_with_helper(a, scripted_llm, token, "fleet", frequency=1)
        sleepy.push_tool_call("memory_finish_edits", {})
        script.push_tool_call("send_message", {"message": "served by two"})

        assert _send(b, main["id"], "hello from two").status_code == 200

        [run] = wait_until(lambda: _finished(b, helper, 1), what="a sleep-time run started by the second process")
        assert run["status"] == "completed"
        assert b.get(f"/v1/groups/{group['id']}").json()["turns_counter"] == 1
        transcript = scripted_llm.requests_for(f"sleepy-fleet-{token}")[0]["messages"][-1]["content"]
        assert "user: hello from two" in transcript

        # Turned off through the first process, on again: the second process counts for the new group only.
        assert a.patch(f"/v1/agents/{main['id']}", json={"enable_sleeptime": False}).status_code == 200
        resp = a.patch(f"/v1/agents/{main['id']}", json={"enable_sleeptime": True})
        new_group = resp.json()["multi_agent_group"]
        [new_helper] = new_group["agent_ids"]
        assert a.patch(f"/v1/groups/{new_group['id']}", json={"manager_config": {
            "manager_type": "sleeptime", "sleeptime_agent_frequency": 1}}).status_code == 200
        assert a.patch(f"/v1/agents/{new_helper}", json={"model": f"openai-proxy/sleepy-fleet-{token}"}
                       ).status_code == 200
        sleepy.push_tool_call("memory_finish_edits", {})
        script.push_tool_call("send_message", {"message": "again"})

        assert _send(b, main["id"], "second time").status_code == 200

        wait_until(lambda: _finished(b, new_helper, 1), what="the new helper's run, started by the second process")
        assert b.get(f"/v1/groups/{new_group['id']}").json()["turns_counter"] == 1
        assert b.get(f"/v1/groups/{group['id']}").status_code == 404
        assert _runs(b, helper) == [] or b.get(f"/v1/agents/{helper}").status_code == 404
