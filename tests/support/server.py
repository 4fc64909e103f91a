"""Run ``agenthost serve`` as a real subprocess for tests and benchmarks."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.support.waiting import WaitTimeout, wait_until


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def fresh_pg_database(admin_uri: str) -> str:
    """Create an empty database on the test Postgres and return its URI."""
    import asyncio

    import asyncpg

    name = f"ah_{uuid.uuid4().hex[:12]}"

    async def create() -> None:
        conn = await asyncpg.connect(admin_uri.replace("postgresql+asyncpg://", "postgresql://"))
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()

    asyncio.run(create())
    base, _, _ = admin_uri.rpartition("/")
    return f"{base}/{name}"


@dataclass
class ServerProcess:
    home: Path
    env: dict[str, str]
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None
    log_level: str = "warning"
    args: tuple[str, ...] = ()  # more `serve` flags (e.g. "--workers", "2")

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> ServerProcess:
        self.home.mkdir(parents=True, exist_ok=True)
        self.log_path = self.home / f"server-{self.port}.log"
        log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "host.cli", "serve", "--port", str(self.port), "--log-level", self.log_level,
             *self.args],
            env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            cwd=str(Path(__file__).resolve().parents[2]),
        )
        try:
            wait_until(self._healthy, timeout=timeout, what="agenthost to become healthy", poll=0.05)
        except WaitTimeout:
            self.stop()
            raise RuntimeError(f"agenthost did not become healthy in {timeout}s:\n{self.log()}") from None
        return self

    def _healthy(self) -> bool:
        assert self.proc is not None
        if self.proc.poll() is not None:
            raise RuntimeError(f"agenthost exited with {self.proc.returncode}:\n{self.log()}")
        try:
            return httpx.get(self.base_url + "/v1/health/", timeout=1.0).status_code == 200
        except httpx.HTTPError:
            return False

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-5000:] if self.log_path and self.log_path.exists() else ""

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=5)

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def server_env(home: Path, llm_base_url: str | None, *, pg_uri: str | None = None,
               extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LETTA_", "OPENAI_", "ANTHROPIC_", "E2B_",
                                                                    "TAVILY_", "COMPOSIO_", "OLLAMA_"))}
    env["LETTA_DIR"] = str(home)
    env["HOME"] = str(home)
    env["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
    env.pop("SECURE", None)
    if llm_base_url:
        env["OPENAI_API_KEY"] = "sk-test-scripted"
        env["OPENAI_API_BASE"] = llm_base_url
    if pg_uri:
        env["LETTA_PG_URI"] = pg_uri
    env.setdefault("AGENTHOST_SANDBOX_WARM_POOL", "2")  # test servers are many: keep their start-up light
    env.update(extra or {})
    return env
