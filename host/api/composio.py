"""``/v1/tools/composio``: the Composio catalogue and turning an action into an agent tool.

    GET  /v1/tools/composio/apps                  -> [AppModel]     (Composio toolkits)
    GET  /v1/tools/composio/apps/{app}/actions    -> [ActionModel]  (the toolkit's tools)
    POST /v1/tools/composio/{action}              -> Tool           (tool_type "external_composio")

The key is the server's ``COMPOSIO_API_KEY`` (``COMPOSIO_BASE_URL`` overrides the endpoint).
Registered tools run through the dispatcher with the agent's ``COMPOSIO_API_KEY`` and
``COMPOSIO_ENTITY`` (default "default"). This router is included before ``/v1/tools``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends
from pydantic import Field

from builtin_tools import ComposioAction, ComposioApp, ComposioClient, ComposioError, tool_name_for
from host.api.routing import SlashRouter, services
from host.errors import BadRequestError, NotFoundError, UpstreamError
from host.schemas.common import ResponseModel
from host.schemas.tools import Tool
from host.services import Services
from host.tools.dispatcher import COMPOSIO_TOOL_TYPE

router = SlashRouter(prefix="/v1/tools/composio", tags=["tools"])
Svc = Annotated[Services, Depends(services)]

NOT_CONFIGURED = ("Composio is not configured on this server: set COMPOSIO_API_KEY in the server's environment "
                  "(and COMPOSIO_BASE_URL for a self-hosted endpoint), then restart agenthost.")


class AppModel(ResponseModel):
    """Letta's AppModel (one Composio app, a "toolkit" in Composio v3)."""

    name: str
    key: str
    appId: str
    description: str
    categories: list[str] = Field(default_factory=list)
    meta: dict[str, Any] = Field(default_factory=dict)
    logo: str | None = None
    docs: str | None = None
    group: str | None = None
    status: str | None = None
    enabled: bool = False
    no_auth: bool = False
    auth_schemes: list[dict[str, Any]] | None = None


class ActionSchemaModel(ResponseModel):
    properties: dict[str, Any] = Field(default_factory=dict)
    title: str
    type: str = "object"
    required: list[str] | None = None


class ActionModel(ResponseModel):
    """Letta's ActionModel (one Composio action, a "tool" in Composio v3)."""

    name: str
    description: str
    parameters: ActionSchemaModel
    response: ActionSchemaModel
    appName: str
    appId: str
    version: str = "latest"
    available_versions: list[str] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    logo: str | None = None
    display_name: str | None = None
    enabled: bool = False


def _composio(svc: Services) -> ComposioClient:
    key = (svc.settings.composio_api_key or "").strip()
    if not key:
        raise BadRequestError(NOT_CONFIGURED)
    return ComposioClient(key, svc.settings.composio_base_url)


def _host_error(err: ComposioError, what: str) -> Exception:
    from composio.exceptions import NotFoundError as SdkNotFoundError  # already imported by the gateway call

    if err.status_code == 404 or isinstance(err.__cause__, SdkNotFoundError):
        return NotFoundError(f"Composio has no {what}: {err.message}")
    if err.status_code == 401:
        return UpstreamError("Composio rejected the server's COMPOSIO_API_KEY (401); check the key and restart.",
                             provider_status=401)
    return UpstreamError(f"{err}", provider_status=err.status_code)


def _app_model(app: ComposioApp) -> AppModel:
    return AppModel(name=app.name, key=app.slug, appId=app.slug, description=app.description,
                    meta={"actionsCount": app.tools_count})


def _action_model(action: ComposioAction) -> ActionModel:
    # The gateway's listing carries no input schema; POST /v1/tools/composio/{action} fetches it.
    return ActionModel(name=action.slug, display_name=action.name, description=action.description,
                       parameters=ActionSchemaModel(title=f"{action.slug}Request"),
                       response=ActionSchemaModel(title=f"{action.slug}Response"),
                       appName=action.app, appId=action.app)


@router.get("/apps", response_model=list[AppModel], operation_id="list_composio_apps")
async def list_composio_apps(svc: Svc) -> list[AppModel]:
    try:
        apps = await _composio(svc).list_apps()
    except ComposioError as err:
        raise _host_error(err, "app listing") from None
    return [_app_model(a) for a in apps]


@router.get("/apps/{composio_app_name}/actions", response_model=list[ActionModel],
            operation_id="list_composio_actions_by_app")
async def list_composio_actions_by_app(composio_app_name: str, svc: Svc) -> list[ActionModel]:
    try:
        actions = await _composio(svc).list_actions(composio_app_name)
    except ComposioError as err:
        raise _host_error(err, f"app {composio_app_name!r}") from None
    if not actions:
        raise NotFoundError(f"Composio app {composio_app_name!r} has no actions (is the app name right? "
                            "See GET /v1/tools/composio/apps)")
    return [_action_model(a) for a in actions]


@router.post("/{composio_action_name}", response_model=Tool, operation_id="add_composio_tool")
async def add_composio_tool(composio_action_name: str, svc: Svc) -> Tool:
    action = composio_action_name.strip().upper()
    try:
        schema = await _composio(svc).get_action_schema(action)
    except ComposioError as err:
        raise _host_error(err, f"action {action!r}") from None
    return await svc.tools.register(
        name=schema.get("name") or tool_name_for(action), tool_type=COMPOSIO_TOOL_TYPE,
        description=schema.get("description") or "", json_schema=schema, tags=["composio"],
        metadata={"composio_action": action})
