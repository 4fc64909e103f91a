"""Test support: fakes and servers shared by tests and benchmarks.

Names are imported lazily so that `python -m tests.support.scripted_llm` runs without a runpy warning.
"""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tests.support.scripted_llm import ScriptedLLM, ScriptQueue, embed_text

__all__ = ["ScriptQueue", "ScriptedLLM", "embed_text"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from tests.support import scripted_llm

        return getattr(scripted_llm, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
