"""Config parsing, ${VAR} expansion, validation messages, redaction and atomic write-back."""

from __future__ import annotations

import json

import pytest

from mcp_client import load_config, parse_config, redacted, write_config
from mcp_client.config import REDACTED


def _one(entry: dict, environ: dict | None = None):
    config = parse_config({"mcpServers": {"s": entry}}, environ or {})
    assert config.error is None
    return config.entries[0]


@pytest.mark.parametrize(
    ("entry", "transport"),
    [
        ({"command": "npx"}, "stdio"),
        ({"type": "stdio", "command": "npx"}, "stdio"),
        ({"url": "http://127.0.0.1:9/sse"}, "sse"),
        ({"url": "http://127.0.0.1:9/sse/"}, "sse"),
        ({"url": "http://127.0.0.1:9/mcp"}, "streamable_http"),
        ({"type": "sse", "url": "http://h/events"}, "sse"),
        ({"type": "http", "url": "http://h/x"}, "streamable_http"),
        ({"transport": "streamable_http", "url": "http://h/x"}, "streamable_http"),
        ({"transport": "streamable-http", "url": "http://h/x"}, "streamable_http"),
        ({"type": "streamableHttp", "url": "http://h/x"}, "streamable_http"),
        ({"type": "StreamableHTTP", "url": "http://h/sse"}, "streamable_http"),
    ],
)
def test_transport_spellings_and_inference(entry: dict, transport: str) -> None:
    parsed = _one(entry)
    assert parsed.error is None and parsed.config is not None
    assert parsed.config.transport == transport


@pytest.mark.parametrize(
    ("entry", "fragment"),
    [
        ({"args": ["x"]}, "needs `command`"),
        ({"command": "x", "args": "x"}, "mcpServers.s.args"),
        ({"type": "pigeon", "command": "x"}, "'pigeon'"),
        ({"type": "sse"}, "needs `url`"),
        ({"url": "ftp://h/x"}, "mcpServers.s.url"),
        ({"command": "x", "timeout": -1}, "mcpServers.s.timeout"),
        ({"command": "x", "env": {"A": 1}}, "mcpServers.s.env.A"),
        ("not an object", "expected an object"),
        ({"command": "${NOPE}"}, "'NOPE' is not set"),
    ],
)
def test_bad_entries_come_back_with_a_reason_naming_the_field(entry, fragment: str) -> None:
    parsed = _one(entry)
    assert parsed.config is None
    assert fragment in parsed.error


def test_var_expansion_defaults_and_field_aliases() -> None:
    entry = {
        "command": "${TOOL_BIN}",
        "args": ["--root", "${ROOT:-/srv}", "${EMPTY:-fallback}"],
        "env": {"TOKEN": "${TOKEN}"},
        "timeout": 12,
        "disabled": True,
        "allowedTools": ["a", "b"],
        "disabledTools": ["b"],
    }
    config = _one(entry, {"TOOL_BIN": "/bin/tool", "TOKEN": "s3cret", "EMPTY": ""}).config
    assert config.command == "/bin/tool"
    assert config.args == ["--root", "/srv", "fallback"]
    assert config.env == {"TOKEN": "s3cret"}
    assert (config.timeout_s, config.disabled, config.allowed_tools, config.disabled_tools) == (12, True, ["a", "b"], ["b"])
    assert config.tool_enabled("a") and not config.tool_enabled("b") and not config.tool_enabled("c")
    snake = _one({"command": "x", "allowed_tools": ["a"], "disabled_tools": ["z"], "timeout_s": 3}).config
    assert (snake.allowed_tools, snake.disabled_tools, snake.timeout_s) == (["a"], ["z"], 3)


def test_malformed_files_never_raise(tmp_path) -> None:
    path = tmp_path / "mcp_config.json"
    assert "file not found" in load_config(path, {}).error
    path.write_text("{ not json")
    assert "invalid JSON at line 1" in load_config(path, {}).error
    path.write_text('{"mcpServers": []}')
    assert "`mcpServers` must be an object" in load_config(path, {}).error
    path.write_text("")
    assert load_config(path, {}).entries == []


def test_redacted_hides_headers_env_and_url_secrets() -> None:
    entry = {
        "url": "https://user:pw@example.com/mcp?token=abc&x=1",
        "headers": {"Authorization": "Bearer abc"},
    }
    view = redacted(_one(entry).config)
    assert view["headers"] == {"Authorization": REDACTED}
    assert "pw" not in view["url"] and "abc" not in view["url"] and "example.com/mcp" in view["url"]
    stdio = _one({"command": "x", "args": ["--api-key", "k1", "--token=k2", "plain"], "env": {"K": "v"}}).config
    view = redacted(stdio)
    assert view["env"] == {"K": REDACTED}
    assert view["args"] == ["--api-key", REDACTED, f"--token={REDACTED}", "plain"]
    assert "k1" not in json.dumps(view) and "k2" not in json.dumps(view)


def test_write_config_is_atomic_and_keeps_unknown_keys_and_var_references(tmp_path) -> None:
    path = tmp_path / "mcp_config.json"
    original = {
        "globalShortcut": "Ctrl+Space",
        "mcpServers": {
            "files": {"command": "npx", "args": ["-y", "fs"], "env": {"TOKEN": "${TOKEN}"}, "note": "mine"},
            "gone": {"command": "old"},
            "broken": {"args": "x"},
        },
    }
    path.write_text(json.dumps(original))
    environ = {"TOKEN": "s3cret"}
    loaded = load_config(path, environ)
    files = next(e for e in loaded.entries if e.name == "files").config
    broken = next(e for e in loaded.entries if e.name == "broken")
    updated = files.model_copy(update={"args": ["-y", "fs", "/tmp"]})
    new_remote = _one({"url": "http://127.0.0.1:9/mcp"}).config.model_copy(update={"name": "remote"})
    write_config(path, [updated, broken, new_remote], environ)

    written = json.loads(path.read_text())
    assert written["globalShortcut"] == "Ctrl+Space"
    assert set(written["mcpServers"]) == {"files", "broken", "remote"}
    files_out = written["mcpServers"]["files"]
    assert files_out["note"] == "mine" and files_out["env"] == {"TOKEN": "${TOKEN}"}
    assert files_out["args"] == ["-y", "fs", "/tmp"]
    assert written["mcpServers"]["broken"] == {"args": "x"}
    assert written["mcpServers"]["remote"] == {"type": "http", "url": "http://127.0.0.1:9/mcp"}
    assert [p.name for p in tmp_path.iterdir()] == ["mcp_config.json"]  # no temp file left behind
    reloaded = {e.name: e.config for e in load_config(path, environ).entries}
    assert reloaded["files"] == updated and reloaded["remote"] == new_remote
