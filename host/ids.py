"""Ids in Letta's format: ``<prefix>-<uuid4>``, and the constant default user and organisation."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

DEFAULT_USER_ID = "user-00000000-0000-4000-8000-000000000000"
DEFAULT_ORG_ID = "org-00000000-0000-4000-8000-000000000000"


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4()}"


def utcnow() -> datetime:
    """Naive UTC, second precision kept by the database; Letta serialises timestamps without offset."""
    return datetime.now(UTC).replace(tzinfo=None)
