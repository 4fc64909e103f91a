"""Sources and archival memory at scale: ingestion throughput, and archival search latency at 10k / 100k passages.

Run: `python bench/bench_archival.py [--pg URI] [--sizes 10000,100000] [--queries 40]`. SQLite always;
Postgres with --pg or AGENTHOST_TEST_PG_URI (a fresh database per run). The scripted LLM serves embeddings.

- ingestion: through a real `agenthost serve`: upload a text file (~4 MB) and a 100-page PDF, time from the
  upload request to the job's completion (parse + chunk + embed in batches + store). MB/s and pages/s.
- search: passages are bulk-inserted straight into the database for one agent (random dense 1536-d vectors,
  text from a 5000-word vocabulary), plus 40 planted passages embedded by the scripted model. Each query
  is a planted passage's words; we time `ArchivalService.search` in-process (query embedding over HTTP to
  the scripted server + vector index + full-text index + RRF + row fetch), and report p50/p95 and hit@10
  (the planted passage among the top 10). On Postgres the HNSW index is rebuilt after each bulk load
  (as a bulk import would), and the build time is reported.
"""

from __future__ import annotations

import argparse
import array
import asyncio
import logging
import os
import random
import statistics
import struct
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from tests.support.scripted_llm import ScriptedLLM, embed_text  # noqa: E402
from tests.support.server import ServerProcess, fresh_pg_database, server_env  # noqa: E402

logger = logging.getLogger("bench_archival")

DIM = 1536
PLANTED = 40
POOL_FLOATS = 2_000_000
EMBEDDING = {"embedding_endpoint_type": "openai", "embedding_endpoint": None, "embedding_model":
             "text-embedding-3-small", "embedding_dim": DIM, "embedding_chunk_size": 300,
             "handle": "openai/text-embedding-3-small", "batch_size": 1024}


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


# ---- corpus ---------------------------------------------------------------------------------------
class Corpus:
    def __init__(self, seed: int = 7) -> None:
        self.rnd = random.Random(seed)
        syll = ["ka", "lo", "mi", "ren", "tas", "vor", "ul", "pe", "dri", "zan", "qua", "fel", "bo", "nix", "ter"]
        self.vocab = sorted({"".join(self.rnd.choice(syll) for _ in range(self.rnd.randint(2, 4)))
                             for _ in range(8000)})[:5000]
        pool = array.array("f", (self.rnd.gauss(0.0, 1.0) for _ in range(POOL_FLOATS)))
        self.pool_le = pool.tobytes()
        pool.byteswap()
        self.pool_be = pool.tobytes()

    def sentence(self, words: int = 40) -> str:
        # Zipf-ish: common words are much more frequent, as in real text.
        picks = [self.vocab[min(len(self.vocab) - 1, int(self.rnd.paretovariate(1.1)) - 1)] if self.rnd.random() < 0.5
                 else self.rnd.choice(self.vocab) for _ in range(words)]
        return " ".join(picks).capitalize() + "."

    def vector_offset(self) -> int:
        return self.rnd.randrange(0, POOL_FLOATS - DIM) * 4


def planted_texts() -> list[str]:
    return [f"Planted fact {i}: the archivist Zephyr{i:03d} catalogued amber beetles in hall {i}." for i in
            range(PLANTED)]


# ---- bulk loading -------------------------------------------------------------------------------
def sqlite_bulk(path: str, corpus: Corpus, start: int, count: int, agent_id: str) -> None:
    import sqlean
    import sqlite_vec

    conn = sqlean.connect(path, isolation_level=None)
    conn.enable_load_extension(True)
    sqlite_vec.load(conn)
    conn.execute("BEGIN")
    rows = []
    for i in range(start, start + count):
        o = corpus.vector_offset()
        rows.append((f"passage-bench-{i}", agent_id, corpus.sentence(), corpus.pool_le[o:o + DIM * 4], DIM))
    conn.executemany("INSERT INTO passages (id, agent_id, text, embedding, embedding_dim, created_at, updated_at) "
                     "VALUES (?, ?, ?, ?, ?, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)", rows)
    conn.execute("COMMIT")
    conn.close()


