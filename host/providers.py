"""Moved to `host.llm.providers` and `host.llm.registry`; this name stays for code written against it."""

from host.llm.providers import *  # noqa: F401,F403
from host.llm.providers import __all__ as _config_names
from host.llm.registry import ProviderRegistry  # noqa: F401

__all__ = [*_config_names, "ProviderRegistry"]
