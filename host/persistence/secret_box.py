"""Encryption at rest for stored credentials (bring-your-own provider keys): Fernet from ``cryptography``.

``cryptography`` (about 6 MB of memory) is imported on the first encryption or decryption: a server that
never stores a credential never loads it. The key's format is checked when the box opens (Fernet's own rule:
32 bytes in url-safe base64), so a bad key still stops the server at start-up.

The server key comes from ``AGENTHOST_SECRET_KEY`` (a Fernet key: 32 url-safe base64-encoded bytes) or is
generated once into ``<data dir>/secret.key`` with owner-only (0600) permissions. Losing the key makes the
stored provider keys unreadable (they must be entered again); it is never logged or returned.
"""

from __future__ import annotations

import base64
import binascii
import functools
import logging
import os
import secrets
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cryptography.fernet import Fernet

logger = logging.getLogger(__name__)

ENV_VAR = "AGENTHOST_SECRET_KEY"
KEY_FILE = "secret.key"


class SecretBoxError(Exception):
    """A stored secret that cannot be decrypted with this server's key."""


class SecretBox:
    def __init__(self, key: bytes) -> None:
        """``key``: a Fernet key (ValueError otherwise, as ``Fernet`` itself raises)."""
        try:
            raw = base64.urlsafe_b64decode(key)
        except (binascii.Error, ValueError):
            raw = b""
        if len(raw) != 32:
            raise ValueError("Fernet key must be 32 url-safe base64-encoded bytes.")
        self._key = key

    @functools.cached_property
    def _fernet(self) -> Fernet:
        from cryptography.fernet import Fernet

        return Fernet(self._key)

    @classmethod
    def open(cls, home: Path, env: dict[str, str] | None = None) -> SecretBox:
        env = dict(os.environ) if env is None else env
        configured = (env.get(ENV_VAR) or "").strip()
        if configured:
            try:
                return cls(configured.encode())
            except ValueError as exc:
                raise SecretBoxError(f"{ENV_VAR} is not a Fernet key (32 url-safe base64 bytes): {exc}") from None
        path = home / KEY_FILE
        if not path.exists():
            home.mkdir(parents=True, exist_ok=True)
            _create_key_file(path)
        try:
            return cls(path.read_bytes().strip())
        except ValueError as exc:
            raise SecretBoxError(f"{path} does not hold a Fernet key (32 url-safe base64 bytes): {exc}") from None

    def encrypt(self, clear: str | None) -> str | None:
        return None if clear is None else self._fernet.encrypt(clear.encode()).decode()

    def decrypt(self, token: str | None) -> str | None:
        if token is None:
            return None
        from cryptography.fernet import InvalidToken

        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken:
            raise SecretBoxError("a stored provider key cannot be decrypted with this server's secret key "
                                 f"({ENV_VAR} or {KEY_FILE} changed?)") from None


def _new_key() -> bytes:
    """A new Fernet key: what ``Fernet.generate_key()`` returns (32 random bytes, url-safe base64), without
    importing ``cryptography`` for it; ``SecretBox`` checks it like any key, and Fernet uses it."""
    return base64.urlsafe_b64encode(secrets.token_bytes(32))


def _create_key_file(path: Path) -> None:
    """Write a new key to a draft file of its own, then link it into place: the key file appears whole
    or not at all (server workers starting together each try; the first link wins, the others read it)."""
    draft = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(_new_key())
        os.link(draft, path)
    except FileExistsError:
        return  # another process made it first
    finally:
        draft.unlink(missing_ok=True)
    logger.info("generated the server secret key at %s (0600)", path)


__all__ = ["SecretBox", "SecretBoxError"]
