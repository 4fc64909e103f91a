"""The child side of a sandbox run: one job in, one result out, then exit.

This file is executed as a script by an interpreter that is not the server's
(``python -I -S _runner.py --result-fd N --limits JSON [--drop-to UID:GID] --site HIDDEN [--warm]``,
inside bubblewrap when namespaces work) and, for E2B, its source
is sent as code into the remote kernel.  It must therefore import nothing but
the standard library and must never import the ``sandbox`` package.

Protocol (local backend):

1. At start-up the runner applies resource limits (``resource.setrlimit``),
   switches to the unprivileged uid/gid when asked (``--drop-to``), runs
   ``site`` without the ``.pth`` files named by ``--site`` (see ``_site``) and
   blocks reading the result channel (``--result-fd``, a socket).  A
   warm-pool process sits here, having imported nothing of any tool.
2. The parent writes ONE JSON job to that channel and shuts its sending side::

       {"source_code": str, "function_name": str, "args": {...},
        "env": {...}, "agent_state": {...} | null}

3. The runner applies ``env`` to ``os.environ``, ``exec``s the source in a
   fresh namespace, calls the function with ``**args`` (awaiting coroutines),
   closes its stdout and stderr (the tool's output is complete), and writes ONE
   JSON result and a newline to the dedicated result fd (not stdout, so the
   tool's prints cannot corrupt it)::

       {"status": "success"|"error", "func_return": ..., "error": str|null,
        "agent_state": {...}|null}

   JSON escapes newlines, so the first newline ends the result: the
   parent reads it without waiting for the channel's EOF, which would come
   only once this process and bubblewrap's around it have exited.

The arguments are data decoded from JSON; they are never part of the code
that is compiled.
"""

from __future__ import annotations

import os
import sys

# Every interpreter of the warm pool boots this file, and a burst of calls drains the pool as fast as
# interpreters boot: import here only what every call needs. ``ast`` (a source without a function
# name), ``inspect`` (callables that are not plain functions), ``traceback`` (a failing tool) and
# ``asyncio`` (an async tool) are imported by the calls that need them.
TYPE_CHECKING = False
if TYPE_CHECKING:
    import ast
    from typing import Any

# JSON goes through ``_json``, the C engine of the ``json`` module, called the way ``json.loads`` and
# ``json.dumps`` call it. ``import json`` itself costs about 10 ms of a 20 ms boot (it imports ``re``, which
# imports ``enum``, ``functools`` and ``collections``); the ``json`` module is imported only for what the
# engine alone does not cover: input that is not compact, well-formed UTF-8 JSON (``json.loads`` then says
# what is wrong with it), and interpreters built without ``_json``. A warm runner left idle imports it anyway,
# off the calls' path (``_preload_while_idle``).
try:
    import _json
except ImportError:  # pragma: no cover - every CPython build has it
    _json = None


class _Decoding:
    """The settings ``_json.make_scanner`` reads, as a ``json.JSONDecoder()`` has them."""

    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int
    parse_constant = {"-Infinity": float("-inf"), "Infinity": float("inf"), "NaN": float("nan")}.__getitem__


# typeshed types the context as a JSONDecoder: any object with these attributes does.
_SCAN = _json.make_scanner(_Decoding()) if _json is not None else None  # pyright: ignore[reportArgumentType]


def _loads(data: str | bytes) -> Any:
    """``json.loads(data)``."""
    if _SCAN is not None:
        try:
            text = data.decode("utf-8") if isinstance(data, bytes) else data
            value, end = _SCAN(text, 0)
            if end == len(text) or not text[end:].strip(" \t\n\r"):
                return value
        except (StopIteration, ValueError):
            pass  # json.loads below raises the error that says what is wrong
    import json

    return json.loads(data)


def _not_serializable(value: Any) -> Any:
    raise TypeError(f"Object of type {value.__class__.__name__} is not JSON serializable")


def _dumps(value: Any) -> str:
    """``json.dumps(value, allow_nan=False)``: ASCII, the default separators, circular references refused."""
    if _json is None:
        import json

        return json.dumps(value, allow_nan=False)
    encode = _json.make_encoder({}, _not_serializable, _json.encode_basestring_ascii, None, ": ", ", ",
                                False, False, False)
    return "".join(encode(value, 0))

_TOOL_FILENAME = "<tool>"
READY_BYTE = b"\x06"


class _Block:
    """A memory block as tool code sees it (a subset of Letta's ``Block``)."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.label: str = data["label"]
        self.value: str = data.get("value", "")
        self.limit: int | None = data.get("limit")
        self.description: str | None = data.get("description")
        self.read_only: bool = bool(data.get("read_only", False))

    def dump(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "value": self.value,
            "limit": self.limit,
            "description": self.description,
            "read_only": self.read_only,
        }


class _Memory:
    """Enough of Letta's ``Memory`` for typical custom tools."""

    def __init__(self, blocks: list[dict[str, Any]]) -> None:
        self.blocks: list[_Block] = [_Block(b) for b in blocks]

    def get_block(self, label: str) -> _Block:
        for block in self.blocks:
            if block.label == label:
                return block
        raise KeyError(f"Block field {label} does not exist (available sections = {self.list_block_labels()})")

    def list_block_labels(self) -> list[str]:
        return [b.label for b in self.blocks]

    def update_block_value(self, label: str, value: str) -> None:
        if not isinstance(value, str):
            raise ValueError("Provided value must be a string")
        block = self.get_block(label)
        if block.read_only:
            raise ValueError(f"Block {label} is read-only")
        if block.limit is not None and len(value) > block.limit:
            raise ValueError(f"Value of {len(value)} characters exceeds the limit of {block.limit} for block {label}")
        block.value = value

    def compile(self) -> str:
        return "\n".join(f"<{b.label}>\n{b.value}\n</{b.label}>" for b in self.blocks)