async def pg_bulk(uri: str, corpus: Corpus, start: int, count: int, agent_id: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(uri)
    await conn.set_type_codec("vector", schema="public", encoder=lambda b: b, decoder=lambda b: b, format="binary")
    header = struct.pack(">hh", DIM, 0)
    now = datetime.now(UTC).replace(tzinfo=None)
    records = []
    for i in range(start, start + count):
        o = corpus.vector_offset()
        records.append((f"passage-bench-{i}", agent_id, corpus.sentence(), header + corpus.pool_be[o:o + DIM * 4], DIM,
                        now, now))
    await conn.copy_records_to_table("passages", records=records, columns=[
        "id", "agent_id", "text", "embedding", "embedding_dim", "created_at", "updated_at"])
    await conn.close()


async def pg_drop_index(uri: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(uri)
    await conn.execute(f"DROP INDEX IF EXISTS ix_passages_embedding_hnsw_{DIM}")
    await conn.close()


async def pg_reindex(uri: str) -> float:
    import asyncpg

    conn = await asyncpg.connect(uri)
    started = time.perf_counter()
    await conn.execute("SET maintenance_work_mem = '1GB'")
    await conn.execute(f"CREATE INDEX ix_passages_embedding_hnsw_{DIM} ON passages USING hnsw "
                       f"((embedding::vector({DIM})) vector_cosine_ops) WHERE embedding_dim = {DIM}")
    await conn.execute("ANALYZE passages")
    await conn.close()
    return time.perf_counter() - started


# ---- search -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SearchFigures:
    database: str
    passages: int
    load_s: float
    index_s: float | None
    p50_ms: float
    p95_ms: float
    db_p50_ms: float
    db_p95_ms: float
    hit_at_10: float


async def search_bench(url: str, raw: str, llm: ScriptedLLM, sizes: list[int], queries: int) -> list[SearchFigures]:
    from host.ids import utcnow
    from host.llm.providers import ProviderSettings
    from host.persistence.db import open_database
    from host.persistence.models import AgentRow, PassageRow
    from host.services.archival import ArchivalService

    postgres = url.startswith("postgresql")
    corpus = Corpus()
    config = {**EMBEDDING, "embedding_endpoint": llm.base_url}
    out: list[SearchFigures] = []
    async with open_database(url) as db:
        archival = ArchivalService(db, ProviderSettings(openai_api_key="sk-bench", openai_api_base=llm.base_url))
        async with db.transaction() as s:
            s.add(AgentRow(id="agent-bench", name="bench", llm_config={}, embedding_config=config, tool_rules=[],
                           message_ids=[], tool_exec_env={}))
            for i, text in enumerate(planted_texts()):
                s.add(PassageRow(id=f"passage-planted-{i}", agent_id="agent-bench", text=text,
                                 embedding=embed_text(text, DIM), embedding_dim=DIM, created_at=utcnow()))
        loaded = 0
        for size in sizes:
            if postgres:  # bulk import: load without the HNSW index, then build it once
                await pg_drop_index(raw)
            started = time.perf_counter()
            step = 20_000
            while loaded < size:
                n = min(step, size - loaded)
                if postgres:
                    await pg_bulk(raw, corpus, loaded, n, "agent-bench")
                else:
                    await asyncio.to_thread(sqlite_bulk, raw, corpus, loaded, n, "agent-bench")
                loaded += n
            load_s = time.perf_counter() - started
            index_s = await pg_reindex(raw) if postgres else None
            texts = planted_texts()
            for text in texts[:3]:  # warm caches and the connection pool
                await archival.search("agent-bench", text, top_k=10)
            times, db_times, hits = [], [], 0
            for q in range(queries):
                i = q % PLANTED
                query = f"who catalogued amber beetles Zephyr{i:03d}"
                t0 = time.perf_counter()
                await archival.embed(config, [query])  # the query embedding alone (litellm + HTTP)
                t1 = time.perf_counter()
                found = await archival.search("agent-bench", query, top_k=10)
                t2 = time.perf_counter()
                times.append((t2 - t1) * 1000)
                db_times.append(max(0.0, (t2 - t1) - (t1 - t0)) * 1000)
                hits += any(h.passage.id == f"passage-planted-{i}" for h in found)
            out.append(SearchFigures("postgres" if postgres else "sqlite", size + PLANTED, load_s, index_s,
                                     statistics.median(times), pct(times, 0.95), statistics.median(db_times),
                                     pct(db_times, 0.95), hits / queries))
            logger.info("%s", out[-1])
    return out


# ---- ingestion ----------------------------------------------------------------------------------
def pdf_document(pages: int, lines_per_page: int, corpus: Corpus) -> bytes:
    objects: list[bytes] = [b"<< /Type /Catalog /Pages 2 0 R >>"]
    kids = " ".join(f"{3 + 2 * i} 0 R" for i in range(pages))
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {pages} >>".encode())
    font = 3 + 2 * pages
    for i in range(pages):
        lines = " ".join(f"({corpus.sentence(12)}) Tj T*" for _ in range(lines_per_page))
        stream = f"BT /F1 10 Tf 13 TL 40 760 Td {lines} ET".encode()
        objects.append(f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {4 + 2 * i} 0 R "
                       f"/Resources << /Font << /F1 {font} 0 R >> >> >>".encode())
        objects.append(b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream")
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    body, offsets = bytearray(b"%PDF-1.4\n"), []
    for n, obj in enumerate(objects, start=1):
        offsets.append(len(body))
        body += f"{n} 0 obj\n".encode() + obj + b"\nendobj\n"
    xref = len(body)
    body += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    body += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    body += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(body)


def ingest_once(http: httpx.Client, source_id: str, name: str, data: bytes, mime: str) -> tuple[float, int]:
    started = time.perf_counter()
    meta = http.post(f"/v1/sources/{source_id}/upload", files={"file": (name, data, mime)}).json()
    while True:
        job = http.get(f"/v1/jobs/{meta['job_id']}").json()
        if job["status"] in ("completed", "failed", "cancelled"):
            break
        time.sleep(0.02)
    if job["status"] != "completed":
        raise RuntimeError(f"ingestion of {name} ended {job['status']}: {job['metadata']}")
    return time.perf_counter() - started, int(job["metadata"]["num_passages"])


def ingestion_bench(llm: ScriptedLLM, pg: str | None, home: Path) -> list[str]:
    corpus = Corpus(11)
    text = "\n\n".join(corpus.sentence(60) for _ in range(11_000)).encode()
    pages = 100
    pdf = pdf_document(pages, 45, corpus)
    lines = []
    for label, uri in (("sqlite", None), ("postgres", fresh_pg_database(pg) if pg else None)):
        if label == "postgres" and not uri:
            continue
        h = home / label
        with ServerProcess(home=h, env=server_env(h, llm.base_url, pg_uri=uri)) as proc, \
                httpx.Client(base_url=proc.base_url, timeout=120) as http:
            source = http.post("/v1/sources/", json={"name": "bench", "embedding": EMBEDDING["handle"]}).json()
            t_text, n_text = ingest_once(http, source["id"], "big.txt", text, "text/plain")
            t_pdf, n_pdf = ingest_once(http, source["id"], "big.pdf", pdf, "application/pdf")
        mb = len(text) / 1e6
        lines.append(f"{label:9s} text {mb:.1f} MB -> {n_text} passages in {t_text:.2f}s = {mb / t_text:.2f} MB/s; "
                     f"pdf {pages} pages ({len(pdf) / 1e6:.1f} MB) -> {n_pdf} passages in {t_pdf:.2f}s = "
                     f"{pages / t_pdf:.0f} pages/s")
        logger.info("%s", lines[-1])
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pg", default=os.environ.get("AGENTHOST_TEST_PG_URI"))
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--queries", type=int, default=40)
    parser.add_argument("--skip-ingestion", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    for noisy in ("httpx", "alembic", "LiteLLM", "litellm"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    sizes = [int(s) for s in args.sizes.split(",")]
    with ScriptedLLM() as llm, tempfile.TemporaryDirectory() as tmp:
        ingestion = [] if args.skip_ingestion else ingestion_bench(llm, args.pg, Path(tmp))
        figures = asyncio.run(search_bench(f"sqlite+aiosqlite:///{tmp}/search.db", f"{tmp}/search.db", llm, sizes,
                                           args.queries))
        if args.pg:
            uri = fresh_pg_database(args.pg)
            figures += asyncio.run(search_bench(uri.replace("postgresql://", "postgresql+asyncpg://", 1), uri, llm,
                                                sizes, args.queries))
    print("\ningestion (upload -> job completed, scripted embeddings):")
    for line in ingestion:
        print("  " + line)
    print("\narchival search (ArchivalService.search, top_k=10, hybrid vector + full text):")
    print("  (total = whole call; db = total minus the query-embedding round trip measured just before)")
    print(f"  {'db':9s} {'passages':>9s} {'load s':>7s} {'index s':>8s} {'p50 ms':>7s} {'p95 ms':>7s} "
          f"{'db p50':>7s} {'db p95':>7s} {'hit@10':>7s}")
    for f in figures:
        index = f"{f.index_s:.1f}" if f.index_s is not None else "-"
        print(f"  {f.database:9s} {f.passages:9d} {f.load_s:7.1f} {index:>8s} {f.p50_ms:7.1f} {f.p95_ms:7.1f} "
              f"{f.db_p50_ms:7.1f} {f.db_p95_ms:7.1f} {f.hit_at_10:7.2f}")


if __name__ == "__main__":
    main()
