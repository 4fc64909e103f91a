"""Sources CRUD, attach rules, and jobs (list, active, cancel, delete, resume after a restart), through the SDK."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import anyio
import asyncpg
import httpx
import pytest
from letta_client import Letta
from letta_client.core.api_error import ApiError

from tests.host.sources import samples
from tests.host.sources.conftest import wait_for_job


def test_create_list_count_retrieve_modify_and_delete_a_source(client, http, make_source, unique):
    before = client.sources.count()
    source = make_source(description="Field notes", embedding_chunk_size=128, metadata={"team": "a"})
    assert source.id.startswith("source-") and source.embedding_config.embedding_chunk_size == 128
    assert source.embedding_config.handle == "openai/text-embedding-3-small"
    assert client.sources.count() == before + 1
    assert source.id in [s.id for s in client.sources.list()]
    assert client.sources.retrieve(source_id=source.id).description == "Field notes"
    assert client.sources.retrieve_by_name(source_name=source.name) == source.id

    renamed = unique("renamed")
    modified = client.sources.modify(source_id=source.id, name=renamed, instructions="Cite it.")
    assert (modified.name, modified.instructions, modified.metadata) == (renamed, "Cite it.", {"team": "a"})

    with pytest.raises(ApiError) as taken:
        client.sources.create(name=renamed)
    assert taken.value.status_code == 409 and renamed in str(taken.value.body)

    client.sources.delete(source_id=source.id)
    for call in (lambda: client.sources.retrieve(source_id=source.id),
                 lambda: client.sources.retrieve_by_name(source_name=renamed)):
        with pytest.raises(ApiError) as missing:
            call()
        assert missing.value.status_code == 404
    assert client.sources.count() == before


def test_an_unknown_embedding_handle_is_a_422_naming_the_valid_handles(http, unique):
    resp = http.post("/v1/sources/", json={"name": unique("bad"), "embedding": "nope/unknown-model"})
    assert resp.status_code == 422
    assert "openai/text-embedding-3-small" in resp.json()["detail"]


def test_attach_is_refused_when_agent_and_source_use_different_embedding_models(http, make_agent, make_source):
    agent = make_agent()
    other = {"embedding_endpoint_type": "openai", "embedding_model": "text-embedding-3-large",
             "embedding_dim": 3072, "embedding_chunk_size": 300, "handle": "openai/text-embedding-3-large"}
    source = make_source(embedding_config=other)
    resp = http.patch(f"/v1/agents/{agent['id']}/sources/attach/{source.id}")
    assert resp.status_code == 422
    detail = resp.json()["detail"]
    assert "text-embedding-3-large" in detail and "text-embedding-3-small" in detail
    assert http.get(f"/v1/agents/{agent['id']}/sources").json() == []
    missing = http.patch(f"/v1/agents/{agent['id']}/sources/attach/source-00000000-0000-4000-8000-000000000000")
    assert missing.status_code == 404


def test_duplicate_file_names_get_a_suffix_or_are_skipped_or_refused(client, make_source):
    source = make_source()
    first = client.sources.files.upload(source_id=source.id, file=("a.txt", b"one", "text/plain"))
    second = client.sources.files.upload(source_id=source.id, file=("a.txt", b"two", "text/plain"))
    assert (first.file_name, second.file_name) == ("a.txt", "a_(1).txt")
    skipped = client.sources.files.upload(source_id=source.id, file=("a.txt", b"x", "text/plain"),
                                          duplicate_handling="skip")
    assert skipped.id == first.id
    with pytest.raises(ApiError) as refused:
        client.sources.files.upload(source_id=source.id, file=("a.txt", b"x", "text/plain"),
                                    duplicate_handling="error")
    assert refused.value.status_code == 409
    for meta in (first, second):
        wait_for_job(client, meta.job_id)


def test_jobs_are_listed_by_source_and_can_be_cancelled_and_deleted(client, http, make_source, gate):
    gate.hold.set()
    source = make_source(embedding_config=gate.embedding_config())
    meta = client.sources.files.upload(source_id=source.id, file=("slow.txt", b"held in the gate", "text/plain"))
    assert gate.received.wait(timeout=20), "the worker never asked for embeddings"

    active = client.jobs.list_active(source_id=source.id)
    assert [(j.id, j.status) for j in active] == [(meta.job_id, "running")]
    assert [j.id for j in client.jobs.list(source_id=source.id)] == [meta.job_id]

    cancelled = client.jobs.cancel_job(job_id=meta.job_id)
    assert cancelled.status == "cancelled"
    gate.release.set()
    assert client.jobs.list_active(source_id=source.id) == []
    # The worker sees the cancel after its batch and writes nothing.
    file = client.sources.get_file_metadata(source_id=source.id, file_id=meta.id)
    assert file.processing_status == "error" and "cancelled" in file.error_message
    assert client.sources.passages.list(source_id=source.id) == []

    deleted = client.jobs.delete(job_id=meta.job_id)
    assert deleted.id == meta.job_id
    assert http.get(f"/v1/jobs/{meta.job_id}").status_code == 404


def stored_uploads(home: Path, uri: str) -> int:
    """Rows of ``upload_blobs``: uploaded bytes waiting for their ingestion job."""
    if not uri:
        with closing(sqlite3.connect(home / "agenthost.db")) as conn:
            return int(conn.execute("SELECT count(*) FROM upload_blobs").fetchone()[0])

    async def count() -> int:
        conn = await asyncpg.connect(uri)
        try:
            return int(await conn.fetchval("SELECT count(*) FROM upload_blobs"))
        finally:
            await conn.close()

    return anyio.run(count)


def test_queued_work_survives_a_server_restart(make_server, gate, tmp_path):
    from tests.conftest import test_database_uri

    home, uri = tmp_path / "restart-home", test_database_uri() or ""
    gate.hold.set()
    first = make_server(home=home, pg_uri=uri)
    sdk = Letta(base_url=first.base_url, timeout=30)
    source = sdk.sources.create(name="restart", embedding_config=gate.embedding_config())
    meta = sdk.sources.files.upload(source_id=source.id, file=("r.md", samples.make("md", "Phoenix rises."),
                                                               "text/markdown"))
    assert gate.received.wait(timeout=20)
    assert sdk.jobs.retrieve(job_id=meta.job_id).status == "running"
    assert stored_uploads(home, uri) == 1, "the upload is kept in the database until ingested"
    first.stop()

    gate.hold.clear()
    gate.release.set()
    second = make_server(home=home, pg_uri=uri)
    sdk = Letta(base_url=second.base_url, timeout=30)
    job = wait_for_job(sdk, meta.job_id)
    assert job.status == "completed", job.metadata
    assert any("Phoenix" in p.text for p in sdk.sources.passages.list(source_id=source.id))
    assert stored_uploads(home, uri) == 0, "ingested bytes are removed"
    assert not (home / "uploads").exists(), "nothing waits on the server's disk"
    with httpx.Client(base_url=second.base_url) as raw:
        assert raw.get("/v1/jobs/active").json() == []
