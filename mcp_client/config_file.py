"""Write `mcp_config.json` back atomically, and watch it for edits.

`write_config` keeps what it does not own: top-level keys besides `mcpServers`, unknown keys
inside an entry, and a `${VAR}` reference whose expansion still equals the new value (so a
secret that came from the environment is not baked into the file).
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Awaitable, Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import anyio
from anyio.abc import TaskStatus

from mcp_client.config import DEFAULT_TIMEOUT_S, McpConfig, McpConfigEntry, McpServerConfig, _expand_tree, load_config
from mcp_client.errors import McpConfigError

logger = logging.getLogger(__name__)

_TRANSPORT_WORDS = {"stdio": "stdio", "sse": "sse", "streamable_http": "http"}
_OWNED_KEYS = {
    "type", "transport", "command", "args", "env", "cwd", "url", "headers", "timeout", "timeout_s",
    "disabled", "allowedTools", "allowed_tools", "disabledTools", "disabled_tools",
}  # fmt: skip


def to_claude_entry(config: McpServerConfig) -> dict[str, Any]:
    """The Claude Desktop spelling of one server entry (defaults left out)."""
    entry: dict[str, Any] = {"type": _TRANSPORT_WORDS[config.transport]}
    if config.transport == "stdio":
        entry["command"] = config.command
        if config.args:
            entry["args"] = list(config.args)
        if config.env:
            entry["env"] = dict(config.env)
        if config.cwd:
            entry["cwd"] = config.cwd
    else:
        entry["url"] = config.url
        if config.headers:
            entry["headers"] = dict(config.headers)
    if config.timeout_s != DEFAULT_TIMEOUT_S:
        entry["timeout"] = config.timeout_s
    if config.disabled:
        entry["disabled"] = True
    if config.allowed_tools is not None:
        entry["allowedTools"] = list(config.allowed_tools)
    if config.disabled_tools:
        entry["disabledTools"] = list(config.disabled_tools)
    return entry


def _keep_references(old: Any, new: Any, environ: Mapping[str, str]) -> Any:
    """Return `old` (unexpanded) wherever it still expands to `new`, recursing into dicts."""
    if isinstance(old, dict) and isinstance(new, dict):
        return {key: _keep_references(old.get(key), value, environ) for key, value in new.items()}
    try:
        if old is not None and _expand_tree(old, environ) == new:
            return old
    except Exception:  # noqa: BLE001 - an unresolvable reference is simply replaced
        logger.debug("config value no longer expands; writing the new value", exc_info=True)
    return new


def _merge_entry(old_raw: Any, config: McpServerConfig, environ: Mapping[str, str]) -> dict[str, Any]:
    new = to_claude_entry(config)
    if not isinstance(old_raw, dict):
        return new
    merged = {key: value for key, value in old_raw.items() if key not in _OWNED_KEYS}
    for key, value in new.items():
        old_key = next((k for k in (key, *_aliases(key)) if k in old_raw), key)
        merged[old_key] = _keep_references(old_raw.get(old_key), value, environ)
    if "transport" in old_raw and "type" in merged:  # keep the file's own spelling of the key
        merged["transport"] = merged.pop("type")
    return merged


def _aliases(key: str) -> tuple[str, ...]:
    return {
        "timeout": ("timeout_s",),
        "allowedTools": ("allowed_tools",),
        "disabledTools": ("disabled_tools",),
    }.get(key, ())


def write_config(
    path: str | Path,
    entries: Iterable[McpServerConfig | McpConfigEntry],
    environ: Mapping[str, str] | None = None,
) -> None:
    """Atomically replace `path`'s `mcpServers` with `entries` (temp file + fsync + os.replace).

    An `McpConfigEntry` with an error is written back as its original raw entry.
    Raises `McpConfigError` when the file cannot be written.
    """
    target = Path(path)
    environ = environ or {}
    try:
        existing = json.loads(target.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        existing = {}
    if not isinstance(existing, dict):
        existing = {}
    declared = existing.get("mcpServers")
    old_servers: dict[str, Any] = declared if isinstance(declared, dict) else {}
    servers: dict[str, Any] = {}
    for item in entries:
        if isinstance(item, McpConfigEntry):
            if item.config is None:
                servers[item.name] = item.raw
                continue
            item = item.config
        servers[item.name] = _merge_entry(old_servers.get(item.name), item, environ)
    document = {**existing, "mcpServers": servers}
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent or ".")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
                fh.flush()
                os.fsync(fh.fileno())
            if target.exists():
                os.chmod(tmp_name, target.stat().st_mode & 0o777)
            os.replace(tmp_name, target)
        except BaseException:
            Path(tmp_name).unlink(missing_ok=True)
            raise
    except OSError as error:
        raise McpConfigError(f"cannot write MCP config to {target}: {error}; check the directory is writable") from error


def _fingerprint(path: Path) -> tuple[int, int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino)


class ConfigWatcher:
    """Poll a config file's mtime/size/inode and call `on_change` with each new parse.

    Use `await task_group.start(watcher.run)`: `run` reports started after the first load
    (which is delivered too) and then polls every `interval_s` until cancelled.
    """

    def __init__(
        self,
        path: str | Path,
        on_change: Callable[[McpConfig], Awaitable[None]],
        environ: Mapping[str, str],
        interval_s: float = 1.0,
    ) -> None:
        if interval_s <= 0:
            raise McpConfigError(f"interval_s must be positive, got {interval_s!r}")
        self.path = Path(path)
        self._on_change = on_change
        self._environ = dict(environ)
        self._interval_s = interval_s
        self._seen: tuple[int, int, int] | None = None

    async def _deliver(self) -> None:
        config = await anyio.to_thread.run_sync(load_config, self.path, self._environ)
        if config.error and self.path.exists():
            logger.warning("MCP config %s not applied: %s", self.path, config.error)
        elif config.error:
            logger.info("no MCP config at %s (create it to add MCP servers)", self.path)
        try:
            await self._on_change(config)
        except Exception:
            logger.exception("MCP config change handler failed for %s", self.path)

    async def run(self, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        self._seen = await anyio.to_thread.run_sync(_fingerprint, self.path)
        await self._deliver()
        task_status.started()
        while True:
            await anyio.sleep(self._interval_s)
            current = await anyio.to_thread.run_sync(_fingerprint, self.path)
            if current != self._seen:
                self._seen = current
                logger.info("MCP config %s changed; reloading", self.path)
                await self._deliver()