class _AgentState:
    """Enough of Letta's ``AgentState`` for typical custom tools."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.id: str = data["id"]
        self.name: str = data.get("name", "")
        self.memory = _Memory(data.get("blocks", []))

    def dump(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "blocks": [b.dump() for b in self.memory.blocks]}


def _pick_function(tree: ast.Module, function_name: str) -> str:
    if function_name:
        return function_name
    import ast

    names = [n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
    if not names:
        raise LookupError("the tool source defines no top-level function")
    return names[-1]


def _compile(source: str, function_name: str) -> tuple[Any, str]:
    """The tool's code object and the function to call (the last top-level def when no name is given)."""
    if function_name:
        return compile(source, _TOOL_FILENAME, "exec"), function_name
    import ast

    tree = ast.parse(source, filename=_TOOL_FILENAME)
    return compile(tree, _TOOL_FILENAME, "exec"), _pick_function(tree, function_name)


def _takes(func: Any, name: str) -> bool:
    """Whether ``func`` has a parameter ``name`` (``inspect.signature``, without importing inspect for plain
    functions)."""
    code = getattr(func, "__code__", None)
    plain = type(func) is type(_takes) and not hasattr(func, "__wrapped__") and not hasattr(func, "__signature__")
    if plain and code is not None:
        return name in code.co_varnames[: code.co_argcount + code.co_kwonlyargcount]
    import inspect

    try:
        return name in inspect.signature(func).parameters
    except (TypeError, ValueError):
        return False


def _is_awaitable(value: Any) -> bool:
    """``inspect.isawaitable`` without importing inspect: coroutines, futures, ``__await__`` implementations and
    generator-based coroutines (``types.coroutine``)."""
    if hasattr(type(value), "__await__"):
        return True
    gi_code = getattr(value, "gi_code", None)
    return gi_code is not None and bool(gi_code.co_flags & 0x100)  # CO_ITERABLE_COROUTINE


def _await(awaitable: Any) -> Any:
    """Run a coroutine to completion, even where a loop is already running (Jupyter)."""

    import asyncio  # ~30-40 ms to import (it loads ssl): only async tools pay it
    import threading

    async def wrap() -> Any:
        return await awaitable

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(wrap())
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = asyncio.run(wrap())
        except BaseException as exc:  # re-raised in the caller's thread
            box["error"] = exc

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    return box.get("value")


def _jsonable(value: Any) -> Any:
    try:
        _dumps(value)
        return value
    except (TypeError, ValueError):
        return str(value)


def _describe(exc: BaseException) -> str:
    message = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, ModuleNotFoundError):
        message += " (add the package to the tool's pip_requirements, or install it in the sandbox venv)"
    return message


def run_job(job: dict[str, Any]) -> dict[str, Any]:
    """Execute one job; never raises (tool failures are data)."""
    agent_state = _AgentState(job["agent_state"]) if job.get("agent_state") else None
    passed_state = False
    try:
        code, name = _compile(job["source_code"], job.get("function_name") or "")
        namespace: dict[str, Any] = {"__name__": "__sandbox_tool__", "__builtins__": __builtins__}
        exec(code, namespace)
        func = namespace.get(name)
        if not callable(func):
            raise LookupError(f"the tool source defines no function named {name!r}")
        kwargs = dict(job.get("args") or {})
        if _takes(func, "agent_state"):
            kwargs["agent_state"] = agent_state
            passed_state = agent_state is not None
        value = func(**kwargs)
        if _is_awaitable(value):
            value = _await(value)
        return {
            "status": "success",
            "func_return": _jsonable(value),
            "error": None,
            "agent_state": agent_state.dump() if passed_state and agent_state else None,
        }
    except BaseException as exc:  # a tool may raise SystemExit or KeyboardInterrupt too
        import traceback

        tb = traceback.format_exc()
        try:
            sys.stderr.write(tb)
            sys.stderr.flush()
        except Exception:
            pass
        return {
            "status": "error",
            "func_return": None,
            "error": _describe(exc),
            "traceback": tb,
            "agent_state": None,
        }


