"""One small hierarchy of cluster errors, each carrying one clear line a person can act on."""

from __future__ import annotations

import functools
import json
import re
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


# Server-side apply of a field the schema does not declare: a real API server answers 500 with this
# plain error (structuredmerge.go; an upstream bug, kubernetes/kubernetes#122480).
_TYPED_PATCH = re.compile(
    r"failed to create typed patch object "
    r"\((?P<ns>[^/;]*)/(?P<name>[^;]*); [^)]*Kind=(?P<kind>\w+)\): (?P<rest>.*)",
    re.S,
)
_UNDECLARED = re.compile(r"(\.\S+): field not declared in schema")
_STRICT = re.compile(
    r'^(?P<kind>\w+) in version "[^"]*" cannot be handled as a \w+: strict decoding error: (?P<rest>.*)$',
    re.S,
)


# The impersonation filter's 403: k8or's own account may not act as the person.
_IMPERSONATE = re.compile(
    r'^(?P<resource>users|groups|serviceaccounts) "(?P<name>[^"]*)" is forbidden: '
    r'User "(?P<me>[^"]*)" cannot impersonate'
)


def _impersonation_refused(message: str, action: str) -> Forbidden | None:
    found = _IMPERSONATE.match(message)
    if found is None:
        return None
    what = {"users": "user", "groups": "group", "serviceaccounts": "ServiceAccount"}[found.group("resource")]
    return Forbidden(
        f'{action}: the cluster does not let k8or act as {what} "{found.group("name")}": its account '
        f"({found.group('me')}) may not impersonate {found.group('resource')} (403). An administrator grants "
        "that with the ClusterRole k8or-impersonate (the impersonate overlay)."
    )


def _refusal(status: dict[str, object], code: int, message: str) -> str | None:
    """What is wrong with the object, for each shape a real API server refuses one in: a 422's causes
    (`Deployment.apps "web" is invalid: ...`), apply's 500 for an undeclared field, a strict 400."""
    details = status.get("details")
    causes = details.get("causes") if isinstance(details, dict) else None
    if (
        code == 422
        and isinstance(details, dict)
        and details.get("name")
        and isinstance(causes, list)
        and causes
    ):
        said = "; ".join(
            f"{c.get('field')}: {c.get('message')}" if c.get("field") else str(c.get("message"))
            for c in causes
        )
        return f'the cluster refused {details.get("kind")} "{details.get("name")}": {said}'
    if code == 500 and (typed := _TYPED_PATCH.match(message)):
        fields = ", ".join(_UNDECLARED.findall(typed.group("rest"))) or typed.group("rest")
        kind = typed.group("kind")
        name = typed.group("name")
        return f'the cluster refused {kind} "{name}": unknown field {fields} (not in the {kind} schema)'
    if code == 400 and (strict := _STRICT.match(message)):
        return f"the cluster refused the {strict.group('kind')}: {strict.group('rest')}"
    return None


def api_message(exc: ApiException) -> str:
    """What the API server said: its Status message (or the HTTP reason), on one line."""
    said = _status(exc).get("message")
    return _first_sentence((said if isinstance(said, str) else None) or exc.reason or "")


def from_api_exception(exc: ApiException, action: str) -> ClusterError:
    """Turn an API error into one line: '<action> failed: <what the API server said>'."""
    status = _status(exc)
    message = api_message(exc)
    code = exc.status or 0
    if (refusal := _refusal(status, code, " ".join(str(status.get("message") or "").split()))) is not None:
        return Invalid(f"{action}: {_first_sentence(refusal)}")
    if code == 401:
        return Unauthorized(f"{action}: the cluster did not accept k8or's credentials (401); sign in again.")
    if code == 403:
        refused = _impersonation_refused(message, action)
        return refused or Forbidden(f"{action}: forbidden by the cluster's RBAC (403): {message}")
    if code == 404:
        return NotFound(f"{action}: not found: {message}")
    if code == 409:
        what = "already exists" if status.get("reason") == "AlreadyExists" else "conflict, try again"
        return Conflict(f"{action}: {what}: {message}")
    if code == 422:
        return Invalid(f"{action}: the cluster refused the object: {message}")
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
