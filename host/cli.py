"""The ``agenthost`` command: ``serve``, ``mcp`` (stdio) and ``tools run``.

The only place that reads the environment (into ``Settings``) and configures logging (``host.logs``).

Every bad input is one line on stderr and a non-zero exit, never a traceback:
exit 2 for a bad command line or environment (argparse's convention), exit 1 when the server cannot
start (data directory in use or unusable, port in use, unparsable ``mcp_config.json``).

``serve`` order, so that a process which cannot serve never touches shared state: settings → the data
directory lock (SQLite) → the listening socket → the app (database, recovery, MCP servers, workers).
With ``--workers N`` (N > 1) the app is built in each of N worker processes (uvicorn's supervisor); this
process keeps the data directory lock and the socket for them, on SQLite as on Postgres.
"""

from __future__ import annotations

import argparse
import logging
import os
import socket
import sys
from dataclasses import replace
from typing import Any, NoReturn

from host.logs import FORMATS, LEVELS, configure
from host.settings import Settings
from host.version import __version__

logger = logging.getLogger("agenthost")

EXIT_USAGE = 2
EXIT_CANNOT_START = 1


class CliError(Exception):
    """A one-line, user-facing reason to stop; ``code`` is the exit status."""

    def __init__(self, message: str, code: int = EXIT_CANNOT_START) -> None:
        super().__init__(message)
        self.code = code


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (the usage itself is behind --help)."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


class _Help(argparse.ArgumentDefaultsHelpFormatter):
    def __init__(self, prog: str) -> None:
        super().__init__(prog, max_help_position=32)


def _port(raw: str) -> int:
    try:
        port = int(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{raw!r} is not a port number (1-65535)") from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is out of range (1-65535)")
    return port


