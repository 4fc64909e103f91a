"""The ``agenthost`` command: ``serve``, ``mcp`` (stdio) and ``tools run``.

The only place that reads the environment (into ``Settings``) and configures logging.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys

from host.settings import Settings

logger = logging.getLogger("agenthost")


# Loggers whose debug lines carry bound SQL values (stored secrets among them): never below INFO.
_VALUE_LOGGERS = ("aiosqlite",)


def configure_log_scrubbing() -> None:
    """Every log line, whoever writes it (httpx, the MCP SDK, uvicorn, us), shows URLs without their
    userinfo and with query values as ``****``; database drivers never log bound values (docs/security.md)."""
    from mcp_client import install_log_scrubbing

    install_log_scrubbing()
    for name in _VALUE_LOGGERS:
        driver = logging.getLogger(name)
        driver.setLevel(max(driver.getEffectiveLevel(), logging.INFO))


def _settings() -> Settings:
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    return Settings.from_env(os.environ)


def _harden() -> None:
    """Make /proc/<pid>/environ of the server unreadable to other processes of the same (non-root) user,
    so sandboxed tool code cannot read the server's API keys from there. No effect on root readers."""
    if sys.platform.startswith("linux"):
        import ctypes

        try:
            ctypes.CDLL(None, use_errno=True).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE = 4
        except (OSError, AttributeError):
            logger.debug("prctl(PR_SET_DUMPABLE) unavailable")


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    _harden()

    os.environ["AGENTHOST_BIND_HOST"] = args.host  # the Host/Origin guard's default follows the bind address
    settings = _settings()
    settings, generated = settings.with_generated_password()
    if generated:
        # Share it with the workers, and show it once.
        os.environ["LETTA_SERVER_PASSWORD"] = settings.server_password or ""
        print(f"SECURE=true and no LETTA_SERVER_PASSWORD set; generated password: {settings.server_password}",
              flush=True)
    workers = args.workers or settings.workers
    if workers > 1 and not settings.is_postgres:
        logger.warning("LETTA_UVICORN_WORKERS=%d needs Postgres (LETTA_PG_URI); SQLite runs one worker", workers)
        workers = 1
    settings.home.mkdir(parents=True, exist_ok=True)
    if workers > 1:
        uvicorn.run("host.entry:app", factory=True, host=args.host, port=args.port, workers=workers,
                    log_level=args.log_level, access_log=False)
    else:
        from host.entry import build

        uvicorn.run(build(settings), host=args.host, port=args.port, log_level=args.log_level,
                    access_log=False)
    return 0


def _mcp(args: argparse.Namespace) -> int:
    from mcp_server.stdio import main as mcp_main

    _harden()

    return int(mcp_main(args, _settings()))


def _tools_run(args: argparse.Namespace) -> int:
    from host.cli_tools import run_tool_file

    return int(run_tool_file(args, _settings()))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="agenthost", description="Stateful agents and an MCP tool gateway.")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the REST (and MCP over HTTP) server")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8283)
    serve.add_argument("--workers", type=int, default=0, help="default: LETTA_UVICORN_WORKERS or 1")
    serve.add_argument("--log-level", default="info")
    serve.set_defaults(func=_serve)

    mcp = sub.add_parser("mcp", help="serve agents, memory and tools over MCP on stdio (for Claude Desktop)")
    mcp.add_argument("--url", default=None, help="bridge to a running agenthost server instead of the local DB")
    mcp.add_argument("--password", default=None, help="that server's password (default: LETTA_SERVER_PASSWORD)")
    mcp.add_argument("--agent", default=None, help="scope the tool gateway to one agent's tools and rules")
    mcp.add_argument("--log-level", default="warning")
    mcp.set_defaults(func=_mcp)

    tools = sub.add_parser("tools", help="custom tool utilities")
    tools_sub = tools.add_subparsers(dest="tools_command", required=True)
    run = tools_sub.add_parser("run", help="run a tool file in the sandbox, as POST /v1/tools/run does")
    run.add_argument("file", help="a Python file defining the tool function")
    run.add_argument("--args", default="{}", help="JSON object of arguments")
    run.add_argument("--name", default=None, help="the function to call (default: the last one defined)")
    run.add_argument("--env", action="append", default=[], help="KEY=VALUE given to the tool (repeatable)")
    run.add_argument("--pip", action="append", default=[], help="a pip requirement (repeatable)")
    run.add_argument("--timeout", type=float, default=None)
    run.add_argument("--log-level", default="warning")
    run.set_defaults(func=_tools_run)
    args = parser.parse_args(argv)
    # stdout belongs to the MCP protocol under `agenthost mcp`: logs always go to stderr.
    logging.basicConfig(level=getattr(logging, str(args.log_level).upper(), logging.INFO),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    configure_log_scrubbing()
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
