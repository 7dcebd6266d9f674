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
        if not reason:  # a plain error the server did not classify (the SSA typed-patch 500)
            del self.status["reason"]
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
    """Server-side apply found fields another manager owns with other values (managedfields
    internal/conflict.go NewConflictError); `conflicts` are (printed manager, path) pairs."""
    if len(conflicts) == 1:
        manager, path = conflicts[0]
        msg = f"Apply failed with 1 conflict: conflict with {manager}: {path}"
    else:
        lines = []
        for manager in sorted({m for m, _ in conflicts}):
            lines.append(f"conflicts with {manager}:")
            lines += [f"- {p}" for m, p in conflicts if m == manager]
        msg = f"Apply failed with {len(conflicts)} conflicts: " + "\n".join(lines)
    causes = [
        {"reason": "FieldManagerConflict", "message": f"conflict with {m}", "field": p} for m, p in conflicts
    ]
    return ApiError(409, "Conflict", msg, {"causes": causes})


def invalid(kind: Kind, name: str, causes: list[tuple[str, str, str]]) -> ApiError:
    """422, as apimachinery's errors.NewInvalid words it: causes are (reason, field, body) triples
    such as FieldValueInvalid / spec.replicas / `Invalid value: -1: must be greater than or equal to 0`;
    the message is `Deployment.apps "web" is invalid: <field>: <body>`, several in `[..., ...]`."""
    unique = list(dict.fromkeys(f"{field}: {body}" for _, field, body in causes))
    text = unique[0] if len(unique) == 1 else "[" + ", ".join(unique) + "]"
    msg = f'{kind.group_kind} "{name}" is invalid: {text}'
    items = [{"reason": r, "message": m, "field": f} for r, f, m in causes]
    return ApiError(
        422, "Invalid", msg, {"name": name, "group": kind.group, "kind": kind.kind, "causes": items}
    )


def unconditional_update(kind: Kind, name: str) -> ApiError:
    """422 for a PUT without metadata.resourceVersion to a kind whose strategy refuses unconditional
    updates (Lease: AllowUnconditionalUpdate false). registry/store.go Update names the resource,
    not the kind (`leases.coordination.k8s.io`), and prints the zero version with %#v: `0x0`."""
    body = "Invalid value: 0x0: must be specified for an update"
    message = f'{kind.qualified} "{name}" is invalid: metadata.resourceVersion: {body}'
    cause = {"reason": "FieldValueInvalid", "message": body, "field": "metadata.resourceVersion"}
    details = {"name": name, "group": kind.group, "kind": kind.plural, "causes": [cause]}
    return ApiError(422, "Invalid", message, details)


def invalid_options(options: str, field: str, body: str) -> ApiError:
    """422 on a request's options (CreateOptions, PatchOptions...), as the handlers validate them."""
    message = f'{options}.meta.k8s.io "" is invalid: {field}: {body}'
    cause = {"reason": "FieldValueNotSupported", "message": body, "field": field}
    details = {"group": "meta.k8s.io", "kind": options, "causes": [cause]}
    return ApiError(422, "Invalid", message, details)


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
