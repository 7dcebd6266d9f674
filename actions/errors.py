"""The libraries' errors, translated once into the one error type users see (`bot.errors.K8orError`).

`cluster`, `k8orize` and `connectors` each have their own root (ClusterError, K8orizeError,
VerificationError) whose `str()` is already a line a person can act on. Actions wrap their library
calls in `translated()`, so a dialog handles one type and nothing escapes as an internal error.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from bot.errors import K8orError
from cluster.errors import ClusterError
from connectors.errors import VerificationError
from k8orize.errors import K8orizeError


class ClusterFailed(K8orError):
    """A cluster operation failed; `cause` is the cluster library's error."""

    def __init__(self, cause: ClusterError) -> None:
        super().__init__(str(cause))
        self.cause = cause


class K8orizeFailed(K8orError):
    """The k8orization engine stopped; `cause` is the engine's error."""

    def __init__(self, cause: K8orizeError) -> None:
        super().__init__(str(cause))
        self.cause = cause


class ServiceRefused(K8orError):
    """A connected service did not accept the person's credentials; `cause` says why and what to do."""

    def __init__(self, cause: VerificationError) -> None:
        super().__init__(str(cause))
        self.cause = cause


def user_error(exc: BaseException) -> K8orError | None:
    """The user-facing error for a library error (itself for a K8orError); None for anything else."""
    if isinstance(exc, K8orError):
        return exc
    if isinstance(exc, ClusterError):
        return ClusterFailed(exc)
    if isinstance(exc, K8orizeError):
        return K8orizeFailed(exc)
    if isinstance(exc, VerificationError):
        return ServiceRefused(exc)
    return None


@asynccontextmanager
async def translated() -> AsyncIterator[None]:
    """`async with translated():` (or `@translated()` on a coroutine function): library errors
    leave as K8orError, chained to the original; any other exception passes unchanged."""
    try:
        yield
    except Exception as exc:
        error = user_error(exc)
        if error is None or error is exc:
            raise
        raise error from exc
