"""OAuth for remote MCP servers, through the MCP SDK's own client (``mcp.client.auth.OAuthClientProvider``).

The SDK does the protocol: discovery (protected resource and authorization server metadata), dynamic client
registration, PKCE, the token exchange and refreshing. This module gives it two things it leaves to its user:

    OAuthStore     where one server URL's grant lives (tokens, client registration, expiry, the authorization
                   server's metadata); the host keeps it encrypted in its database
    OAuthHandlers  for the interactive flow: ``redirect(url)`` hands the authorization URL to whoever asked
                   to connect, ``callback()`` waits for the code the provider redirects back with

A supervised server (``McpPool(oauth_store=...)``) that has a stored grant connects with it and refreshes
it; it never starts an interactive flow (no one is there to authorize): a server that needs one is
``state="error"`` with ``OAUTH_NEEDED`` in ``last_error``. ``test_server(config, oauth=...)`` runs the
interactive flow.

Two gaps of the SDK's provider are closed here (modelcontextprotocol/python-sdk#3250): a provider built over
stored tokens neither knows when they expire (so it never refreshes them before a 401) nor remembers the
token endpoint it discovered (so a refresh would go to ``<origin>/token``); ``_StoredGrantProvider`` restores
both from the grant when it loads.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Protocol

from mcp_client.errors import McpClientError

if TYPE_CHECKING:
    import httpx2

    from mcp_client.config import McpServerConfig

OAUTH_NEEDED = "the server requires OAuth authorization"
CLIENT_NAME = "agenthost"


@dataclass(frozen=True, slots=True)
class OAuthGrant:
    """What is stored for one server URL (JSON-ready; every field may hold a secret)."""

    redirect_uri: str
    tokens: dict[str, Any] | None = None  # RFC 6749 token response (access_token, refresh_token, expires_in...)
    expires_at: float | None = None  # absolute (unix time) expiry of the access token
    client_info: dict[str, Any] | None = None  # the dynamic client registration (client_id, client_secret...)
    metadata: dict[str, Any] | None = None  # the authorization server's RFC 8414 metadata

    @property
    def usable(self) -> bool:
        return bool(self.tokens and self.tokens.get("access_token"))


class OAuthStore(Protocol):
    """Grants by server URL. ``save`` is called whenever the SDK gets new tokens or registers a client."""

    async def load(self, server_url: str) -> OAuthGrant | None: ...

    async def save(self, server_url: str, grant: OAuthGrant) -> None: ...


@dataclass(frozen=True, slots=True)
class OAuthHandlers:
    """The interactive part of an authorization: hand out the URL, wait for the redirect's parameters.

    ``callback()`` returns ``(code, state, iss)`` as the provider's redirect carried them; the SDK checks the
    state against the one it put into the URL and the issuer against the authorization server's metadata.
    """

    redirect_uri: str
    redirect: Callable[[str], Awaitable[None]]
    callback: Callable[[], Awaitable[tuple[str, str | None, str | None]]]
    store: OAuthStore


class OAuthAuthorizationNeeded(McpClientError):
    """A supervised server's grant is missing or no longer accepted, and no one is there to authorize.

    Raised inside the server's HTTP requests, so it becomes the server's ``state="error"`` and ``last_error``."""

    def __init__(self, server_url: str) -> None:
        super().__init__(f"{OAUTH_NEEDED}: connect it again (GET /v1/mcp-servers/connect/{{id}} or POST "
                         "/v1/tools/mcp/servers/connect) and follow the authorization URL")
        self.server_url = server_url


@dataclass
class _GrantStorage:
    """The SDK's ``TokenStorage`` over one URL's grant in an ``OAuthStore``."""

    store: OAuthStore
    server_url: str
    grant: OAuthGrant
    provider: Any = field(default=None, repr=False)  # set once the provider exists (to read its metadata)

    async def get_tokens(self) -> Any:
        from mcp.shared.auth import OAuthToken

        return OAuthToken.model_validate(self.grant.tokens) if self.grant.tokens else None

    async def set_tokens(self, tokens: Any) -> None:
        from mcp.shared.auth_utils import calculate_token_expiry

        metadata = self.grant.metadata
        context = getattr(self.provider, "context", None)
        if context is not None and context.oauth_metadata is not None:
            metadata = context.oauth_metadata.model_dump(mode="json", exclude_none=True)
        self.grant = replace(self.grant, tokens=tokens.model_dump(mode="json", exclude_none=True),
                             expires_at=calculate_token_expiry(tokens.expires_in), metadata=metadata)
        await self.store.save(self.server_url, self.grant)

    async def get_client_info(self) -> Any:
        from mcp.shared.auth import OAuthClientInformationFull

        info = self.grant.client_info
        return OAuthClientInformationFull.model_validate(info) if info else None

    async def set_client_info(self, client_info: Any) -> None:
        self.grant = replace(self.grant, client_info=client_info.model_dump(mode="json", exclude_none=True))
        await self.store.save(self.server_url, self.grant)


def _provider_class() -> type:
    from mcp.client.auth import OAuthClientProvider
    from mcp.shared.auth import OAuthMetadata

    class _StoredGrantProvider(OAuthClientProvider):
        """``OAuthClientProvider`` that restores the stored expiry and server metadata (python-sdk#3250)."""

        grant_storage: _GrantStorage

        async def _initialize(self) -> None:
            await super()._initialize()
            grant = self.grant_storage.grant
            if self.context.current_tokens is not None:
                self.context.token_expiry_time = grant.expires_at
            if grant.metadata and self.context.oauth_metadata is None:
                self.context.oauth_metadata = OAuthMetadata.model_validate(grant.metadata)

    return _StoredGrantProvider


def _provider(config: McpServerConfig, storage: _GrantStorage, redirect: Callable[[str], Awaitable[None]],
              callback: Callable[[], Awaitable[Any]]) -> httpx2.Auth:
    from mcp.shared.auth import OAuthClientMetadata

    assert config.url is not None
    metadata = OAuthClientMetadata.model_validate({
        "client_name": CLIENT_NAME, "redirect_uris": [storage.grant.redirect_uri],
        "grant_types": ["authorization_code", "refresh_token"], "response_types": ["code"],
    })  # fmt: skip
    provider = _provider_class()(config.url, metadata, storage, redirect_handler=redirect, callback_handler=callback)
    provider.grant_storage = storage
    storage.provider = provider
    return provider


def challenge_watch(server_url: str) -> httpx2.Auth:
    """No grant: requests go out as they are; an OAuth challenge (a 401 with a ``WWW-Authenticate: Bearer``
    header, as the MCP authorization spec has servers send) becomes ``OAuthAuthorizationNeeded``. Any other 401
    (a server that checks a key of its own) is left to the usual error path, which reports the server's words."""
    import httpx2

    class _ChallengeWatch(httpx2.Auth):
        def auth_flow(self, request: httpx2.Request):  # noqa: ANN202
            if request.url.username or request.url.password:  # as the client does with no auth of its own
                request = next(httpx2.BasicAuth(request.url.username, request.url.password).auth_flow(request))
            response = yield request
            challenge = response.headers.get("www-authenticate", "")
            if response.status_code == 401 and challenge.strip().lower().startswith("bearer"):
                raise OAuthAuthorizationNeeded(server_url)

    return _ChallengeWatch()


async def stored_auth(config: McpServerConfig, store: OAuthStore) -> httpx2.Auth:
    """The auth a supervised server connects with: its stored grant (refreshed as needed); without one, a
    watch that reports an OAuth challenge as such (no interactive flow starts: no one is there to answer)."""
    assert config.url is not None
    url = config.url
    grant = await store.load(url)
    if grant is None or not grant.usable:
        return challenge_watch(url)

    async def no_one_to_ask(_authorization_url: str) -> None:
        raise OAuthAuthorizationNeeded(url)

    async def never() -> Any:
        raise OAuthAuthorizationNeeded(url)

    return _provider(config, _GrantStorage(store, url, grant), no_one_to_ask, never)


async def interactive_auth(config: McpServerConfig, handlers: OAuthHandlers) -> httpx2.Auth:
    """The auth of an interactive connect: the stored grant if it still works, else a full authorization."""
    from mcp.shared.auth import AuthorizationCodeResult

    assert config.url is not None
    stored = await handlers.store.load(config.url)
    grant = OAuthGrant(handlers.redirect_uri) if stored is None else replace(stored, redirect_uri=handlers.redirect_uri)

    async def callback() -> AuthorizationCodeResult:
        code, state, iss = await handlers.callback()
        return AuthorizationCodeResult(code=code, state=state, iss=iss)

    return _provider(config, _GrantStorage(handlers.store, config.url, grant), handlers.redirect, callback)
