"""Waiting, under a deadline, for state that nothing signals: another process's (the server under test, an
MCP peer, a file it writes) or a background task's. The one polling helper of the suite, in two colours.

    value = wait_until(lambda: status()["pid"], what="the peer to be running")         # threads / sync tests
    await wait_until_async(lambda: pool.status("x").state == "error", what="x to fail")  # anyio tests

``check`` is called until it returns something truthy, which is returned; after ``timeout`` seconds a
``WaitTimeout`` (an ``AssertionError``) names what was awaited. ``what`` may be a callable, evaluated only
then, to describe the last state seen. An exception raised by ``check`` propagates at once (a check can
fail fast, e.g. when the process it waits on died). Prefer a real event (``threading.Event``,
``ScriptedLLM.wait_for_requests``) wherever the code under test can signal one.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

import anyio

T = TypeVar("T")
POLL_S = 0.02
DEFAULT_TIMEOUT_S = 20.0


class WaitTimeout(AssertionError):
    """The awaited condition did not hold within the deadline."""


def _describe(what: str | Callable[[], str]) -> str:
    return what() if callable(what) else what


def wait_until(check: Callable[[], T], *, timeout: float = DEFAULT_TIMEOUT_S,
               what: str | Callable[[], str] = "the condition", poll: float = POLL_S) -> T:
    """Call ``check`` until it returns a truthy value (returned); ``WaitTimeout`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise WaitTimeout(f"timed out after {timeout}s waiting for {_describe(what)}")
        time.sleep(poll)


async def wait_until_async(check: Callable[[], T], *, timeout: float = DEFAULT_TIMEOUT_S,
                           what: str | Callable[[], str] = "the condition", poll: float = POLL_S) -> T:
    """``wait_until`` for async tests: polls with ``anyio.sleep``, so the event loop keeps running."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise WaitTimeout(f"timed out after {timeout}s waiting for {_describe(what)}")
        await anyio.sleep(poll)
