"""MCP servers behind OAuth: grants stored encrypted, interactive authorizations, the provider's redirect.

    connect (SSE)       connection_attempt; when the server asks for OAuth: oauth_required,
                        authorization_url {url, session_id}, waiting_for_auth; then success {tools} | error
    the person          opens the URL, authorizes; the provider redirects the browser to
                        GET /v1/tools/mcp/oauth/callback?code=...&state=...
    callback            finds the waiting authorization by its state (any process sharing the database),
                        hands it the code once (the state is single use and expires after OAUTH_WAIT_S)
    the MCP SDK         exchanges the code (PKCE: the verifier never left this process), stores the tokens;
                        the supervised pool connects with them and refreshes them (``mcp_client.oauth``)

The OAuth protocol is the MCP SDK's (``mcp.client.auth``); this module keeps its state. Grants (tokens, the
client registration with its secret, expiry, the authorization server's metadata) are one encrypted row per
organization and server URL (``mcp_oauth_grants``, Fernet: ``host.persistence.secret_box``): never returned,
never logged. A grant belongs to the organization that authorized it: a server of that organization at that URL
connects with it, another organization's server at the same URL does not (it needs its own authorization).
The operator's config-file servers (every organization's) share the grants of organization NULL.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import anyio
from sqlalchemy import Select, select, update

from host.errors import BadRequestError
from host.ids import new_id, utcnow
from host.persistence.db import Database
from host.persistence.models import McpOAuthGrantRow, McpOAuthSessionRow
from host.persistence.secret_box import SecretBox, SecretBoxError
from mcp_client import McpServerConfig, McpTool, OAuthGrant, OAuthHandlers, scrub_urls, test_server

logger = logging.getLogger(__name__)

OAUTH_WAIT_S = 600.0  # how long an authorization waits for the person (and its state stays valid)
CONNECT_TIMEOUT_S = 30.0  # connecting and the handshake, the person's time aside (as POST .../servers/test)
POLL_S = 0.5  # how often a waiting authorization looks for a redirect that reached another process
Emit = Callable[[dict[str, Any]], Awaitable[None]]


class DbOAuthStore:
    """``mcp_client.OAuthStore`` over one organization's ``mcp_oauth_grants`` (``organization_id`` None: the
    config-file servers' grants), each grant encrypted with the server's key."""

    def __init__(self, db: Database, box: SecretBox, organization_id: str | None) -> None:
        self.db = db
        self.box = box
        self.organization_id = organization_id

    def _grant(self, server_url: str) -> Select[Any]:
        owner = McpOAuthGrantRow.organization_id
        mine = owner.is_(None) if self.organization_id is None else owner == self.organization_id
        return select(McpOAuthGrantRow).where(mine, McpOAuthGrantRow.server_url == server_url)

    async def load(self, server_url: str) -> OAuthGrant | None:
        async with self.db.session() as s:
            row = (await s.execute(self._grant(server_url))).scalar()
        if row is None:
            return None
        try:
            return OAuthGrant(**json.loads(self.box.decrypt(row.grant_enc) or "{}"))
        except (SecretBoxError, ValueError, TypeError):
            logger.warning("the stored OAuth grant of an MCP server cannot be read (secret key changed?); "
                           "it must be authorized again")
            return None

    async def save(self, server_url: str, grant: OAuthGrant) -> None:
        sealed = self.box.encrypt(json.dumps(asdict(grant)))
        assert sealed is not None
        async with self.db.transaction() as s:
            row = (await s.execute(self._grant(server_url))).scalar()
            if row is None:
                s.add(McpOAuthGrantRow(id=new_id("mcp_oauth"), organization_id=self.organization_id,
                                       server_url=server_url, grant_enc=sealed))
            else:
                row.grant_enc = sealed

    async def forget(self, server_url: str) -> None:
        async with self.db.transaction() as s:
            row = (await s.execute(self._grant(server_url))).scalar()
            if row is not None:
                await s.delete(row)


class OAuthRefused(Exception):
    """The authorization did not complete: refused at the provider, or no one answered in time."""


class McpOAuthService:
    """Interactive authorizations and the callback that completes them."""

    def __init__(self, db: Database, box: SecretBox) -> None:
        self.db = db
        self.box = box

    def store(self, organization_id: str | None) -> DbOAuthStore:
        """The grants of `organization_id` (None: the config-file servers')."""
        return DbOAuthStore(self.db, self.box, organization_id)

    # ---- connect ----------------------------------------------------------------------------------
    async def connect(self, config: McpServerConfig, redirect_uri: str, emit: Emit,
                      organization_id: str | None) -> list[McpTool]:
        """Connect once and list the tools; a server that asks for OAuth is authorized on the way (the events
        go to ``emit``) and its grant is stored as `organization_id`'s (None: the config-file servers'), the
        owner whose servers connect with it. Raises ``BadRequestError`` naming what failed."""
        state_of: dict[str, str] = {}
        store = self.store(organization_id)

        async def redirect(url: str) -> None:
            state = (parse_qs(urlsplit(url).query).get("state") or [""])[0]
            session_id = await self._open(state, config, organization_id)
            state_of["state"] = state
            await emit({"event": "oauth_required", "message": "OAuth authentication required"})
            await emit({"event": "authorization_url", "url": url, "session_id": session_id})
            await emit({"event": "waiting_for_auth", "message": "Waiting for user authorization..."})

        async def callback() -> tuple[str, str | None, str | None]:
            state = state_of["state"]
            return await self._wait(state), state, None

        handlers = OAuthHandlers(redirect_uri, redirect, callback, store) if config.url else None
        ok, outcome = await test_server(config, timeout_s=min(CONNECT_TIMEOUT_S, config.timeout_s), oauth=handlers,
                                        oauth_wait_s=OAUTH_WAIT_S)
        if not ok:
            raise BadRequestError(f"cannot connect to MCP server {config.name!r}: {outcome}")
        assert isinstance(outcome, list)
        return outcome

    async def _open(self, state: str, config: McpServerConfig, organization_id: str | None) -> str:
        if len(state) < 32:  # the MCP SDK makes 43 characters (256 bits); anything shorter is not its URL
            raise OAuthRefused("the authorization URL carries no usable state")
        session_id = new_id("mcp_oauth_session")
        assert config.url is not None
        async with self.db.transaction() as s:
            s.add(McpOAuthSessionRow(id=session_id, state=state, server_name=config.name, server_url=config.url,
                                     organization_id=organization_id, status="pending",
                                     expires_at=utcnow() + timedelta(seconds=OAUTH_WAIT_S)))
        return session_id

    async def _wait(self, state: str) -> str:
        """The code the provider's redirect brought for `state` (taken once), or ``OAuthRefused``. The redirect
        may reach any process sharing the database: the row is polled."""
        with anyio.move_on_after(OAUTH_WAIT_S):
            while True:
                async with self.db.transaction() as s:
                    row = (await s.execute(select(McpOAuthSessionRow)
                                           .where(McpOAuthSessionRow.state == state))).scalar_one()
                    if row.status == "authorized":
                        row.status, code_enc, row.code_enc = "used", row.code_enc, None
                        code = self.box.decrypt(code_enc)
                        assert code is not None
                        return code
                    if row.status == "refused":
                        raise OAuthRefused(f"the authorization was refused: {row.error}")
                await anyio.sleep(POLL_S)
        async with self.db.transaction() as s:
            await s.execute(update(McpOAuthSessionRow).where(McpOAuthSessionRow.state == state).values(status="used"))
        raise OAuthRefused(f"no authorization arrived within {OAUTH_WAIT_S:g}s; connect again")

    # ---- callback ---------------------------------------------------------------------------------
    async def callback(self, code: str | None, state: str | None, error: str | None,
                       error_description: str | None) -> dict[str, Any]:
        """The provider's redirect: give the waiting authorization its code (or the provider's refusal)."""
        if not state:
            raise BadRequestError("the `state` query parameter is required: open the authorization URL that "
                                  "the connect stream gave (its provider redirects here with code and state)")
        if error is None and not code:
            raise BadRequestError("the `code` query parameter is required (or `error` when authorization failed)")
        values: dict[str, Any]
        if error is not None:
            values = {"status": "refused", "error": error + (f" ({error_description})" if error_description else "")}
        else:
            values = {"status": "authorized", "code_enc": self.box.encrypt(code)}
        async with self.db.transaction() as s:
            row = (await s.execute(select(McpOAuthSessionRow).where(McpOAuthSessionRow.state == state))).scalar()
            taken = await s.execute(
                update(McpOAuthSessionRow)
                .where(McpOAuthSessionRow.state == state, McpOAuthSessionRow.status == "pending",
                       McpOAuthSessionRow.expires_at > utcnow())
                .values(**values))
        if row is None or getattr(taken, "rowcount", 0) != 1:
            raise BadRequestError("OAuth `state` is unknown, expired or already used: start the authorization "
                                  "again with the connect route (a state works once, within "
                                  f"{OAUTH_WAIT_S / 60:g} minutes)")
        if error is not None:
            raise BadRequestError(f"the authorization of MCP server {row.server_name!r} was refused by its "
                                  f"provider: {values['error']}")
        return {"status": "success", "message": "Authorization successful", "server_name": row.server_name,
                "server_url": scrub_urls(row.server_url)}
