"""The host's exception tree. Mapped to HTTP in exactly one place (``host.api.errors``).

    HostError
    ├── NotFoundError          404  an id or name that does not exist, in the path or named in the body
    │                               (as Letta answers, on create and on modify alike)
    ├── ConflictError          409  a unique name already taken
    ├── InvalidRequestError    422  a body that parses but makes no sense (over-limit block, bad rule...)
    ├── BadRequestError        400  a request we cannot act on (bad file, unsupported option)
    ├── AuthError              401  a missing or wrong password
    ├── ForbiddenError         403  a user key asking to act as someone else, or for an admin route
    ├── BusyError              409  the agent is already running a turn that cannot be joined
    ├── RunTakenOverError      409  this process's run was claimed or closed by another (its lease lapsed)
    ├── TooLargeError          413  a message or turn over a configured size limit (names the limit)
    └── UpstreamError          502  a provider (LLM, embedding, E2B...) failed; carries its message
"""

from __future__ import annotations


class HostError(Exception):
    status_code = 500

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class NotFoundError(HostError):
    status_code = 404

    @classmethod
    def for_id(cls, kind: str, ident: str) -> NotFoundError:
        return cls(f"{kind} with ID {ident} not found")

    @classmethod
    def unknown_id(cls, kind: str, ident: str) -> NotFoundError:
        """An id the request body names that does not exist."""
        return cls(f"{kind} with ID {ident} not found (named in the request body)")


class ConflictError(HostError):
    status_code = 409


class InvalidRequestError(HostError):
    status_code = 422


class BadRequestError(HostError):
    status_code = 400


class AuthError(HostError):
    status_code = 401


class ForbiddenError(HostError):
    status_code = 403


class BusyError(HostError):
    status_code = 409


class RunTakenOverError(HostError):
    """A turn found its run no longer this process's: the run's lease lapsed (the process stalled) and
    another server claimed it to run again, or closed it. The turn stops without writing anything more."""

    status_code = 409

    @classmethod
    def for_run(cls, run_id: str) -> RunTakenOverError:
        return cls(f"Run {run_id} is no longer this server's: its lease lapsed and another server process "
                   "took it over or closed it")


class TooLargeError(HostError):
    status_code = 413


class UpstreamError(HostError):
    status_code = 502

    def __init__(self, detail: str, *, provider_status: int | None = None) -> None:
        super().__init__(detail)
        self.provider_status = provider_status
