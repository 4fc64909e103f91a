"""``GET /v1/tools/mcp/oauth/callback``: where an MCP server's OAuth provider sends the browser back.

    GET /v1/tools/mcp/oauth/callback?code=...&state=...    {status, message, server_name, server_url}
                                    ?error=...&state=...   400 naming the provider's refusal

The waiting authorization (started by a connect route, ``host.services.mcp_oauth``) is found by its ``state``
- unguessable (256 bits, made by the MCP SDK), single use, valid for ten minutes - and gets the code; a
missing, unknown, used or expired state is a 400 naming it. Like every Letta route but health, this one
needs the server's credential when the server has a password (README: "MCP servers behind OAuth").
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query

from host.api.mcp_servers import OAuth
from host.api.routing import SlashRouter

router = SlashRouter(prefix="/v1/tools/mcp/oauth", tags=["mcp"])


@router.get("/callback", operation_id="mcp_oauth_callback")
async def mcp_oauth_callback(
    oauth: OAuth,
    code: Annotated[str | None, Query(description="OAuth authorization code")] = None,
    state: Annotated[str | None, Query(description="OAuth state parameter")] = None,
    error: Annotated[str | None, Query(description="OAuth error")] = None,
    error_description: Annotated[str | None, Query(description="OAuth error description")] = None,
) -> dict[str, Any]:
    return await oauth.callback(code, state, error, error_description)
