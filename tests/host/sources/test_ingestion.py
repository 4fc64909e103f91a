"""Upload real files of each type through the SDK, wait for the ingestion job, and find their content with
the agent's archival search (the REST search route and the agent's own archival_memory_search tool)."""

from __future__ import annotations

import json
import uuid

import pytest

from tests.host.sources import samples
from tests.host.sources.conftest import wait_for_job

FACT = "The zebra named {word} eats kumquats every Tuesday."


def upload(client, source_id: str, kind: str, data: bytes, name: str | None = None):
    return client.sources.files.upload(source_id=source_id, file=(name or f"notes.{kind}", data, samples.MIME[kind]))


def search(http, agent_id: str, query: str) -> list[dict]:
    resp = http.get(f"/v1/agents/{agent_id}/archival-memory/search", params={"query": query, "top_k": 5})
    assert resp.status_code == 200, resp.text
    return resp.json()["results"]


@pytest.mark.parametrize("kind", ["txt", "md", "html", "pdf", "docx"])
def test_an_uploaded_file_is_ingested_and_found_by_the_agents_archival_search(client, http, make_agent,
                                                                               make_source, kind):
    word = f"Quintus{uuid.uuid4().hex[:6]}"
    source = make_source()
    agent = make_agent()

    meta = upload(client, source.id, kind, samples.make(kind, FACT.format(word=word)))
    assert meta.source_id == source.id and meta.file_name == f"notes.{kind}"
    job_id = meta.job_id  # an extra field beside Letta's FileMetadata
    job = wait_for_job(client, job_id)
    assert job.status == "completed", job.metadata
    assert job.metadata["num_passages"] >= 1 and job.metadata["file_id"] == meta.id

    files = client.sources.files.list(source_id=source.id)
    assert [(f.id, f.processing_status) for f in files] == [(meta.id, "completed")]
    passages = client.sources.passages.list(source_id=source.id)
    assert any(word in p.text for p in passages)
    assert all(p.source_id == source.id and p.file_name == f"notes.{kind}" for p in passages)

    client.agents.sources.attach(agent_id=agent["id"], source_id=source.id)
    assert [s.id for s in client.agents.sources.list(agent_id=agent["id"])] == [source.id]
    results = search(http, agent["id"], f"what does {word} eat")
    assert word in results[0]["content"]
    if kind == "html":
        assert not any("scriptonlyword" in p.text for p in passages), "script text is not content"


def test_the_agents_archival_memory_search_tool_finds_source_passages_labelled_with_their_file(
        client, http, make_agent, make_source, scripted_llm):
    name = f"sources-{uuid.uuid4().hex[:10]}"
    script = scripted_llm.for_model(name)
    word = f"Octavia{uuid.uuid4().hex[:6]}"
    source = make_source()
    agent = make_agent(model=f"openai-proxy/{name}", tools=["archival_memory_search"])
    meta = upload(client, source.id, "docx", samples.make("docx", f"The lighthouse keeper {word} counts gulls."),
                  name="keeper.docx")
    assert wait_for_job(client, meta.job_id).status == "completed"
    client.agents.sources.attach(agent_id=agent["id"], source_id=source.id)

    script.push_tool_call("archival_memory_search", {"query": f"who counts gulls {word}"})
    script.push_tool_call("send_message", {"message": "found it"})
    resp = http.post(f"/v1/agents/{agent['id']}/messages",
                     json={"messages": [{"role": "user", "content": "who counts the gulls?"}]})
    assert resp.status_code == 200, resp.text
    ret = next(m for m in resp.json()["messages"] if m["message_type"] == "tool_return_message")
    assert ret["status"] == "success", ret
    assert word in ret["tool_return"] and "keeper.docx" in ret["tool_return"]


