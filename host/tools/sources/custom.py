"""Custom Python tools run in a sandbox: the local subprocess backend or E2B, chosen explicitly."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from sandbox import AgentStateSnapshot, BlockSnapshot, Sandbox, SandboxRequest, SandboxResult

logger = logging.getLogger(__name__)


def requirement_specs(reqs: list[dict[str, Any]] | None) -> list[str]:
    out = []
    for r in reqs or []:
        name = str(r.get("name") or "").strip()
        if name:
            version = str(r.get("version") or "").strip()
            out.append(f"{name}=={version}" if version and not version[0] in "<>=!~" else name + version)
    return out


@dataclass
class SandboxRouter:
    """Which backend runs a custom tool: local unless E2B was chosen for the server's sandbox config."""

    local: Sandbox
    e2b: Sandbox | None = None
    use_e2b: bool = False
    base_env: dict[str, str] = field(default_factory=dict)
    timeout_s: float | None = None

    def backend(self) -> Sandbox:
        return self.e2b if self.use_e2b and self.e2b is not None else self.local

    async def run_tool(self, *, source_code: str, function_name: str, args: dict[str, Any], env: dict[str, str],
                       pip_requirements: list[dict[str, Any]] | None, agent_id: str | None, agent_name: str,
                       blocks: list[tuple[str, str, int, str | None, bool]] | None) -> SandboxResult:
        state = None
        if agent_id is not None:
            state = AgentStateSnapshot(id=agent_id, name=agent_name, blocks=[
                BlockSnapshot(label=b[0], value=b[1], limit=b[2], description=b[3], read_only=b[4])
                for b in blocks or []])
        request = SandboxRequest(
            source_code=source_code, function_name=function_name, args=args,
            env={**self.base_env, **env}, pip_requirements=requirement_specs(pip_requirements),
            timeout_s=self.timeout_s, agent_state=state, reuse_key=agent_id,
        )
        return await self.backend().run(request)