def _positive_int(raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{raw!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{value} must be 0 or more")
    return value


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
    try:
        return Settings.from_env(os.environ)
    except ValueError as exc:
        raise CliError(f"bad environment: {exc}", EXIT_USAGE) from None


def _harden() -> None:
    """Make /proc/<pid>/environ of the server unreadable to other processes of the same (non-root) user,
    so sandboxed tool code cannot read the server's API keys from there. No effect on root readers."""
    if sys.platform.startswith("linux"):
        import ctypes

        try:
            ctypes.CDLL(None, use_errno=True).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE = 4
        except (OSError, AttributeError):
            logger.debug("prctl(PR_SET_DUMPABLE) unavailable")


def listen(host: str, port: int, *, reuse_port: bool = False) -> socket.socket:
    """Bind and listen now, before any start-up work; uvicorn serves on this socket once the app is up
    (connections made meanwhile wait in the backlog). ``reuse_port``: one of several sockets on the port, one
    per worker (``host.workers``)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        infos = socket.getaddrinfo(host, port, family, socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise CliError(f"cannot listen on {host}:{port}: unknown host ({exc.strerror})") from None
    # proto must be IPPROTO_TCP (not 0): asyncio sets TCP_NODELAY only on accepted sockets whose proto says
    # TCP. Without it a response written as headers then body waited ~40 ms for the client's delayed ACK
    # (Nagle) on every keep-alive request after the first.
    sock = socket.socket(infos[0][0], socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if reuse_port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind(infos[0][4])
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        hint = "another server is using it; stop it or pick another --port" if exc.errno == 98 else exc.strerror
        raise CliError(f"cannot listen on {host}:{port}: {hint}") from None
    sock.set_inheritable(True)  # uvicorn's worker processes (LETTA_UVICORN_WORKERS) serve on it too
    return sock


def _check_mcp_config(settings: Settings) -> None:
    path = settings.resolved_mcp_config_path
    if not path.exists():
        return
    from mcp_client import load_config

    config = load_config(path, os.environ)
    if config.error:
        raise CliError(f"{config.error}; fix the file (or move it away) and start again")


def _claim_data_dir(settings: Settings) -> Any:
    """SQLite: the exclusive lock (held until exit). Postgres: several servers may share the database;
    the directory only has to be usable."""
    from host.datadir_lock import DataDirError, DataDirLock

    if settings.home.exists() and not settings.home.is_dir():
        raise CliError(f"the data directory {settings.home} is not a directory; set LETTA_DIR to a directory")
    if settings.is_postgres:
        try:
            settings.home.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise CliError(f"cannot use the data directory {settings.home}: {exc.strerror}") from None
        if not os.access(settings.home, os.R_OK | os.W_OK | os.X_OK):
            raise CliError(f"cannot use the data directory {settings.home}: permission denied")
        return None
    try:
        return DataDirLock(settings.home).acquire()
    except DataDirError as exc:
        raise CliError(str(exc)) from None


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    _harden()
    os.environ["AGENTHOST_BIND_HOST"] = args.host  # the Host/Origin guard's default follows the bind address
    settings = _settings()
    lock = _claim_data_dir(settings)  # noqa: F841 - held for the life of the process
    from host.api.host_guard import is_loopback_name

    if not is_loopback_name(args.host) and not settings.secure:
        sys.stderr.write(f"agenthost serve: warning: --host {args.host} without a password: anyone who can reach "
                         "this port can run agents and tool code as this user; set SECURE=true (and "
                         "LETTA_SERVER_PASSWORD)\n")
    sock = listen(args.host, args.port)
    _check_mcp_config(settings)
    settings, generated = settings.with_generated_password()
    if generated:
        # Share it with the workers, and show it once.
        os.environ["LETTA_SERVER_PASSWORD"] = settings.server_password or ""
        print(f"SECURE=true and no LETTA_SERVER_PASSWORD set; generated password: {settings.server_password}",
              flush=True)
    workers = args.workers or settings.workers
    # The workers read their settings from the environment: each must know it has siblings on the database
    # (on SQLite: agent locks across processes, no recovery of a sibling's live runs; Database.shared).
    os.environ["LETTA_UVICORN_WORKERS"] = str(workers)
    settings = replace(settings, workers=workers)
    # httptools parses HTTP (a dependency: about 1 ms of CPU less per request than h11). The loop stays
    # asyncio's: uvloop's subprocesses refuse ``user``/``group``, which the sandbox needs as root without bwrap.
    common: dict[str, Any] = {"log_config": None, "log_level": args.log_level, "access_log": False,
                              "loop": "asyncio", "http": "httptools"}
    logger.info("agenthost %s listening on http://%s:%d (data in %s)", __version__, args.host, args.port,
                settings.home)
    if workers > 1:
        from host.workers import SocketPerWorker

        # The first bind (no SO_REUSEPORT) proved the port free and said so if not; each worker now gets a
        # socket of its own on it, so the kernel spreads connections over them (host.workers).
        sock.close()
        sockets = [listen(args.host, args.port, reuse_port=True) for _ in range(workers)]
        config = uvicorn.Config("host.entry:app", factory=True, workers=workers, **common)
        SocketPerWorker(config, sockets).run()
        return 0
    from host.entry import build

    server = uvicorn.Server(uvicorn.Config(build(settings), **common))
    server.run(sockets=[sock])
    return 0 if server.started else EXIT_CANNOT_START


def _mcp(args: argparse.Namespace) -> int:
    from mcp_server.stdio import main as mcp_main

    _harden()
    settings = _settings()
    if not args.url:
        # Beside a running `serve` on the same data: this process never recovers what it did not start.
        settings = replace(settings, recover_interrupted=False)
    return int(mcp_main(args, settings))


def _tools_run(args: argparse.Namespace) -> int:
    from host.cli_tools import run_tool_file

    return int(run_tool_file(args, _settings()))


def _log_flags(parser: argparse.ArgumentParser, default_level: str) -> None:
    parser.add_argument("--log-level", default=default_level, choices=LEVELS, metavar="LEVEL",
                        help=f"one of {', '.join(LEVELS)}")
    parser.add_argument("--log-format", default="text", choices=FORMATS, help="text lines or one JSON object a line")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="agenthost", description="Stateful agents and an MCP tool gateway, speaking Letta's "
                     "REST API. Data lives in LETTA_DIR (default ~/.letta).", formatter_class=_Help)
    parser.add_argument("--version", action="version", version=f"agenthost {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)
    serve = sub.add_parser("serve", help="run the REST (and MCP over HTTP) server", formatter_class=_Help,
                           description="Run the REST API (Letta's routes) and MCP over HTTP at /mcp. One server "
                           "per data directory on SQLite; with LETTA_PG_URI several may share Postgres.")
    serve.add_argument("--host", default="127.0.0.1",
                       help="address to listen on; anything but loopback needs SECURE=true")
    serve.add_argument("--port", type=_port, default=8283, help="TCP port to listen on")
    serve.add_argument("--workers", type=_positive_int, default=0,
                       help="worker processes (on SQLite too); 0 means LETTA_UVICORN_WORKERS or 1")
    _log_flags(serve, "info")
    serve.set_defaults(func=_serve)

    mcp = sub.add_parser("mcp", help="serve agents, memory and tools over MCP on stdio (for Claude Desktop)",
                         formatter_class=_Help)
    mcp.add_argument("--url", default=None, help="bridge to a running agenthost server instead of the local DB")
    mcp.add_argument("--password", default=None, help="that server's password (default: LETTA_SERVER_PASSWORD)")
    mcp.add_argument("--agent", default=None, help="scope the tool gateway to one agent's tools and rules")
    _log_flags(mcp, "warning")
    mcp.set_defaults(func=_mcp)

    tools = sub.add_parser("tools", help="custom tool utilities", formatter_class=_Help)
    tools_sub = tools.add_subparsers(dest="tools_command", required=True, metavar="COMMAND", parser_class=_Parser)
    run = tools_sub.add_parser("run", help="run a tool file in the sandbox, as POST /v1/tools/run does",
                               formatter_class=_Help)
    run.add_argument("file", help="a Python file defining the tool function")
    run.add_argument("--args", default="{}", help="JSON object of arguments")
    run.add_argument("--name", default=None, help="the function to call (default: the last one defined)")
    run.add_argument("--env", action="append", default=[], help="KEY=VALUE given to the tool (repeatable)")
    run.add_argument("--pip", action="append", default=[], help="a pip requirement (repeatable)")
    run.add_argument("--timeout", type=float, default=None, help="seconds (default: the sandbox's own limit)")
    _log_flags(run, "warning")
    run.set_defaults(func=_tools_run)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    configure(args.log_level, args.log_format)
    configure_log_scrubbing()
    try:
        return int(args.func(args))
    except CliError as exc:
        prog = f"agenthost {args.command}" + (f" {args.tools_command}" if args.command == "tools" else "")
        sys.stderr.write(f"{prog}: error: {exc}\n")
        return exc.code
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
