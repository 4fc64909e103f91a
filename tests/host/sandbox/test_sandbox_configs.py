"""/v1/sandbox-config: persisted configs and env vars, applied to the running sandbox."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

Run = Callable[..., dict[str, Any]]
READ_VAR = "import os\n\ndef read() -> str:\n    return str(os.environ.get('CFG_VAR'))\n"


def test_local_default_is_created_once_and_listed_by_type(http: httpx.Client, local_config: dict[str, Any]) -> None:
    assert local_config["id"].startswith("sandbox-") and local_config["type"] == "local"
    assert set(local_config["config"]) >= {"sandbox_dir", "use_venv", "venv_name", "pip_requirements"}
    again = http.post("/v1/sandbox-config/local/default").json()
    assert again["id"] == local_config["id"]
    listed = http.get("/v1/sandbox-config", params={"sandbox_type": "local"}).json()
    assert [c["id"] for c in listed] == [local_config["id"]]
    assert http.get("/v1/sandbox-config/", params={"sandbox_type": "e2b"}).json() == []


def test_config_env_vars_reach_tools_and_follow_changes(http: httpx.Client, run: Run,
                                                        local_config: dict[str, Any]) -> None:
    base = f"/v1/sandbox-config/{local_config['id']}/environment-variable"
    created = http.post(base, json={"key": "CFG_VAR", "value": "one", "description": "test"})
    assert created.status_code == 200, created.text
    env = created.json()
    assert env["id"].startswith("sandbox-env-") and env["value"] == "****"  # write-only: never answered in clear
    assert env["sandbox_config_id"] == local_config["id"]
    assert run(READ_VAR)["tool_return"] == "one"
    # The request's env_vars win over the config's.
    assert run(READ_VAR, env_vars={"CFG_VAR": "mine"})["tool_return"] == "mine"

    modified = http.patch(f"/v1/sandbox-config/environment-variable/{env['id']}", json={"value": "two"})
    assert modified.status_code == 200 and modified.json()["value"] == "****"
    assert run(READ_VAR)["tool_return"] == "two"
    # The masked view sent back keeps the stored value.
    kept = http.patch(f"/v1/sandbox-config/environment-variable/{env['id']}",
                      json={"value": "****", "description": "kept"})
    assert kept.status_code == 200 and kept.json()["description"] == "kept"
    assert run(READ_VAR)["tool_return"] == "two"
    # Creating the same key again updates it (Letta's behaviour).
    assert http.post(base, json={"key": "CFG_VAR", "value": "three"}).json()["id"] == env["id"]
    assert [e["value"] for e in http.get(base).json()] == ["****"]
    assert run(READ_VAR)["tool_return"] == "three"

    assert http.delete(f"/v1/sandbox-config/environment-variable/{env['id']}").status_code == 204
    assert run(READ_VAR)["tool_return"] == "None"
    assert http.get(base).json() == []


def test_a_timeout_kills_the_tool_and_is_an_error(http: httpx.Client, run: Run, local_config: dict[str, Any]) -> None:
    resp = http.patch(f"/v1/sandbox-config/{local_config['id']}", json={"config": {"timeout_s": 1}})
    assert resp.status_code == 200, resp.text
    assert resp.json()["config"]["timeout_s"] == 1
    out = run("import time\n\ndef slow():\n    time.sleep(30)\n", {})
    assert out["status"] == "error" and "timed out after 1" in out["tool_return"]
    assert "timed out" in "".join(out["stderr"])


def test_modify_rejects_fields_of_the_other_type(http: httpx.Client, local_config: dict[str, Any]) -> None:
    resp = http.patch(f"/v1/sandbox-config/{local_config['id']}", json={"config": {"template": "x"}})
    assert resp.status_code == 422


def test_custom_local_config_maps_sandbox_dir(http: httpx.Client, run: Run, tmp_path: Any) -> None:
    resp = http.post("/v1/sandbox-config/local", json={"sandbox_dir": str(tmp_path / "box"), "use_venv": False})
    assert resp.status_code == 200, resp.text
    config = resp.json()
    try:
        assert config["config"]["sandbox_dir"] == str(tmp_path / "box")
        assert run("import os\n\ndef cwd():\n    return os.getcwd()\n")["tool_return"] == str(tmp_path / "box")
    finally:
        assert http.delete(f"/v1/sandbox-config/{config['id']}").status_code == 204
    assert run("import os\n\ndef cwd():\n    return os.getcwd()\n")["tool_return"] != str(tmp_path / "box")


def test_recreate_venv_builds_the_configured_venv(http: httpx.Client, run: Run, tmp_path: Any) -> None:
    box = tmp_path / "venvbox"
    resp = http.post("/v1/sandbox-config/local", json={"sandbox_dir": str(box), "use_venv": True, "venv_name": "v"})
    assert resp.status_code == 200, resp.text
    config = resp.json()
    try:
        src = "import sys\n\ndef where():\n    return sys.prefix\n"
        assert run(src)["tool_return"] == str(box / "v")
        (box / "v" / "marker").write_text("old")
        again = http.post("/v1/sandbox-config/local/recreate-venv")
        assert again.status_code == 200, again.text
        assert again.json()["id"] == config["id"]
        assert not (box / "v" / "marker").exists()
        assert run(src)["tool_return"] == str(box / "v")
    finally:
        assert http.delete(f"/v1/sandbox-config/{config['id']}").status_code == 204


def test_unknown_ids_are_404(http: httpx.Client) -> None:
    assert http.patch("/v1/sandbox-config/sandbox-nope", json={"config": {}}).status_code == 404
    assert http.delete("/v1/sandbox-config/sandbox-nope").status_code == 404
    assert http.get("/v1/sandbox-config/sandbox-nope/environment-variable").status_code == 404
    assert http.delete("/v1/sandbox-config/environment-variable/sandbox-env-nope").status_code == 404
