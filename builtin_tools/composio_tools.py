"""Composio apps and actions through the composio SDK (0.29, ``/api/v3.1``).

``ComposioClient`` wraps the sync SDK: every operation builds a client and runs in a
worker thread under ``fail_after`` (the SDK keeps its tracking switch in a context
variable, so client and call share one thread context). Catalogue operations raise
``ComposioError``; ``execute_action`` returns a ``ToolOutput``. ``composio_tool`` makes a
``BuiltinTool`` (tool_type ``external_composio``) that runs one action with the agent's
``COMPOSIO_API_KEY`` and ``COMPOSIO_ENTITY`` (default "default").

The SDK is imported lazily: importing it takes seconds.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import anyio
import anyio.to_thread

from builtin_tools.errors import ComposioError
from builtin_tools.ports import ToolContext
from builtin_tools.schemas import BuiltinTool, ToolOutput

if TYPE_CHECKING:
    from composio import Composio

logger = logging.getLogger(__name__)

COMPOSIO_KEY_VAR = "COMPOSIO_API_KEY"
COMPOSIO_ENTITY_VAR = "COMPOSIO_ENTITY"
DEFAULT_ENTITY = "default"
_LIST_LIMIT = 1000

T = TypeVar("T")

NO_KEY_MESSAGE = (
    "This Composio tool is not configured: no COMPOSIO_API_KEY is set for this agent or server. "
    "Tell the user the action is unavailable until an administrator sets COMPOSIO_API_KEY."
)


@dataclass(frozen=True, slots=True)
class ComposioApp:
    slug: str
    name: str
    description: str
    tools_count: int


@dataclass(frozen=True, slots=True)
class ComposioAction:
    slug: str
    name: str
    description: str
    app: str


def tool_name_for(action: str) -> str:
    """The Letta tool name of a Composio action (its slug, lower case)."""
    return action.lower()


def letta_schema(slug: str, description: str, input_parameters: dict[str, Any]) -> dict[str, Any]:
    """A Composio action's input schema in Letta's {name, description, parameters} shape."""
    params = input_parameters or {}
    properties = params.get("properties") or {}
    required = [name for name in params.get("required") or [] if name in properties]
    return {
        "name": tool_name_for(slug),
        "description": description,
        "parameters": {"type": "object", "properties": properties, "required": required},
    }


class ComposioClient:
    """The Composio operations agenthost uses, as async calls."""

    def __init__(self, api_key: str, base_url: str | None = None, *, timeout_s: float = 30.0) -> None:
        if not api_key:
            raise ComposioError("setup", "no COMPOSIO_API_KEY configured")
        self._api_key = api_key
        self._base_url = base_url
        self._timeout_s = timeout_s

    def _client(self) -> Composio:
        from composio import Composio

        return Composio(
            api_key=self._api_key,
            base_url=self._base_url or "",  # "" like omitted: the SDK falls back to COMPOSIO_BASE_URL
            allow_tracking=False,
            timeout=int(self._timeout_s),
            max_retries=1,
            toolkit_versions="latest",
        )

    async def _call(self, operation: str, fn: Callable[[Composio], T]) -> T:
        def work() -> T:
            return fn(self._client())

        import httpx
        from composio.exceptions import ComposioError as SdkError
        from composio_client import APIError, APIStatusError

        try:
            with anyio.fail_after(self._timeout_s + 5):
                return await anyio.to_thread.run_sync(work, abandon_on_cancel=True)
        except TimeoutError as err:
            raise ComposioError(operation, f"no answer within {self._timeout_s:g} seconds") from err
        except APIStatusError as err:
            raise ComposioError(operation, _status_message(err), status_code=err.status_code) from err
        except (SdkError, APIError, httpx.HTTPError) as err:
            raise ComposioError(operation, f"{type(err).__name__}: {err}") from err

    async def list_apps(self) -> list[ComposioApp]:
        response = await self._call("list_apps", lambda c: c.toolkits.list(limit=_LIST_LIMIT))
        return [
            ComposioApp(
                slug=item.slug,
                name=item.name,
                description=item.meta.description,
                tools_count=int(item.meta.tools_count),
            )
            for item in response.items
        ]

    async def list_actions(self, app: str) -> list[ComposioAction]:
        tools = await self._call(
            "list_actions",
            lambda c: c.tools.get_raw_composio_tools(toolkits=[app], limit=_LIST_LIMIT),
        )
        return [
            ComposioAction(slug=t.slug, name=t.name, description=t.description, app=t.toolkit.slug)
            for t in tools
        ]

    async def get_action_schema(self, action: str) -> dict[str, Any]:
        tool = await self._call("get_action_schema", lambda c: c.tools.get_raw_composio_tool_by_slug(action))
        return letta_schema(tool.slug, tool.description, dict(tool.input_parameters or {}))

    async def execute_action(self, action: str, args: dict[str, Any], entity_id: str = DEFAULT_ENTITY) -> ToolOutput:
        try:
            response = await self._call(
                "execute_action",
                lambda c: c.tools.execute(
                    action, args, user_id=entity_id, dangerously_skip_version_check=True
                ),
            )
        except ComposioError as err:
            logger.warning("composio action %s failed: %s", action, err)
            return ToolOutput.error(f"Composio action {action} could not run: {err.message}")
        if not response.get("successful"):
            return ToolOutput.error(f"Composio action {action} failed: {response.get('error') or 'no error message'}")
        return ToolOutput.success(json.dumps(response.get("data"), ensure_ascii=False, default=str))


def _status_message(err: Any) -> str:
    status = getattr(err, "status_code", None)
    if status == 401:
        return "the COMPOSIO_API_KEY was rejected (401)"
    if status == 404:
        return "not found (404)"
    body = getattr(err, "body", None)
    detail = body.get("error", body) if isinstance(body, dict) else body
    return f"HTTP {status}: {detail}"


def composio_tool(action: str, json_schema: dict[str, Any]) -> BuiltinTool:
    """A tool that runs Composio ``action``; ``json_schema`` from ``get_action_schema``."""

    async def run(args: dict[str, Any], ctx: ToolContext) -> ToolOutput:
        key = ctx.env.get(COMPOSIO_KEY_VAR, "").strip()
        if not key:
            return ToolOutput.error(NO_KEY_MESSAGE)
        entity = ctx.env.get(COMPOSIO_ENTITY_VAR, "").strip() or DEFAULT_ENTITY
        gateway = ComposioClient(key, ctx.services.composio_base_url, timeout_s=ctx.services.http_timeout_s)
        return await gateway.execute_action(action, args, entity)

    return BuiltinTool(
        name=json_schema.get("name") or tool_name_for(action),
        tool_type="external_composio",
        tags=("composio",),
        description=json_schema.get("description", ""),
        json_schema=json_schema,
        impl=run,
    )
