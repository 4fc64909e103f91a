"""Routes of this area (being written)."""

from __future__ import annotations

from host.api.routing import SlashRouter

router = SlashRouter()
