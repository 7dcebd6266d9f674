"""One small hierarchy of cluster errors, each carrying one clear line a person can act on."""

from __future__ import annotations

import functools
import json
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, ParamSpec, TypeVar

import urllib3.exceptions

if TYPE_CHECKING:  # the Kubernetes client is imported when a cluster call is first made, not at start
    from kubernetes.client.exceptions import ApiException

P = ParamSpec("P")
T = TypeVar("T")


class ClusterError(Exception):
    """Base: `str(err)` is the one line shown to the person."""


class InvalidName(ClusterError):
    """A name that is not a valid DNS-1123 name (refused before any API call)."""


class InvalidInput(ClusterError):
    """An argument that cannot be used (a bad size, a bad volume spec...)."""


class Unauthorized(ClusterError):
    pass


class Forbidden(ClusterError):
    pass


class NotFound(ClusterError):
    pass


class Conflict(ClusterError):
    pass


class Invalid(ClusterError):
    """The API server refused the object (422)."""


class Unreachable(ClusterError):
    pass


class Timeout(ClusterError):
    pass


class TargetError(ClusterError):
    """The cluster target cannot be built: bad kubeconfig, unknown context, EKS lookup failed."""


def _status(exc: ApiException) -> dict[str, object]:
    try:
        body = json.loads(exc.body or "{}")
        return body if isinstance(body, dict) else {}
    except (TypeError, ValueError):
        return {}


def _first_sentence(text: str) -> str:
    return " ".join(text.split())[:300]


def from_api_exception(exc: ApiException, action: str) -> ClusterError:
    """Turn an API error into one line: '<action> failed: <what the API server said>'."""
    status = _status(exc)
    said = status.get("message")
    message = _first_sentence((said if isinstance(said, str) else None) or exc.reason or "")
    code = exc.status or 0
    if code == 401:
        return Unauthorized(f"{action}: the cluster did not accept k8or's credentials (401); sign in again.")
    if code == 403:
        return Forbidden(f"{action}: forbidden by the cluster's RBAC (403): {message}")
    if code == 404:
        return NotFound(f"{action}: not found: {message}")
    if code == 409:
        what = "already exists" if status.get("reason") == "AlreadyExists" else "conflict, try again"
        return Conflict(f"{action}: {what}: {message}")
    if code == 422:
        return Invalid(f"{action}: the API server refused the object: {message}")
    if code in (408, 504) or status.get("reason") == "Timeout":
        return Timeout(f"{action}: the API server timed out: {message}")
    return ClusterError(f"{action}: the API server answered {code}: {message or 'no details'}")


def from_exception(exc: BaseException, action: str) -> ClusterError:
    """Any failure of a client call, mapped onto ClusterError."""
    from kubernetes.client.exceptions import ApiException
    from kubernetes.config.config_exception import ConfigException

    if isinstance(exc, ClusterError):
        return exc
    if isinstance(exc, ApiException):
        return from_api_exception(exc, action)
    if isinstance(exc, urllib3.exceptions.MaxRetryError) and isinstance(
        exc.reason, urllib3.exceptions.ReadTimeoutError
    ):
        exc = exc.reason
    if isinstance(exc, urllib3.exceptions.ReadTimeoutError | socket.timeout | TimeoutError):
        return Timeout(f"{action}: the cluster did not answer in time.")
    if isinstance(
        exc,
        urllib3.exceptions.MaxRetryError
        | urllib3.exceptions.NewConnectionError
        | urllib3.exceptions.ProtocolError
        | ConnectionError,
    ):
        return Unreachable(f"{action}: the cluster is unreachable ({_reason(exc)}).")
    if isinstance(exc, ConfigException):
        return TargetError(f"{action}: {exc}")
    return ClusterError(f"{action}: unexpected error: {type(exc).__name__}: {_first_sentence(str(exc))}")


def _reason(exc: BaseException) -> str:
    inner = getattr(exc, "reason", None) or exc
    text = str(inner)
    if "Connection refused" in text:
        return "connection refused"
    if "timed out" in text:
        return "connection timed out"
    if "Name or service not known" in text or "nodename nor servname" in text:
        return "unknown host"
    return _first_sentence(text)[:120]


@contextmanager
def api_errors(action: str) -> Iterator[None]:
    """`with api_errors("create storage class"):` — client failures become ClusterError."""
    try:
        yield
    except ClusterError:
        raise
    except Exception as exc:  # noqa: BLE001 - every client failure becomes one line
        raise from_exception(exc, action) from exc


def translated(action: str) -> Callable[[Callable[P, T]], Callable[P, T]]:
    """Decorator form of api_errors."""

    def wrap(fn: Callable[P, T]) -> Callable[P, T]:
        @functools.wraps(fn)
        def inner(*args: P.args, **kwargs: P.kwargs) -> T:
            with api_errors(action):
                return fn(*args, **kwargs)

        return inner

    return wrap
