"""``PATCH /v1/agents/{id}/files/close-all`` with the real letta-client SDK (``close_all_open_files``): the
files an agent has open are closed and named; closed ones are left alone; an unknown agent is a 404."""

from __future__ import annotations

from tests.host.sources import samples
from tests.host.sources.conftest import wait_for_job

MISSING = "agent-00000000-0000-4000-8000-000000000000"


def test_close_all_closes_the_open_files_and_names_them(client, http, make_agent, make_source):
    source = make_source()
    agent = make_agent()
    metas = [client.sources.files.upload(source_id=source.id, file=(f"n{i}.txt", samples.make("txt", f"note {i}"),
                                                                    samples.MIME["txt"])) for i in range(3)]
    for meta in metas:
        assert wait_for_job(client, meta.job_id).status == "completed"
    client.agents.sources.attach(agent_id=agent["id"], source_id=source.id)
    for meta in metas[:2]:
        resp = http.patch(f"/v1/agents/{agent['id']}/files/{meta.id}/open")
        assert resp.status_code == 200, resp.text

    closed = client.agents.close_all_open_files(agent["id"])
    assert sorted(closed) == sorted(m.id for m in metas[:2])
    files = http.get(f"/v1/agents/{agent['id']}/files").json()
    items = files["files"] if isinstance(files, dict) else files
    assert items and not any(f["is_open"] for f in items)
    assert client.agents.close_all_open_files(agent["id"]) == []

    resp = http.patch(f"/v1/agents/{MISSING}/files/close-all")
    assert resp.status_code == 404 and MISSING in resp.text
