"""Encryption at rest for stored credentials (bring-your-own provider keys): Fernet from ``cryptography``.

The server key comes from ``AGENTHOST_SECRET_KEY`` (a Fernet key: 32 url-safe base64-encoded bytes) or is
generated once into ``<data dir>/secret.key`` with owner-only (0600) permissions. Losing the key makes the
stored provider keys unreadable (they must be entered again); it is never logged or returned.
"""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

logger = logging.getLogger(__name__)

ENV_VAR = "AGENTHOST_SECRET_KEY"
KEY_FILE = "secret.key"


class SecretBoxError(Exception):
    """A stored secret that cannot be decrypted with this server's key."""


class SecretBox:
    def __init__(self, key: bytes) -> None:
        self._fernet = Fernet(key)

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
        return cls(path.read_bytes().strip())

    def encrypt(self, clear: str | None) -> str | None:
        return None if clear is None else self._fernet.encrypt(clear.encode()).decode()

    def decrypt(self, token: str | None) -> str | None:
        if token is None:
            return None
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken:
            raise SecretBoxError("a stored provider key cannot be decrypted with this server's secret key "
                                 f"({ENV_VAR} or {KEY_FILE} changed?)") from None


def _create_key_file(path: Path) -> None:
    """Write a new key to a draft file of its own, then link it into place: the key file appears whole
    or not at all (server workers starting together each try; the first link wins, the others read it)."""
    draft = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(Fernet.generate_key())
        os.link(draft, path)
    except FileExistsError:
        return  # another process made it first
    finally:
        draft.unlink(missing_ok=True)
    logger.info("generated the server secret key at %s (0600)", path)


__all__ = ["SecretBox", "SecretBoxError"]
