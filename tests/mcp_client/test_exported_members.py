"""The package's public surface, and the rule that it never imports `host`."""

from __future__ import annotations

import subprocess
import sys

import mcp_client


def test_all_names_are_exported() -> None:
    for name in mcp_client.__all__:
        assert hasattr(mcp_client, name), name


def test_importing_mcp_client_does_not_import_host() -> None:
    code = "import sys, mcp_client; assert not any(m == 'host' or m.startswith('host.') for m in sys.modules)"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=mcp_client.__path__[0] + "/..")


def test_importing_mcp_client_does_not_import_the_mcp_sdk() -> None:
    """The SDK is loaded when a server first connects, keeping it off the server's start-up path."""
    code = (
        "import sys, mcp_client; loaded = [m for m in sys.modules if m.split('.')[0] in ('mcp', 'mcp_types')];"
        " assert not loaded, loaded"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=mcp_client.__path__[0] + "/..")
