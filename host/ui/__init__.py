"""The built-in web UI (agenthost's ADE): static ES modules served by the host itself.

``mount(app)`` serves the UI shell at ``/`` and at the UI's own paths (``/agents``, ``/agents/{id}``),
its assets under ``/ui/``, and points ``/docs`` and ``/redoc`` at vendored copies of swagger-ui-dist and
redoc (no CDN). The UI is a client of the public REST API only; nothing here reads services.
"""

from host.ui.router import STATIC_DIR, mount

__all__ = ["STATIC_DIR", "mount"]
