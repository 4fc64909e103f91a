"""web_search through the real tavily-python SDK against the loopback fake of Tavily."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from builtin_tools import CoreMemory, ServicesConfig, ToolContext, get_builtin
from tests.support.fake_tavily import FakeTavily


class _NoPorts:
    async def insert(self, text, tags):  # pragma: no cover - never reached
        raise AssertionError

    async def search(self, *args):  # pragma: no cover - never reached
        raise AssertionError


@pytest.fixture
def tavily() -> Iterator[FakeTavily]:
    with FakeTavily(api_key="tvly-good") as fake:
        yield fake


def _ctx(base_url: str | None, env: dict[str, str]) -> ToolContext:
    return ToolContext(
        "agent-1", "sam", CoreMemory(), _NoPorts(), _NoPorts(), env=env,
        services=ServicesConfig(tavily_base_url=base_url, http_timeout_s=10),
    )


@pytest.mark.anyio
async def test_results_are_formatted_per_task_with_title_url_and_snippet(tavily: FakeTavily) -> None:
    args = {
        "tasks": [
            {"query": "cats", "question": "Do cats sleep a lot?"},
            {"query": "dogs", "question": "Do dogs bark?"},
        ],
        "limit": 2,
        "request_heartbeat": True,
    }
    out = await get_builtin("web_search").run(args, _ctx(tavily.url, {"TAVILY_API_KEY": "tvly-good"}))
    assert out.status == "success", out.text
    cats, dogs = out.text.split("\n\n")
    assert cats.splitlines()[:3] == ["Task 1: query='cats'", "Question: Do cats sleep a lot?", "1. Result 1 about cats"]
    assert "   URL: https://example.test/cats/1" in cats
    assert "   Snippet: Snippet 2: facts about cats." in cats
    assert "3. " not in cats
    assert dogs.startswith("Task 2: query='dogs'")
    assert sorted(r["query"] for r in tavily.requests) == ["cats", "dogs"]
    assert all(r["max_results"] == 2 for r in tavily.requests)
    assert set(tavily.auth_headers) == {"Bearer tvly-good"}


@pytest.mark.anyio
async def test_return_raw_includes_page_text(tavily: FakeTavily) -> None:
    args = {"tasks": [{"query": "owls", "question": "q"}], "return_raw": True, "limit": 1}
    out = await get_builtin("web_search").run(args, _ctx(tavily.url, {"TAVILY_API_KEY": "tvly-good"}))
    assert "Raw content: Full page 1 text about owls." in out.text
    assert tavily.requests[0]["include_raw_content"] is True


@pytest.mark.anyio
async def test_no_results_is_said_plainly(tavily: FakeTavily) -> None:
    out = await get_builtin("web_search").run(
        {"tasks": [{"query": "nothing here", "question": "q"}]}, _ctx(tavily.url, {"TAVILY_API_KEY": "tvly-good"})
    )
    assert out.status == "success" and "No results found." in out.text


@pytest.mark.anyio
async def test_missing_key_gives_the_model_a_clear_message_without_calling_tavily(tavily: FakeTavily) -> None:
    out = await get_builtin("web_search").run({"tasks": [{"query": "cats", "question": "q"}]}, _ctx(tavily.url, {}))
    assert out.status == "error"
    assert "TAVILY_API_KEY" in out.text and "not configured" in out.text
    assert tavily.requests == []


@pytest.mark.anyio
async def test_rejected_key_and_server_failure_come_back_as_errors(tavily: FakeTavily) -> None:
    bad = await get_builtin("web_search").run(
        {"tasks": [{"query": "cats", "question": "q"}]}, _ctx(tavily.url, {"TAVILY_API_KEY": "tvly-wrong"})
    )
    assert bad.status == "error" and "rejected (invalid key)" in bad.text
    boom = await get_builtin("web_search").run(
        {"tasks": [{"query": "explode", "question": "q"}]}, _ctx(tavily.url, {"TAVILY_API_KEY": "tvly-good"})
    )
    assert boom.status == "error" and "search service failed" in boom.text


@pytest.mark.anyio
async def test_unreachable_service_is_an_error_output() -> None:
    out = await get_builtin("web_search").run(
        {"tasks": [{"query": "cats", "question": "q"}]}, _ctx("http://127.0.0.1:9", {"TAVILY_API_KEY": "k"})
    )
    assert out.status == "error" and "web_search failed" in out.text


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        ({"tasks": []}, "tasks is empty"),
        # refused by the schema check (jsonschema, nested objects included) before the tool runs
        ({"tasks": [{"question": "q"}]}, "argument 'tasks[0]' is missing required field(s) query"),
        ({"tasks": [{"query": " ", "question": "q"}]}, "needs a non-empty string 'query'"),
        ({"tasks": [{"query": "a", "question": "q"}], "limit": 0}, "limit must be greater than 0"),
    ],
)
async def test_bad_tasks_are_refused(tavily: FakeTavily, args: dict, fragment: str) -> None:
    out = await get_builtin("web_search").run(args, _ctx(tavily.url, {"TAVILY_API_KEY": "tvly-good"}))
    assert out.status == "error" and fragment in out.text
    assert tavily.requests == []
