"""Drive letta-client 1.x (run with the interpreter of a venv that has letta-client==1.12.1).

    python sdk_driver.py <flow> <base_url> '<json params>'

Prints one JSON object: what the flow observed. Each flow is a function below; errors the SDK raises
are reported as {"raised": <class name>, "status": <code>, "body": ...} where a flow expects them.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any

import letta_client
from letta_client import Letta

FLOWS: dict[str, Callable[[Letta, dict[str, Any]], dict[str, Any]]] = {}


def flow(fn: Callable[[Letta, dict[str, Any]], dict[str, Any]]) -> Callable[[Letta, dict[str, Any]], dict[str, Any]]:
    FLOWS[fn.__name__] = fn
    return fn


def raised(call: Callable[[], Any]) -> dict[str, Any]:
    try:
        call()
    except letta_client.APIStatusError as exc:
        return {"raised": type(exc).__name__, "status": exc.status_code, "body": exc.body}
    return {"raised": None}


@flow
def agents(client: Letta, p: dict[str, Any]) -> dict[str, Any]:
    ids = []
    for i in range(5):
        agent = client.agents.create(name=f"{p['tag']}-{i}", model=p["model"], embedding=p["embedding"],
                                     memory_blocks=[{"label": "human", "value": f"human {i}"}], tags=[p["tag"]])
        ids.append(agent.id)
    created_blocks = len(agent.memory.blocks)
    plain = client.agents.retrieve(ids[0])
    full = client.agents.retrieve(ids[0], include=["agent.blocks", "agent.tools", "agent.tags"])
    out: dict[str, Any] = {"ids": ids, "created_blocks": created_blocks,
                           "plain": {"blocks": len(plain.memory.blocks), "tools": len(plain.tools), "tags": plain.tags},
                           "full": {"blocks": len(full.memory.blocks), "tools": len(full.tools), "tags": full.tags}}
    for order in ("asc", "desc"):
        first = client.agents.list(tags=[p["tag"]], limit=2, order=order)
        out[f"first_page_{order}"] = [a.id for a in first.items]
        out[f"all_{order}"] = [a.id for a in first]  # auto-pagination: after=<last id> until an empty page
    tools = client.agents.tools.list(ids[0], limit=2)
    out["agent_tools_paged"] = [t.name for t in tools]
    out["agent_tools_all"] = [t.name for t in client.agents.tools.list(ids[0], limit=1000)]
    updated = client.agents.update(ids[0], description="changed", tags=[p["tag"], "extra"])
    out["updated"] = {"description": updated.description, "tags": sorted(updated.tags)}
    out["tags"] = list(client.tags.list())
    return out


@flow
def blocks_and_tools(client: Letta, p: dict[str, Any]) -> dict[str, Any]:
    agent = client.agents.create(model=p["model"], embedding=p["embedding"],
                                 memory_blocks=[{"label": "human", "value": "Chad"}])
    block = client.blocks.create(label="project", value="agenthost", description="the project", limit=1000)
    attached = client.agents.blocks.attach(block.id, agent_id=agent.id)
    block_agents = [a.id for a in client.blocks.agents.list(block.id, limit=1)]  # auto-paginates
    agent_blocks = [b.label for b in client.agents.blocks.list(agent.id, limit=1)]
    edited = client.agents.blocks.update("project", agent_id=agent.id, value="agenthost v1")
    tool = client.tools.create(source_code=(
        "def roll_dice(num_sides: int, times: int) -> str:\n"
        "    \"\"\"Roll dice.\n\n    Args:\n        num_sides: sides per die\n        times: how many dice\n\n"
        "    Returns:\n        str: the total\n    \"\"\"\n"
        "    return f'rolled {num_sides * times}'\n"))
    attach = client.agents.tools.with_raw_response.attach(tool.id, agent_id=agent.id)
    run = client.agents.tools.run("roll_dice", agent_id=agent.id, args={"num_sides": 6, "times": 2})
    found = client.tools.search(query="roll dice")
    missing = raised(lambda: client.agents.tools.run("no_such_tool", agent_id=agent.id, args={}))
    return {"agent": agent.id, "block_agents": block_agents, "agent_blocks": sorted(agent_blocks),
            "attached_labels": sorted(b.label for b in attached.memory.blocks),
            "edited": edited.value, "tool_attach_body": attach.http_response.text,
            "run": run.model_dump(), "search": [r.tool.name for r in found], "missing": missing}


@flow
def mcp(client: Letta, p: dict[str, Any]) -> dict[str, Any]:
    server = client.mcp_servers.create(server_name=p["name"], config={
        "mcp_server_type": "stdio", "command": p["command"], "args": p["args"]})
    listed = [s.id for s in client.mcp_servers.list()]
    retrieved = client.mcp_servers.retrieve(server.id)
    tools = client.mcp_servers.tools.list(server.id)
    add = next(t for t in tools if t.name == p["tool"])
    one = client.mcp_servers.tools.retrieve(add.id, mcp_server_id=server.id)
    run = client.mcp_servers.tools.run(add.id, mcp_server_id=server.id, args={"a": 2, "b": 3})
    refresh = client.mcp_servers.refresh(server.id)
    return {"id": server.id, "type": server.mcp_server_type, "listed": server.id in listed,
            "retrieved_name": retrieved.server_name, "tools": sorted(t.name for t in tools), "one": one.name,
            "tool_id": add.id, "run": run.model_dump(), "refresh": refresh}


@flow
def mcp_turn(client: Letta, p: dict[str, Any]) -> dict[str, Any]:
    """An agent turn calling the MCP tool, then the server deleted."""
    agent = client.agents.create(model=p["model"], embedding=p["embedding"],
                                 memory_blocks=[{"label": "human", "value": "x"}])
    client.agents.tools.attach(p["tool_id"], agent_id=agent.id)
    reply = client.agents.messages.create(agent.id, messages=[{"role": "user", "content": "add 20 and 22"}])
    returns = [m.model_dump() for m in reply.messages if m.message_type == "tool_return_message"]
    client.mcp_servers.delete(p["server_id"])
    gone = raised(lambda: client.mcp_servers.retrieve(p["server_id"]))
    return {"returns": [(r.get("name"), r.get("status"), r.get("tool_return")) for r in returns], "gone": gone}


@flow
def archives(client: Letta, p: dict[str, Any]) -> dict[str, Any]:
    archive = client.archives.create(name=p["name"], description="facts", embedding=p["embedding"])
    passage = client.archives.passages.create(archive.id, text="The capital of France is Paris.", tags=["geo"])
    client.archives.passages.create(archive.id, text="Bananas are yellow.", tags=["food"])
    agent = client.agents.create(model=p["model"], embedding=p["embedding"],
                                 memory_blocks=[{"label": "human", "value": "x"}])
    attach = client.agents.archives.with_raw_response.attach(archive.id, agent_id=agent.id)
    search = client.passages.search(archive_id=archive.id, query="France")
    agent_search = client.agents.passages.search(agent.id, query="capital of France")
    agents_of = client.get(f"/v1/archives/{archive.id}/agents", cast_to=object)  # no SDK resource in 1.12.1
    listed = [a.id for a in client.archives.list(name=p["name"])]
    modified = client.archives.update(archive.id, description="changed")
    return {"archive": archive.id, "passage_archive": passage.archive_id,
            "attach_body": attach.http_response.text, "search": [r.passage.text for r in search],
            "agent_search": [r.content for r in agent_search.results], "agents_of": [a["id"] for a in agents_of],
            "listed": archive.id in listed, "modified": modified.description, "agent": agent.id}


@flow
def folders(client: Letta, p: dict[str, Any]) -> dict[str, Any]:
    folder = client.folders.create(name=p["name"], embedding=p["embedding"])
    upload = client.folders.files.upload(folder.id, file=("notes.txt", b"The launch code word is PELICAN.\n"))
    agent = client.agents.create(model=p["model"], embedding=p["embedding"],
                                 memory_blocks=[{"label": "human", "value": "x"}])
    attach = client.agents.folders.with_raw_response.attach(folder.id, agent_id=agent.id)
    return {"folder": folder.id, "file": upload.id, "agent": agent.id, "attach_body": attach.http_response.text,
            "agent_folders": [f.id for f in client.agents.folders.list(agent.id)]}


@flow
def folder_files(client: Letta, p: dict[str, Any]) -> dict[str, Any]:
    files = list(client.folders.files.list(p["folder"]))
    client.agents.files.open(p["file"], agent_id=p["agent"])
    opened = list(client.agents.files.list(p["agent"]))
    client.agents.files.close(p["file"], agent_id=p["agent"])
    closed = list(client.agents.files.list(p["agent"]))
    return {"statuses": [f.processing_status for f in files],
            "opened": [(f.file_id, f.is_open, f.visible_content) for f in opened],
            "closed": [(f.file_id, f.is_open) for f in closed]}


@flow
def runs(client: Letta, p: dict[str, Any]) -> dict[str, Any]:
    agent = client.agents.create(model=p["model"], embedding=p["embedding"],
                                 memory_blocks=[{"label": "human", "value": "x"}])
    reply = client.agents.messages.create(agent.id, messages=[{"role": "user", "content": "hello v1"}])
    kinds = [m.message_type for m in reply.messages]
    run_list = client.runs.list(agent_id=agent.id, limit=2)
    run_id = run_list.items[0].id
    run = client.runs.retrieve(run_id)
    steps = list(client.runs.steps.list(run_id))
    step = client.steps.retrieve(steps[0].id)
    agent_steps = [st.id for st in client.steps.list(agent_id=agent.id, limit=1)]  # auto-paginates
    metrics = client.get(f"/v1/runs/{run_id}/metrics", cast_to=object)  # no SDK resource in 1.12.1
    trace = client.runs.trace.retrieve(run_id)
    step_metrics = client.steps.metrics.retrieve(steps[0].id)
    step_messages = list(client.steps.messages.list(step.id))
    some_id = step_messages[0].id if step_messages else None
    one = client.messages.retrieve(some_id) if some_id else []
    found = client.messages.search(query="hello v1")
    history = client.agents.messages.list(agent.id, limit=2, order="desc")
    all_desc = [m.id for m in client.agents.messages.list(agent.id, limit=2, order="desc")]
    return {"kinds": kinds, "run_status": run.status, "num_steps": metrics["num_steps"], "trace_spans": len(trace),
            "step_metrics_run": step_metrics.run_id,
            "agent_steps": agent_steps, "run_steps": [st.id for st in steps], "step_run": step.run_id,
            "step_messages": [m.message_type for m in step_messages], "one": [m.message_type for m in one],
            "search": [getattr(m, "content", None) for m in found],
            "history_first_page": [m.message_type for m in history.items], "all_desc_ids": all_desc}


@flow
def streams(client: Letta, p: dict[str, Any]) -> dict[str, Any]:
    """messages.create(streaming=True): the SDK reads the SSE into typed chunks."""
    agent = client.agents.create(model=p["model"], embedding=p["embedding"],
                                 memory_blocks=[{"label": "human", "value": "x"}])
    chunks = list(client.agents.messages.create(agent.id, messages=[{"role": "user", "content": "stream this"}],
                                                streaming=True))
    out: dict[str, Any] = {"agent": agent.id, "kinds": [c.message_type for c in chunks],
                           "content": [getattr(c, "content", None) for c in chunks
                                       if c.message_type == "assistant_message"]}
    if p.get("background"):
        live = list(client.agents.messages.create(agent.id, messages=[{"role": "user", "content": "bg"}],
                                                  streaming=True, background=True))
        out["background"] = [(c.message_type, getattr(c, "seq_id", None)) for c in live]
        run_id = next(c.run_id for c in live if getattr(c, "run_id", None))
        out["resumed"] = [(c.message_type, getattr(c, "seq_id", None))
                          for c in client.runs.messages.stream(run_id, starting_after=1)]
    return out


@flow
def errors(client: Letta, p: dict[str, Any]) -> dict[str, Any]:
    return {
        "missing_agent": raised(lambda: client.agents.retrieve(p["missing_agent"])),
        "bad_body": raised(lambda: client.agents.create(model=p["model"], embedding=p["embedding"],
                                                        memory_blocks=[{"value": "no label"}])),
        "missing_archive": raised(lambda: client.archives.retrieve("archive-00000000-0000-4000-8000-000000000000")),
    }


@flow
def compact(client: Letta, p: dict[str, Any]) -> dict[str, Any]:
    agent = client.agents.create(model=p["model"], embedding=p["embedding"])
    for i in range(p["turns"]):
        client.agents.messages.create(agent.id, messages=[{"role": "user", "content": f"question {i}"}])
    conversation = client.conversations.create(agent_id=agent.id)
    before = len(client.agents.retrieve(agent.id).message_ids or [])
    done = client.conversations.messages.compact(conversation.id)
    return {
        "before": before, "after": len(client.agents.retrieve(agent.id).message_ids or []),
        "compacted": done.model_dump(),
        "missing": raised(lambda: client.conversations.messages.compact(p["missing_conversation"])),
        "bad_mode": raised(lambda: client.conversations.messages.compact(
            conversation.id, compaction_settings={"mode": "half"})),  # type: ignore[typeddict-item]
    }


def main() -> None:
    name, base_url, params = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
    client = Letta(base_url=base_url, api_key="unused", max_retries=0, timeout=120)
    print(json.dumps(FLOWS[name](client, params), default=str))


if __name__ == "__main__":
    main()
