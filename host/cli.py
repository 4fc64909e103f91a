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


def _settings() -> Settings:
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    return Settings.from_env(os.environ)


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

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
        from host.app import create_app

        uvicorn.run(create_app(settings), host=args.host, port=args.port, log_level=args.log_level,
                    access_log=False)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="agenthost", description="Stateful agents and an MCP tool gateway.")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the REST (and MCP over HTTP) server")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8283)
    serve.add_argument("--workers", type=int, default=0, help="default: LETTA_UVICORN_WORKERS or 1")
    serve.add_argument("--log-level", default="info")
    serve.set_defaults(func=_serve)
    args = parser.parse_args(argv)
    logging.basicConfig(level=getattr(logging, str(args.log_level).upper(), logging.INFO) if hasattr(args, "log_level")
                        else logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
