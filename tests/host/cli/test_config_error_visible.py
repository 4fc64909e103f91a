"""A broken mcp_config.json is visible in the API — on each of the file's servers in GET /v1/tools/mcp/servers,
in their status, and as the X-MCP-Config-Error header of the listing — until the file is fixed."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[3]
PEER = REPO / "tests" / "peers" / "peer_server.py"


def until(check: Callable[[], Any], what: str, timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_broken_config_file_shows_on_its_servers_until_fixed(make_server, tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    config = home / "mcp_config.json"
    good = {"mcpServers": {"peer": {"command": sys.executable, "args": [str(PEER)]}}}
    config.write_text(json.dumps(good))
    srv = make_server(home=home)
    http = httpx.Client(base_url=srv.base_url, timeout=30)
    until(lambda: http.get("/v1/tools/mcp/servers").json().get("peer", {}).get("state") == "ready", "peer ready")
    listing = http.get("/v1/tools/mcp/servers")
    assert listing.json()["peer"]["config_file_error"] is None and "x-mcp-config-error" not in listing.headers

    config.write_text('{"mcpServers": {"peer": {"command": "python",}}}')
    broken = until(lambda: (r := http.get("/v1/tools/mcp/servers")).json()["peer"]["config_file_error"] and r,
                   "the listing to show the broken file")
    assert "invalid JSON at line 1" in broken.json()["peer"]["config_file_error"]
    assert broken.json()["peer"]["state"] == "ready", "the server keeps running as last read"
    assert "invalid JSON at line 1" in broken.headers["x-mcp-config-error"]
    assert "invalid JSON" in http.get("/v1/tools/mcp/servers/peer").json()["config_file_error"]
    assert "invalid JSON" in http.get("/v1/tools/mcp/servers/peer/status").json()["config_file_error"]
    assert "not applied: " in srv.log() and "invalid JSON at line 1" in srv.log()

    config.write_text(json.dumps(good))
    fixed = until(lambda: (r := http.get("/v1/tools/mcp/servers")).json()["peer"]["config_file_error"] is None and r,
                  "the error to clear")
    assert "x-mcp-config-error" not in fixed.headers
    assert http.get("/v1/tools/mcp/servers/peer/status").json()["config_file_error"] is None


def test_a_config_file_broken_from_its_first_version_shows_in_the_listing_header(make_server, tmp_path) -> None:
    srv = make_server()
    http = httpx.Client(base_url=srv.base_url, timeout=30)
    assert "x-mcp-config-error" not in http.get("/v1/tools/mcp/servers").headers  # no file: nothing wrong
    (srv.home / "mcp_config.json").write_text('{"mcpServers": ')
    header = until(lambda: http.get("/v1/tools/mcp/servers").headers.get("x-mcp-config-error"), "the header")
    assert "mcp_config.json" in header and "invalid JSON" in header
