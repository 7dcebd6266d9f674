"""The generated Kubernetes models, read with the guarantees the API server gives.

The OpenAPI models type nearly every field as optional, because a client may send partial objects.
Objects the API server returns always carry what it fills in itself (metadata, name, uid, a Deployment's
spec and pod template). These accessors say so once, in one place, and turn a missing field into a
ClusterError that names it rather than an AttributeError on `None` somewhere in a report.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from .errors import ClusterError

if TYPE_CHECKING:  # the Kubernetes client is imported at the first cluster call, not at start
    from kubernetes.client import V1ObjectMeta, V1PodTemplateSpec

# A manifest as k8or renders it: the JSON object the API server reads (camelCase keys).
Manifest = dict[str, Any]

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)


class Described(Protocol):
    """Any object the API server stores: it has metadata."""

    @property
    def metadata(self) -> V1ObjectMeta | None: ...


class Listing(Protocol[T_co]):
    """A list response (V1PodList, V1DeploymentList, ...): its items are of one kind."""

    @property
    def items(self) -> Sequence[T_co]: ...


class _TemplateSpec(Protocol):
    @property
    def template(self) -> V1PodTemplateSpec | None: ...


class Workload(Protocol):
    """A Deployment, ReplicaSet or Job: something with a pod template under its spec."""

    @property
    def spec(self) -> _TemplateSpec | None: ...


def present(value: T | None, what: str) -> T:
    """`value`, which the API server always fills in; a ClusterError naming `what` if it did not."""
    if value is None:
        raise ClusterError(f"the cluster answered without {what}.")
    return value


def meta(obj: Described) -> V1ObjectMeta:
    """The object's metadata (always present on what the API server returns)."""
    return present(obj.metadata, f"metadata for a {type(obj).__name__}")


def name_of(obj: Described) -> str:
    return present(meta(obj).name, f"a name for a {type(obj).__name__}")


def uid_of(obj: Described) -> str:
    return present(meta(obj).uid, f"a uid for a {type(obj).__name__}")


def annotations_of(obj: Described) -> dict[str, str]:
    """The object's annotations; an object without any has an empty dict."""
    return meta(obj).annotations or {}


def labels_of(obj: Described) -> dict[str, str]:
    """The object's labels; an object without any has an empty dict."""
    return meta(obj).labels or {}


def template_of(workload: Workload) -> V1PodTemplateSpec:
    """The pod template of a Deployment, ReplicaSet or Job."""
    kind = type(workload).__name__
    return present(present(workload.spec, f"a spec for a {kind}").template, f"a pod template for a {kind}")


def template_image(template: V1PodTemplateSpec) -> str:
    """The image of a pod template's first container (k8or's apps run one container)."""
    spec = present(template.spec, "a pod spec in the template")
    return present(spec.containers[0].image, "an image for the first container")


def changes(list_call: Callable[..., Listing[T]], *args: object, **kwargs: object) -> Iterator[tuple[str, T]]:
    """Watch what `list_call` lists, as (event type, object) pairs: ADDED, MODIFIED, DELETED.

    The kubernetes Watch is untyped; the objects it yields are the items of `list_call`'s response.
    """
    from kubernetes import watch

    for event in watch.Watch().stream(list_call, *args, **kwargs):
        yield event["type"], event["object"]