def test_detaching_a_source_removes_its_passages_from_the_agents_search(client, http, make_agent, make_source):
    word = f"Brontes{uuid.uuid4().hex[:6]}"
    source = make_source()
    agent = make_agent()
    meta = upload(client, source.id, "txt", samples.make("txt", f"The cyclops {word} forges thunderbolts."))
    assert wait_for_job(client, meta.job_id).status == "completed"
    client.agents.sources.attach(agent_id=agent["id"], source_id=source.id)
    assert word in search(http, agent["id"], word)[0]["content"]
    assert [a for a in client.sources.get_agents_for_source(source_id=source.id)] == [agent["id"]]

    state = client.agents.sources.detach(agent_id=agent["id"], source_id=source.id)
    assert state.sources == []
    assert not any(word in r["content"] for r in search(http, agent["id"], word))
    assert client.agents.sources.list(agent_id=agent["id"]) == []


def test_deleting_a_file_removes_its_passages(client, http, make_agent, make_source):
    word = f"Pallas{uuid.uuid4().hex[:6]}"
    source = make_source()
    agent = make_agent()
    client.agents.sources.attach(agent_id=agent["id"], source_id=source.id)
    keep = upload(client, source.id, "md", samples.make("md", "A note that stays."), name="keep.md")
    drop = upload(client, source.id, "txt", samples.make("txt", f"The owl {word} hunts at dusk."), name="drop.txt")
    for meta in (keep, drop):
        assert wait_for_job(client, meta.job_id).status == "completed"
    assert word in search(http, agent["id"], word)[0]["content"]

    client.sources.files.delete(source_id=source.id, file_id=drop.id)
    assert [f.file_name for f in client.sources.files.list(source_id=source.id)] == ["keep.md"]
    assert not any(word in p.text for p in client.sources.passages.list(source_id=source.id))
    assert not any(word in r["content"] for r in search(http, agent["id"], word))


@pytest.mark.parametrize(("name", "data", "fragment"), [
    ("broken.pdf", b"%PDF-1.4\nthis is not really a pdf\n", "is not a readable PDF"),
    ("broken.docx", b"PK\x03\x04 not a zip at all", "is not a readable Word (.docx) document"),
    ("picture.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "Unsupported file type"),
    ("latin.txt", "caf\xe9 cr\xe8me".encode("latin-1"), "is not valid UTF-8 text"),
    ("empty.md", b"   \n\n", "contains no extractable text"),
])
def test_a_bad_file_fails_its_job_with_a_clear_message_and_leaves_no_passages(client, make_source, name, data,
                                                                              fragment):
    source = make_source()
    meta = client.sources.files.upload(source_id=source.id, file=(name, data, "application/octet-stream"))
    job = wait_for_job(client, meta.job_id)
    assert job.status == "failed"
    assert fragment in job.metadata["error"] and name in job.metadata["error"]
    file = client.sources.get_file_metadata(source_id=source.id, file_id=meta.id)
    assert file.processing_status == "error" and fragment in file.error_message
    assert client.sources.passages.list(source_id=source.id) == []


def test_a_long_document_is_split_into_many_passages_with_progress(client, make_source):
    source = make_source(embedding_chunk_size=64)
    paragraphs = [f"Paragraph {i} talks about topic number {i} in some detail, with filler words." for i in range(200)]
    meta = client.sources.files.upload(source_id=source.id,
                                       file=("long.txt", "\n\n".join(paragraphs).encode(), "text/plain"))
    job = wait_for_job(client, meta.job_id)
    assert job.status == "completed"
    file = client.sources.get_file_metadata(source_id=source.id, file_id=meta.id)
    assert file.total_chunks == file.chunks_embedded == job.metadata["num_passages"] > 20
    raw = job.model_dump()
    assert raw.get("progress") == 1.0
    passages = client.sources.passages.list(source_id=source.id, limit=1000)
    assert len(passages) == file.total_chunks
    assert all(len(p.text) <= 64 * 4 for p in passages)
    assert json.dumps([p.text for p in passages]).count("Paragraph 199") >= 1
