"""conversation_search and the archival-memory tools over in-test port implementations."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from builtin_tools import (
    ArchivalPort,
    CoreMemory,
    PassageHit,
    RecallHit,
    RecallPort,
    ServicesConfig,
    ToolContext,
    get_builtin,
)

T0 = datetime(2025, 7, 1, 12, 0, tzinfo=UTC)


class ListArchive:
    """An ArchivalPort over a list: substring match, pages of top_k."""

    def __init__(self, texts: list[str]) -> None:
        self.passages = list(texts)
        self.calls: list[tuple] = []

    async def insert(self, text: str, tags: list[str] | None) -> str:
        self.passages.append(text)
        return f"passage-{len(self.passages)}"

    async def search(self, query: str, page: int, tags, top_k: int) -> list[PassageHit]:
        self.calls.append((query, page, tags, top_k))
        hits = [p for p in self.passages if query.lower() in p.lower()]
        window = hits[page * top_k : (page + 1) * top_k]
        return [PassageHit(text=t, created_at=T0, source="archival", score=0.5) for t in window]


class ListRecall:
    """A RecallPort over (role, text) pairs, two hits per page."""

    def __init__(self, messages: list[tuple[str, str]]) -> None:
        self.messages = messages

    async def search(self, query, page, roles, start_date, end_date) -> list[RecallHit]:
        hits = [RecallHit(role=r, text=t, created_at=T0) for r, t in self.messages if query.lower() in t.lower()]
        return hits[page * 2 : (page + 1) * 2]


def _ctx(archive: ListArchive, recall: ListRecall, page_size: int = 2) -> ToolContext:
    return ToolContext(
        "agent-1", "sam", CoreMemory(), archive, recall, services=ServicesConfig(page_size=page_size)
    )


def test_in_test_ports_satisfy_the_protocols() -> None:
    assert isinstance(ListArchive([]), ArchivalPort)
    assert isinstance(ListRecall([]), RecallPort)


@pytest.mark.anyio
async def test_conversation_search_reports_timestamps_roles_and_next_page() -> None:
    recall = ListRecall([("user", "I love cats"), ("assistant", "Cats are great"), ("user", "cats again"), ("user", "dogs")])
    ctx = _ctx(ListArchive([]), recall)
    out = await get_builtin("conversation_search").run({"query": "cats"}, ctx)
    assert out.status == "success"
    payload = json.loads(out.text)
    assert payload["page"] == 0 and payload["count"] == 2
    assert payload["results"][0] == {"timestamp": "2025-07-01T12:00:00+00:00", "role": "user", "content": "I love cats"}
    assert "page=1" in payload["note"]
    last = json.loads((await get_builtin("conversation_search").run({"query": "cats", "page": 1}, ctx)).text)
    assert last["count"] == 1 and "last page" in last["note"]
    empty = json.loads((await get_builtin("conversation_search").run({"query": "cats", "page": 2}, ctx)).text)
    assert empty["count"] == 0 and "No more" in empty["note"]


@pytest.mark.anyio
async def test_conversation_search_with_no_match_says_so() -> None:
    out = await get_builtin("conversation_search").run({"query": "zebra"}, _ctx(ListArchive([]), ListRecall([])))
    assert out.status == "success"
    assert "No conversation results for 'zebra'" in json.loads(out.text)["note"]


@pytest.mark.anyio
async def test_negative_page_is_refused() -> None:
    out = await get_builtin("conversation_search").run({"query": "a", "page": -1}, _ctx(ListArchive([]), ListRecall([])))
    assert out.status == "error" and "page must be 0 or more" in out.text


@pytest.mark.anyio
async def test_archival_insert_then_search_finds_the_passage() -> None:
    archive = ListArchive(["The cat sat on the mat", "Dogs bark"])
    ctx = _ctx(archive, ListRecall([]))
    out = await get_builtin("archival_memory_insert").run({"content": "Another cat fact"}, ctx)
    assert out.status == "success" and "passage-3" in out.text
    found = json.loads((await get_builtin("archival_memory_search").run({"query": "cat"}, ctx)).text)
    assert [r["content"] for r in found["results"]] == ["The cat sat on the mat", "Another cat fact"]
    assert found["results"][0]["timestamp"] == "2025-07-01T12:00:00+00:00"
    assert found["results"][0]["source"] == "archival" and found["results"][0]["score"] == 0.5


@pytest.mark.anyio
async def test_archival_search_start_skips_results_within_the_page() -> None:
    archive = ListArchive([f"fact {i}" for i in range(5)])
    ctx = _ctx(archive, ListRecall([]))
    out = json.loads((await get_builtin("archival_memory_search").run({"query": "fact", "start": 1}, ctx)).text)
    assert [r["content"] for r in out["results"]] == ["fact 1", "fact 2"]
    assert archive.calls[-1] == ("fact", 0, None, 3)


@pytest.mark.anyio
async def test_archival_insert_of_blank_content_is_refused() -> None:
    archive = ListArchive([])
    out = await get_builtin("archival_memory_insert").run({"content": "  "}, _ctx(archive, ListRecall([])))
    assert out.status == "error" and "content is empty" in out.text
    assert archive.passages == []
