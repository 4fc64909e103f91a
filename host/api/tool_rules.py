"""``GET /v1/agents/{id}/tool-rules/graph``: an agent's tool rules as a graph (nodes, edges, Mermaid)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import Depends

from host.agent.store import load_snapshot
from host.api.routing import SlashRouter, services
from host.services import Services
from host.tools.rule_graph import rule_graph, validate_rules

router = SlashRouter(tags=["agents"])
Svc = Annotated[Services, Depends(services)]


@router.get("/v1/agents/{agent_id}/tool-rules/graph", operation_id="retrieve_agent_tool_rule_graph")
async def tool_rule_graph(agent_id: str, svc: Svc) -> dict[str, Any]:
    """``{"mermaid": str, "nodes": [...], "edges": [...], "warnings": [...]}`` (warnings as on create)."""
    snap, _ = await load_snapshot(svc.db, agent_id)
    names = [t.name for t in snap.tools]
    graph = rule_graph(snap.rules, names)
    report = validate_rules(snap.rules, names)
    return {"mermaid": graph.mermaid, "nodes": [asdict(n) for n in graph.nodes],
            "edges": [asdict(e) for e in graph.edges], "warnings": [asdict(w) for w in report.warnings]}
