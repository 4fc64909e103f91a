"""The ``.pth`` files a runner's ``site`` leaves out: the start-up hooks of the distribution this server runs
from (``agenthost``).

An editable install of the server (a development checkout, CI) puts ``__editable__.agenthost-<version>.pth``
in its venv, and tools run with the server's interpreter by default. Its import line loads a finder
(``pathlib``, ``re``, ``urllib``...) in every interpreter: about as much CPU as the rest of a runner's boot,
paid by every warm runner, and all it finds is the server's own packages, which are no business of tool code
(under namespaces their sources are not even visible). A regular install has no such file, and nothing is
left out. Every other ``.pth`` file (a tool venv's editable installs included) works as it always does.
"""

from __future__ import annotations

import functools
import importlib.metadata
import logging

logger = logging.getLogger(__name__)

_SERVER_DISTRIBUTION = "agenthost"  # the distribution the sandbox package ships in


@functools.lru_cache(maxsize=1)
def server_pth_files() -> tuple[str, ...]:
    """File names of the ``.pth`` files the server's distribution installed (none for a regular install).

    Every copy of its metadata is read: run from a checkout, the source tree's ``agenthost.egg-info`` (which
    lists no ``.pth``) is found before the installed ``.dist-info`` (which does); none: not installed."""
    files = [f for dist in importlib.metadata.distributions(name=_SERVER_DISTRIBUTION) for f in dist.files or []]
    names = tuple(sorted({f.name for f in files if f.name.endswith(".pth") and "/" not in str(f)}))
    if names:
        logger.debug("tool interpreters start without the server's own site hooks %s", names)
    return names
