"""A second ``agenthost serve`` on the same data directory (or the same port) exits at once, naming the process
that holds it, and never touches the running server's work (issue 21: it used to re-queue, and so lose, an
upload the running server was ingesting)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import anyio
import httpx
import pytest
from letta_client import Letta

from tests.conftest import PG_ADMIN_URI
from tests.conftest import test_database_uri as fresh_database_uri
from tests.host.sources.conftest import EmbeddingGate, wait_for_job
from tests.support.server import ServerProcess, free_port

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture
def gate() -> Iterator[EmbeddingGate]:
    g = EmbeddingGate()
    g.thread.start()
    yield g
    g.release.set()
    g.httpd.shutdown()
    g.httpd.server_close()


def second_serve(first: ServerProcess, port: int) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "host.cli", "serve", "--port", str(port), "--log-level", "info"],
                          env=first.env, capture_output=True, text=True, cwd=REPO, timeout=60)


def upload_held(first: ServerProcess, gate: EmbeddingGate) -> tuple[Letta, str, str]:
    gate.hold.set()
    sdk = Letta(base_url=first.base_url, timeout=30)
    source = sdk.sources.create(name="big", embedding_config=gate.embedding_config())
    text = "\n\n".join(f"Paragraph {i}: the phoenix rises from the ashes of the data directory." for i in range(300))
    meta = sdk.sources.files.upload(source_id=source.id, file=("big.md", text.encode(), "text/markdown"))
    assert gate.received.wait(timeout=90), "the worker never asked for embeddings"
    assert sdk.jobs.retrieve(job_id=meta.job_id).status == "running"
    return sdk, source.id, meta.job_id


def assert_refused(proc: subprocess.CompletedProcess[str], *words: str) -> None:
    assert proc.returncode == 1, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("agenthost serve: error: "), proc.stderr
    for word in words:
        assert word in lines[0], lines[0]
    assert "re-queued" not in proc.stderr and "Traceback" not in proc.stderr


def assert_ingestion_completes(first: ServerProcess, sdk: Letta, source_id: str, job_id: str,
                               gate: EmbeddingGate) -> None:
    gate.hold.clear()
    gate.release.set()
    job = wait_for_job(sdk, job_id)
    assert job.status == "completed", job.metadata
    passages = sdk.sources.passages.list(source_id=source_id, limit=1000)
    assert len(passages) > 0 and any("phoenix" in p.text for p in passages)
    assert "cancelled" not in first.log() and "no longer stored" not in first.log()


@pytest.mark.skipif(PG_ADMIN_URI is not None, reason="the data-directory lock is SQLite's; Postgres allows several")
def test_a_second_serve_on_the_same_data_dir_exits_at_once_and_the_upload_survives(make_server, gate):
    first = make_server()
    sdk, source_id, job_id = upload_held(first, gate)

    proc = second_serve(first, free_port())

    assert_refused(proc, str(first.home), f"process {first.proc.pid}", "another LETTA_DIR")
    assert sdk.jobs.retrieve(job_id=job_id).status == "running"
    assert_ingestion_completes(first, sdk, source_id, job_id, gate)


def test_a_second_serve_on_the_same_port_exits_at_once_and_the_upload_survives(make_server, gate, tmp_path):
    """On Postgres (several servers may share the database) the port check is what stops it."""
    first = make_server()
    sdk, source_id, job_id = upload_held(first, gate)

    proc = second_serve(first, first.port)

    if PG_ADMIN_URI is None:
        assert_refused(proc, f"process {first.proc.pid}")  # the lock comes first
    else:
        assert_refused(proc, f"cannot listen on 127.0.0.1:{first.port}")
    assert_ingestion_completes(first, sdk, source_id, job_id, gate)


def test_the_lock_is_released_when_the_server_stops(make_server, tmp_path):
    first = make_server(home=tmp_path / "shared", pg_uri=fresh_database_uri() or "")
    first.stop()
    again = make_server(home=tmp_path / "shared", pg_uri=first.env.get("LETTA_PG_URI", ""))
    assert httpx.get(again.base_url + "/v1/health/", timeout=10).status_code == 200


async def _start_mcp_stdio(first: ServerProcess) -> None:
    from mcp import Client
    from mcp.client.stdio import StdioServerParameters

    params = StdioServerParameters(command=sys.executable, args=["-m", "host.cli", "mcp", "--log-level", "info"],
                                   env=first.env, cwd=str(REPO))
    with anyio.fail_after(60):
        async with Client(params) as client:
            names = {t.name for t in (await client.list_tools()).tools}
            assert "list_agents" in names  # fully started: its lifespan (with recovery, if any) has run


def test_agenthost_mcp_beside_a_running_serve_leaves_its_upload_alone(make_server, gate) -> None:
    """`agenthost mcp` (Claude Desktop) opens the same database as the running server: it must not take over
    the server's interrupted-looking work."""
    first = make_server()
    sdk, source_id, job_id = upload_held(first, gate)

    anyio.run(_start_mcp_stdio, first)

    assert sdk.jobs.retrieve(job_id=job_id).status == "running"
    assert_ingestion_completes(first, sdk, source_id, job_id, gate)
