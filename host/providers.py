"""Moved to `host.llm.providers`; this name stays for code written against it."""

from host.llm.providers import *  # noqa: F401,F403
from host.llm.providers import __all__  # noqa: F401
