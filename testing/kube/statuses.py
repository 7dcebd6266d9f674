"""`Status` objects, exactly as the API server answers a failed request."""

from __future__ import annotations

from .kinds import Kind


class ApiError(Exception):
    """A request the fake refuses; carries the `Status` body and HTTP code."""

    def __init__(self, code: int, reason: str, message: str, details: dict | None = None):
        super().__init__(message)
        self.code = code
        self.status = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": message,
            "reason": reason,
            "code": code,
        }
        if details:
            self.status["details"] = details


def _details(kind: Kind, name: str, **extra) -> dict:
    return {"name": name, "group": kind.group, "kind": kind.plural, **extra}


def not_found(kind: Kind, name: str) -> ApiError:
    return ApiError(404, "NotFound", f'{kind.qualified} "{name}" not found', _details(kind, name))


def namespace_not_found(name: str) -> ApiError:
    return ApiError(404, "NotFound", f'namespaces "{name}" not found', {"name": name, "kind": "namespaces"})


def already_exists(kind: Kind, name: str) -> ApiError:
    return ApiError(409, "AlreadyExists", f'{kind.qualified} "{name}" already exists', _details(kind, name))


def conflict(kind: Kind, name: str) -> ApiError:
    msg = (
        f'Operation cannot be fulfilled on {kind.qualified} "{name}": the object has been modified; '
        "please apply your changes to the latest version and try again"
    )
    return ApiError(409, "Conflict", msg, _details(kind, name))


def apply_conflict(kind: Kind, name: str, conflicts: list[tuple[str, str]]) -> ApiError:
    """Server-side apply found fields owned by another manager (answered without force)."""
    lines = "\n".join(f'- conflict with "{mgr}": {path}' for mgr, path in conflicts)
    msg = f"Apply failed with {len(conflicts)} conflict{'s' if len(conflicts) > 1 else ''}: {lines}"
    causes = [
        {"reason": "FieldManagerConflict", "message": f'conflict with "{m}"', "field": p}
        for m, p in conflicts
    ]
    return ApiError(409, "Conflict", msg, _details(kind, name, causes=causes))


def invalid(kind: Kind, name: str, causes: list[tuple[str, str, str]]) -> ApiError:
    """422: causes are (reason, field, message) triples, like FieldValueInvalid / spec.replicas / ..."""
    text = ", ".join(f"{field}: {message}" for _, field, message in causes)
    msg = f'{kind.kind} "{name}" is invalid: {text}'
    items = [{"reason": r, "message": m, "field": f} for r, f, m in causes]
    return ApiError(
        422, "Invalid", msg, {"name": name, "group": kind.group, "kind": kind.kind, "causes": items}
    )


def forbidden(kind: Kind, name: str, verb: str, user: str, namespace: str | None) -> ApiError:
    where = f' in the namespace "{namespace}"' if namespace else " at the cluster scope"
    what = f'{kind.qualified} "{name}"' if name else kind.qualified
    msg = (
        f'{what} is forbidden: User "{user}" cannot {verb} resource "{kind.plural}" '
        f'in API group "{kind.group}"{where}'
    )
    return ApiError(403, "Forbidden", msg, _details(kind, name))


def unauthorized() -> ApiError:
    return ApiError(401, "Unauthorized", "Unauthorized")


def bad_request(message: str) -> ApiError:
    return ApiError(400, "BadRequest", message)


def gone(message: str) -> ApiError:
    return ApiError(410, "Expired", message)


def unsupported_media(content_type: str) -> ApiError:
    return ApiError(
        415,
        "UnsupportedMediaType",
        f"the body of the request was in an unknown format - accepted "
        f"media types include: application/json-patch+json, application/merge-patch+json, "
        f"application/apply-patch+yaml (got {content_type})",
    )
