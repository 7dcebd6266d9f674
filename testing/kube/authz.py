"""Who a request is, whom it may act as, and what that identity may do.

- The bearer token is the user `k8or-test`. Unless `fake.rbac` names it, it is in `system:masters`
  (cluster-admin), as a kubeconfig's admin user is.
- Impersonation (staging/src/k8s.io/apiserver/pkg/endpoints/filters/impersonation.go): each
  Impersonate-User / Impersonate-Group header needs the `impersonate` verb on `users` / `groups`
  (`serviceaccounts` for a `system:serviceaccount:<ns>:<name>` user), else a 403 such as
  `users "alice" is forbidden: User "k8or-test" cannot impersonate resource "users" in API group ""
  at the cluster scope`; groups without a user are refused before anything else, with a plain-text
  500 (`requested [...] without impersonating a user`, responsewriters.InternalError). The acting
  identity gets `system:authenticated` added to its groups.
- The toy RBAC: `fake.rbac` grants (verb, resource) pairs to users, `fake.group_rbac` to groups; an
  identity may do what its user or any of its groups is granted (`*` matches any verb or resource).
  With neither set, everyone may do everything. `fake.forbid(...)` rules deny on top.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from aiohttp import web

from .kinds import Kind
from .statuses import ApiError, forbidden

if TYPE_CHECKING:
    from .fake import FakeKube

TOKEN_USER = "k8or-test"
MASTERS, AUTHENTICATED = "system:masters", "system:authenticated"
SA_PREFIX = "system:serviceaccount:"
SELF_REVIEWS = {"selfsubjectaccessreviews", "selfsubjectrulesreviews"}


@dataclass(frozen=True)
class Identity:
    user: str
    groups: tuple[str, ...]


class ImpersonationError(Exception):
    """Groups (or extras) without a user: the filter's plain-text 500, not a Status."""


def requester(fake: FakeKube) -> Identity:
    admin = fake.rbac is None or TOKEN_USER not in fake.rbac
    return Identity(TOKEN_USER, (MASTERS, AUTHENTICATED) if admin else (AUTHENTICATED,))


def acting(fake: FakeKube, request: web.Request) -> Identity:
    """The identity a request acts as: the requester's, or the one it may impersonate."""
    me = requester(fake)
    user = request.headers.get("Impersonate-User", "")
    groups = request.headers.getall("Impersonate-Group", [])
    extras = [k for k in request.headers if k.lower().startswith("impersonate-extra-")]
    if not user and (groups or extras or "Impersonate-Uid" in request.headers):
        listed = " ".join(f"{{Group  {g}    }}" for g in groups)
        raise ImpersonationError(f"requested [{listed}] without impersonating a user")
    if not user:
        return me
    if user.startswith(SA_PREFIX) and user.count(":") == 3:
        namespace, name = user.removeprefix(SA_PREFIX).split(":")
        _may_impersonate(fake, me, "serviceaccounts", name, namespace)
    else:
        _may_impersonate(fake, me, "users", user, "")
    for group in groups:
        _may_impersonate(fake, me, "groups", group, "")
    return Identity(user, tuple(groups) + (() if AUTHENTICATED in groups else (AUTHENTICATED,)))


def _may_impersonate(fake: FakeKube, me: Identity, resource: str, name: str, namespace: str) -> None:
    if allowed(fake, me, "impersonate", resource, namespace):
        return
    where = f' in the namespace "{namespace}"' if namespace else " at the cluster scope"
    message = (
        f'{resource} "{name}" is forbidden: User "{me.user}" cannot impersonate resource "{resource}" '
        f'in API group ""{where}'
    )
    raise ApiError(403, "Forbidden", message, {"name": name, "kind": resource})


def allowed(fake: FakeKube, who: Identity, verb: str, plural: str, namespace: str) -> bool:
    """RBAC for the fake: forbid rules deny; then system:masters, or a grant to the user or a group."""
    if any(rule.matches(verb, plural, namespace, who.user) for rule in fake.forbid_rules):
        return False
    if verb == "create" and plural in SELF_REVIEWS and AUTHENTICATED in who.groups:
        return True  # the system:basic-user ClusterRole, bound to every authenticated user
    return bool(reason(fake, who, verb, plural))


def reason(fake: FakeKube, who: Identity, verb: str, plural: str) -> str:
    """Why RBAC allows it (as SubjectAccessReview status.reason says), or "" when it does not."""
    if MASTERS in who.groups or (fake.rbac is None and not fake.group_rbac):
        return _allowed_by("cluster-admin", "Group", MASTERS)
    subjects = [("User", who.user, (fake.rbac or {}).get(who.user, set()))]
    subjects += [("Group", g, fake.group_rbac.get(g, set())) for g in who.groups]
    for kind, name, grants in subjects:
        if any(v in (verb, "*") and r in (plural, "*") for v, r in grants):
            return _allowed_by("fake-rbac", kind, name)
    return ""


def _allowed_by(role: str, kind: str, name: str) -> str:
    return f'RBAC: allowed by ClusterRoleBinding "{role}" of ClusterRole "{role}" to {kind} "{name}"'


def check(fake: FakeKube, who: Identity, kind: Kind, name: str, verb: str, namespace: str) -> None:
    """403 Forbidden, worded as responsewriters.Forbidden words it, unless `who` may."""
    if allowed(fake, who, verb, kind.plural, namespace):
        return
    raise forbidden(kind, name, verb, who.user, namespace or None)
