"""Multi-agent tools over an in-test messenger: self-messages, timeouts, fan-out, depth bound."""

from __future__ import annotations

import json

import anyio
import pytest

from builtin_tools import CoreMemory, ServicesConfig, ToolContext, UnknownAgentError, get_builtin


class _NoPorts:
    async def insert(self, text, tags):  # pragma: no cover - never reached
        raise AssertionError

    async def search(self, *args):  # pragma: no cover - never reached
        raise AssertionError


class Office:
    """An AgentMessengerPort over a dict of agents: each replies, stays silent, or never answers."""

    def __init__(self, agents: dict[str, tuple[set[str], str | None]]) -> None:
        self.agents = agents  # id -> (tags, reply or None for silence)
        self.sent: list[dict] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.all_started = anyio.Event()
        self.expected_concurrent = 0

    async def send_async(self, target_agent_id, message, sender_agent_id, *, call_depth):
        self._check(target_agent_id)
        self.sent.append({"to": target_agent_id, "message": message, "from": sender_agent_id, "depth": call_depth})
        return f"run-{len(self.sent)}"

    async def send_and_wait(self, target_agent_id, message, sender_agent_id, timeout_s, *, call_depth):
        self._check(target_agent_id)
        self.sent.append({"to": target_agent_id, "message": message, "from": sender_agent_id, "depth": call_depth})
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        if self.in_flight == self.expected_concurrent:
            self.all_started.set()
        try:
            if self.expected_concurrent:
                # Every fan-out request waits until all of them are in flight: proves concurrency.
                with anyio.fail_after(5):
                    await self.all_started.wait()
            reply = self.agents[target_agent_id][1]
            if reply == "HANG":
                await anyio.sleep_forever()
            return reply
        finally:
            self.in_flight -= 1

    async def find_agents(self, tags, match_all):
        wanted = set(tags)
        return [
            agent_id
            for agent_id, (agent_tags, _) in self.agents.items()
            if (wanted <= agent_tags if match_all else wanted & agent_tags)
        ]

    def _check(self, agent_id: str) -> None:
        if agent_id not in self.agents:
            raise UnknownAgentError(agent_id)


def _ctx(office: Office | None, *, depth: int = 0, reply_timeout: float = 5.0) -> ToolContext:
    return ToolContext(
        "boss",
        "boss",
        CoreMemory(),
        _NoPorts(),
        _NoPorts(),
        messenger=office,
        services=ServicesConfig(agent_reply_timeout_s=reply_timeout),
        call_depth=depth,
    )


def _office() -> Office:
    return Office(
        {
            "boss": ({"team"}, "I am the boss"),
            "w1": ({"team", "worker", "fast"}, "w1 done"),
            "w2": ({"team", "worker"}, "w2 done"),
            "w3": ({"team", "worker", "fast"}, None),
            "other": ({"elsewhere"}, "nope"),
        }
    )


@pytest.mark.anyio
@pytest.mark.parametrize("tool", ["send_message_to_agent_and_wait_for_reply", "send_message_to_agent_async"])
async def test_messaging_yourself_is_refused(tool: str) -> None:
    office = _office()
    out = await get_builtin(tool).run({"message": "hi", "other_agent_id": "boss"}, _ctx(office))
    assert out.status == "error" and "your own id" in out.text
    assert office.sent == []


@pytest.mark.anyio
async def test_wait_for_reply_returns_the_reply_and_frames_the_message() -> None:
    office = _office()
    out = await get_builtin("send_message_to_agent_and_wait_for_reply").run(
        {"message": "status?", "other_agent_id": "w1"}, _ctx(office, depth=1)
    )
    assert (out.status, out.text) == ("success", "w1 done")
    sent = office.sent[0]
    assert sent["from"] == "boss" and sent["depth"] == 2
    assert "'boss'" in sent["message"] and sent["message"].endswith("status?")


@pytest.mark.anyio
async def test_wait_for_reply_reports_a_silent_agent_with_the_timeout() -> None:
    out = await get_builtin("send_message_to_agent_and_wait_for_reply").run(
        {"message": "hello", "other_agent_id": "w3"}, _ctx(_office(), reply_timeout=7)
    )
    assert out.status == "error"
    assert "'w3' did not reply within 7 seconds" in out.text