def _apply_limits(limits: dict[str, int]) -> None:
    import resource

    table = {
        "cpu_seconds": resource.RLIMIT_CPU,
        "memory_bytes": resource.RLIMIT_AS,
        "file_size_bytes": resource.RLIMIT_FSIZE,
        "max_processes": resource.RLIMIT_NPROC,
    }
    for key, which in table.items():
        value = limits.get(key)
        if value:
            hard = value + 1 if which == resource.RLIMIT_CPU else value  # SIGXCPU at soft, SIGKILL at hard
            resource.setrlimit(which, (value, hard))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _drop_privileges(spec: str) -> None:
    """Become ``uid:gid`` for good (the server is root; bubblewrap left only CAP_SETUID/SETGID)."""
    uid, gid = (int(x) for x in spec.split(":"))
    os.setgroups([])
    os.setresgid(gid, gid, gid)
    os.setresuid(uid, uid, uid)
    if os.getuid() != uid or os.geteuid() != uid or os.getgid() != gid:
        raise SystemExit(f"could not switch to uid {uid}, gid {gid}")
    try:
        os.setuid(0)
    except PermissionError:
        return
    raise SystemExit("still able to become root after dropping privileges")


def _site(hidden: set[str]) -> None:
    """What ``site`` does at start-up, run here (the interpreter starts with ``-S``) so that the ``.pth`` files
    named in ``hidden`` are left out: the server's own editable-install hook, which would cost every runner's
    boot more than the rest of ``site`` together and only finds the server's own packages. Everything else is
    as ``site`` always does it: the venv's ``sys.prefix``, its site-packages, every other ``.pth`` file (path
    lines and import lines), ``sitecustomize``, ``exit``/``help``."""
    import site

    add = site.addpackage

    def addpackage(sitedir: str, name: str, known_paths: Any) -> Any:
        return known_paths if name in hidden else add(sitedir, name, known_paths)

    site.addpackage = addpackage
    try:
        site.main()
    finally:
        site.addpackage = add


# How long a warm runner waits for its job before it imports ``json`` meanwhile (see ``_preload_while_idle``).
IDLE_PRELOAD_S = 0.5


def _preload_while_idle(fd: int) -> None:
    """A warm runner that waits for its job longer than a moment imports ``json`` (and with it ``re``,
    ``enum``, ``functools``, ``collections``) meanwhile: tools that import anything mostly import these,
    directly or through what they import, and a pool that refills ahead of demand then has them loaded, off
    the calls' path. A runner taken as soon as it is up (a burst, which the pool can keep up with only as
    fast as interpreters boot) has not spent the ~10 ms of CPU, and a tool that needs them imports them."""
    import select

    waiting = select.poll()
    waiting.register(fd, select.POLLIN)
    if not waiting.poll(IDLE_PRELOAD_S * 1000):
        import json  # noqa: F401


def _read_all(fd: int) -> bytes:
    """The job: everything the server sends on the result channel before it shuts its side."""
    chunks = []
    while chunk := os.read(fd, 1 << 16):
        chunks.append(chunk)
    return b"".join(chunks)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def main(argv: list[str]) -> int:
    if "--stdio-fds" in argv:  # stdout/stderr on channels only this process tree holds (not bwrap)
        for target, fd in zip((1, 2), (int(x) for x in argv[argv.index("--stdio-fds") + 1].split(",")), strict=False):
            os.dup2(fd, target)
            os.close(fd)
    result_fd = int(argv[argv.index("--result-fd") + 1])
    limits = _loads(argv[argv.index("--limits") + 1])
    _apply_limits(limits)
    if "--drop-to" in argv:  # before anything of the tool is even read
        _drop_privileges(argv[argv.index("--drop-to") + 1])
    if "--site" in argv:  # started with -S: site runs here, as the tool's uid, within the limits
        _site({name for name in argv[argv.index("--site") + 1].split(",") if name})
    # The first compile() of a process builds the compiler's AST types (about 1 ms, what ``import ast`` used
    # to pay here): before the job, not during it.
    compile("", _TOOL_FILENAME, "exec")
    if "--warm" in argv:
        # Nothing else is preloaded (asyncio would double a warm runner's start-up CPU and memory, and the pool
        # refills during bursts): async tools import it on their call, like any cold runner.
        _write_all(result_fd, READY_BYTE)  # tells the pool this interpreter is fully up
        _preload_while_idle(result_fd)
    os.set_inheritable(result_fd, False)  # grandchildren must not hold the result channel
    job = _loads(_read_all(result_fd))
    os.environ.update({str(k): str(v) for k, v in (job.get("env") or {}).items()})
    me = os.getpid()
    result = run_job(job)
    if os.getpid() != me:  # a process the tool forked returned here: only the runner answers
        os._exit(0)
    result.pop("traceback", None)
    try:
        payload = _dumps(result)
    except (TypeError, ValueError) as exc:  # agent_state values a tool set to non-strings
        payload = _dumps({"status": "error", "func_return": None, "error": f"unserialisable result: {exc}", "agent_state": None})
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            pass
    for fd in (1, 2):  # the output is complete: its EOF need not wait for this process's exit
        try:
            os.close(fd)
        except OSError:
            pass
    _write_all(result_fd, payload.encode("utf-8") + b"\n")
    os.close(result_fd)
    # The parent kills the process tree as soon as the result channel closes; skipping
    # interpreter finalisation saves ~10 ms (tool atexit handlers do not run).
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
