"""Sleep-time runs under load and across restarts: never blocking the main agent, never interleaving,
visible in /v1/runs, cancellable, and never left stuck by a restart."""

from __future__ import annotations

import os
import signal
from concurrent.futures import ThreadPoolExecutor

import httpx

from tests.conftest import test_database_uri as fresh_database_uri
from tests.host.groups.test_sleeptime import _finished, _runs
from tests.support.waiting import wait_until

EMBEDDING = "openai/text-embedding-3-small"


def _send(http: httpx.Client, agent_id: str, text: str) -> httpx.Response:
    return http.post(f"/v1/agents/{agent_id}/messages", json={"messages": [{"role": "user", "content": text}]})


def _main_with_helper(http: httpx.Client, scripted_llm, token: str, label: str, frequency: int):
    model, sleepy = f"{label}-{token}", f"sleepy-{label}-{token}"
    resp = http.post("/v1/agents", json={"name": model, "model": f"openai-proxy/{model}", "embedding": EMBEDDING,
                                         "enable_sleeptime": True,
                                         "memory_blocks": [{"label": "human", "value": "The user."}]})
    assert resp.status_code == 200, resp.text
    main = resp.json()
    group = main["multi_agent_group"]
    [helper] = group["agent_ids"]
    assert http.patch(f"/v1/agents/{helper}", json={"model": f"openai-proxy/{sleepy}"}).status_code == 200
    resp = http.patch(f"/v1/groups/{group['id']}", json={"manager_config": {
        "manager_type": "sleeptime", "sleeptime_agent_frequency": frequency}})
    assert resp.status_code == 200 and resp.json()["sleeptime_agent_frequency"] == frequency, resp.text
    return main, group, helper, scripted_llm.for_model(model), scripted_llm.for_model(sleepy)


def test_twenty_concurrent_messages_with_background_runs(http, scripted_llm, token):
    main, group, helper, script, sleepy = _main_with_helper(http, scripted_llm, token, "busy", frequency=2)
    for n in range(20):
        script.push_tool_call("send_message", {"message": f"ok {n}"})
    for _ in range(10):
        sleepy.push_tool_call("memory_finish_edits", {})

    with ThreadPoolExecutor(max_workers=20) as pool:
        codes = list(pool.map(lambda n: _send(http, main["id"], f"m{n}").status_code, range(20)))

    assert codes == [200] * 20
    runs = wait_until(lambda: _finished(http, helper, 10), timeout=60, what="ten sleep-time runs")
    assert len(runs) == 10 and {r["status"] for r in runs} == {"completed"}
    assert http.get(f"/v1/groups/{group['id']}").json()["turns_counter"] == 20
    # Never interleaved: each run's messages are contiguous in the helper's history.
    history = http.get(f"/v1/agents/{helper}/messages", params={"limit": 500}).json()
    kinds = [m["message_type"] for m in history if m["message_type"] != "system_message"]
    assert kinds[-31] != "tool_call_message"
    assert kinds[-30:] == ["user_message", "tool_call_message", "tool_return_message"] * 10, kinds
    seen = " ".join(scripted_llm.requests_for(f"sleepy-busy-{token}")[i]["messages"][-1]["content"]
                    for i in range(10))
    for n in range(20):
        assert f"user: m{n}\n" in seen + "\n", f"message m{n} reached a sleep-time run"


def test_a_slow_sleep_time_run_never_blocks_the_main_agent_and_can_be_cancelled(http, scripted_llm, token):
    main, _, helper, script, sleepy = _main_with_helper(http, scripted_llm, token, "slow", frequency=1)
    sleepy.push_delay(120)
    sleepy.push_tool_call("memory_finish_edits", {})
    script.push_tool_call("send_message", {"message": "first"})
    assert _send(http, main["id"], "one").status_code == 200
    [run] = wait_until(lambda: _runs(http, helper), what="the sleep-time run to be listed")
    assert run["status"] == "running"
    wait_until(lambda: scripted_llm.requests_for(f"sleepy-slow-{token}"), what="the helper to call its model")

    script.push_tool_call("send_message", {"message": "second"})
    resp = _send(http, main["id"], "two")  # the helper is still waiting on its model
    assert resp.status_code == 200 and resp.json()["messages"][-1]["content"] == "second"
    assert http.get(f"/v1/runs/{run['id']}").json()["status"] == "running"

    active = [r["id"] for r in _runs(http, helper) if r["status"] == "running"]
    assert run["id"] in active
    resp = http.post(f"/v1/agents/{helper}/messages/cancel", json=active)
    assert resp.status_code == 200 and resp.json()[run["id"]] == "cancelled"
    wait_until(lambda: http.get(f"/v1/runs/{run['id']}").json()["status"] == "cancelled", what="the cancel")


def _restart_during_run(make_server, scripted_llm, token, tmp_path, *, crash: bool) -> None:
    uri = fresh_database_uri()
    home = tmp_path / "home"
    # Short run leases: on Postgres a crashed server's runs are closed once their lease has expired.
    leases = {"AGENTHOST_RUN_LEASE_SECONDS": "3", "AGENTHOST_RUN_RENEW_SECONDS": "1"}
    first = make_server(leases, home=home, pg_uri=uri)
    with httpx.Client(base_url=first.base_url, timeout=60) as http:
        main, _, helper, script, sleepy = _main_with_helper(http, scripted_llm, token, f"restart{crash}", 1)
        sleepy.push_delay(120)
        script.push_tool_call("send_message", {"message": "hi"})
        assert _send(http, main["id"], "one").status_code == 200
        wait_until(lambda: scripted_llm.requests_for(f"sleepy-restart{crash}-{token}"),
                   what="the sleep-time run to reach its model")
        [run] = _runs(http, helper)
        assert run["status"] == "running"
    if crash:
        os.killpg(first.proc.pid, signal.SIGKILL)
        first.proc.wait(timeout=10)
    else:
        first.stop()
    second = make_server(leases, home=home, pg_uri=uri)
    with httpx.Client(base_url=second.base_url, timeout=60) as http:
        status = wait_until(lambda: (s := http.get(f"/v1/runs/{run['id']}").json()["status"]) not in
                            ("created", "running") and s, timeout=60, what="the interrupted run to be closed")
        assert status in ("completed", "failed", "cancelled")
        # and the group goes on: the next turn starts a new sleep-time run
        sleepy.push_tool_call("memory_finish_edits", {})
        script.push_tool_call("send_message", {"message": "again"})
        assert _send(http, main["id"], "two").status_code == 200
        wait_until(lambda: _finished(http, helper, 2), what="a new sleep-time run after the restart")


def test_a_restart_during_a_sleep_time_run_leaves_it_finished(make_server, scripted_llm, token, tmp_path):
    _restart_during_run(make_server, scripted_llm, token, tmp_path, crash=False)


def test_a_crash_during_a_sleep_time_run_leaves_it_failed(make_server, scripted_llm, token, tmp_path):
    _restart_during_run(make_server, scripted_llm, token, tmp_path, crash=True)