@pytest.mark.anyio
async def test_unknown_agent_is_reported_not_raised() -> None:
    out = await get_builtin("send_message_to_agent_async").run({"message": "x", "other_agent_id": "ghost"}, _ctx(_office()))
    assert out.status == "error" and "'ghost'" in out.text


@pytest.mark.anyio
async def test_async_send_returns_a_receipt_and_tells_the_target_how_to_answer() -> None:
    office = _office()
    out = await get_builtin("send_message_to_agent_async").run({"message": "fyi", "other_agent_id": "w2"}, _ctx(office))
    assert out.status == "success" and "run-1" in out.text
    assert "send_message_to_agent_async" in office.sent[0]["message"]
    assert office.sent[0]["depth"] == 1


@pytest.mark.anyio
async def test_tag_fan_out_gathers_every_reply_concurrently_except_your_own() -> None:
    office = _office()
    office.expected_concurrent = 3
    out = await get_builtin("send_message_to_agents_matching_tags").run(
        {"message": "report", "match_all": ["team"], "match_some": ["worker"]}, _ctx(office)
    )
    assert out.status == "success"
    header, body = out.text.split("\n", 1)
    assert header == "2 of 3 matching agent(s) replied."
    replies = json.loads(body)
    assert [(r["agent_id"], r["status"]) for r in replies] == [("w1", "replied"), ("w2", "replied"), ("w3", "no_reply")]
    assert replies[0]["reply"] == "w1 done"
    assert office.max_in_flight == 3
    assert "boss" not in {s["to"] for s in office.sent}


@pytest.mark.anyio
async def test_match_all_and_match_some_intersect() -> None:
    office = _office()
    out = await get_builtin("send_message_to_agents_matching_tags").run(
        {"message": "go", "match_all": ["worker"], "match_some": ["fast"]}, _ctx(office)
    )
    assert [r["agent_id"] for r in json.loads(out.text.split("\n", 1)[1])] == ["w1", "w3"]


@pytest.mark.anyio
async def test_matching_all_tags_variant_and_no_match_message() -> None:
    office = _office()
    out = await get_builtin("send_message_to_agents_matching_all_tags").run(
        {"message": "go", "tags": ["worker", "fast"]}, _ctx(office)
    )
    assert [r["agent_id"] for r in json.loads(out.text.split("\n", 1)[1])] == ["w1", "w3"]
    none = await get_builtin("send_message_to_agents_matching_all_tags").run({"message": "go", "tags": ["x"]}, _ctx(office))
    assert none.status == "error" and "No other agent matches" in none.text


@pytest.mark.anyio
async def test_an_agent_that_overruns_the_port_timeout_is_cut_off_by_the_tool() -> None:
    office = Office({"slow": ({"t"}, "HANG")})
    with anyio.fail_after(5):
        out = await get_builtin("send_message_to_agent_and_wait_for_reply").run(
            {"message": "x", "other_agent_id": "slow"}, _ctx(office, reply_timeout=0.05)
        )
    assert out.status == "error" and "did not reply" in out.text


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("tool", "args"),
    [
        ("send_message_to_agent_and_wait_for_reply", {"message": "x", "other_agent_id": "w1"}),
        ("send_message_to_agent_async", {"message": "x", "other_agent_id": "w1"}),
        ("send_message_to_agents_matching_tags", {"message": "x", "match_all": ["team"], "match_some": []}),
    ],
)
async def test_chains_deeper_than_the_limit_are_refused(tool: str, args: dict) -> None:
    office = _office()
    out = await get_builtin(tool).run(args, _ctx(office, depth=3))
    assert out.status == "error" and "too deep" in out.text and "limit 3" in out.text
    assert office.sent == []


@pytest.mark.anyio
async def test_without_a_messenger_the_tools_say_messaging_is_unavailable() -> None:
    out = await get_builtin("send_message_to_agent_async").run({"message": "x", "other_agent_id": "w1"}, _ctx(None))
    assert out.status == "error" and "not available" in out.text
