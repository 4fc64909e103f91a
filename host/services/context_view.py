"""``GET /v1/agents/{id}/context``: the context window by section (system, core memory, messages, tools)."""

from __future__ import annotations

import json
from typing import Any

from host.agent.context import to_chat, tool_specs
from host.agent.store import load_snapshot, memory_counts, system_text
from host.domain.prompt import render_blocks
from host.llm import count_tokens, tokenizer_ready
from host.persistence.db import Database


async def context_overview(db: Database, agent_id: str) -> dict[str, Any]:
    snap, history = await load_snapshot(db, agent_id)
    recall, archival = await memory_counts(db, agent_id)
    model = snap.llm.model
    sys_text = system_text(snap, recall, archival)
    core = render_blocks(snap.blocks)
    terminal = {r.tool_name for r in snap.rules if r.type == "exit_loop"}
    specs = tool_specs(snap, frozenset(t.name for t in snap.tools), terminal)
    functions = [{"name": t.name, "description": t.description, "parameters": dict(t.parameters)} for t in specs]
    messages = [m for m in history if m.role != "system"]
    chat = to_chat(messages, sys_text)[1:]
    await tokenizer_ready()  # loading the encoding blocks: never on the event loop
    n_system = count_tokens(model, text=sys_text)
    n_core = count_tokens(model, text=core)
    n_functions = count_tokens(model, text=json.dumps(functions))
    n_messages = count_tokens(model, chat) if chat else 0
    return {
        "context_window_size_max": snap.llm.context_window,
        "context_window_size_current": n_system + n_functions + n_messages,
        "num_messages": len(history),
        "num_archival_memory": archival,
        "num_recall_memory": recall,
        "num_tokens_external_memory_summary": 0,
        "external_memory_summary": "",
        "num_tokens_system": n_system - n_core,
        "system_prompt": sys_text,
        "num_tokens_core_memory": n_core,
        "core_memory": core,
        "num_tokens_summary_memory": 0,
        "summary_memory": None,
        "num_tokens_functions_definitions": n_functions,
        "functions_definitions": [{"type": "function", "function": f} for f in functions],
        "num_tokens_messages": n_messages,
        "messages": [m.to_openai() for m in history],
    }
