"""Heavy imports from several threads at once, as a server's first seconds do them.

Loading the MCP SDK (the ``/mcp`` endpoint, the client pool), warming litellm up, counting tokens (the REST
send routes' context-window check, in a worker thread) and a model call's own wait all import large module
graphs that share dependencies. Imported side by side they once left a module half-initialised, and a turn
failed with "partially initialized module 'httpx2' has no attribute 'Timeout'". Each case runs in a fresh
interpreter (nothing imported yet), all threads released at once; no two threads may import those libraries'
modules side by side.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent("""
    import asyncio, sys, threading
    from mcp_client import load_sdk
    from host import llm
    from host.llm import ChatMessage, count_tokens

    barrier = threading.Barrier(4)
    errors = []
    fresh = []  # (thread, module) for every first import of a heavy library's module, in order

    class Spy:
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in HEAVY and name not in sys.modules:
                fresh.append((threading.current_thread().name, name))
            return None

    HEAVY = {"litellm", "mcp", "mcp_types", "httpx2", "httpcore2", "openai", "tiktoken"}
    sys.meta_path.insert(0, Spy())

    def run(fn):
        def body():
            barrier.wait()
            try:
                fn()
            except BaseException as exc:
                errors.append(f"{fn.__name__}: {type(exc).__name__}: {exc}")
        return threading.Thread(target=body)

    def count():
        assert count_tokens("gpt-4o-mini", [ChatMessage(role="user", content="hello there")]) > 0

    def wait_in_a_loop():
        from host.llm.client import after_warm_up; asyncio.run(after_warm_up())
        import litellm
        assert litellm.completion

    threads = [run(load_sdk), run(llm.warm_up), run(count), run(wait_in_a_loop)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    import mcp.shared._httpx_utils, httpx2
    assert httpx2.Timeout
    # one library at a time: once another thread has imported, a thread that imported before never again does
    runs = [fresh[0][0]] if fresh else []
    for thread, _ in fresh[1:]:
        if thread != runs[-1]:
            runs.append(thread)
    if len(runs) != len(set(runs)):
        errors.append(f"heavy imports interleaved across threads: {runs}")
    print("ERRORS", errors)
    sys.exit(1 if errors else 0)
""")


def test_the_mcp_sdk_litellm_and_the_tokenizer_load_one_at_a_time() -> None:
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
    assert "ERRORS []" in done.stdout
