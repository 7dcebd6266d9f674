"""`deploy`: render, resolve the tag to a digest when a registry hook is given, server-side apply."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .errors import api_errors
from .kube import FIELD_MANAGER, connect
from .names import VolumeSpec, app_name, image_ref
from .objects import Manifest, meta, present, template_image, template_of
from .render import Hook, render_deployment
from .source import SourceRef
from .target import ClusterTarget

DigestResolver = Callable[[str], "str | None"]
APPLY = "application/apply-patch+yaml"


@dataclass(frozen=True)
class Applied:
    """What the API server accepted: the generation to wait for and the image actually deployed."""

    app: str
    image: str
    generation: int
    resource_version: str
    manifest: Manifest


def pinned(image: str, resolve_digest: DigestResolver | None) -> str:
    """`repo:tag` → `repo:tag@sha256:…` when the registry hook knows the digest; unchanged otherwise."""
    if resolve_digest is None or "@" in image:
        return image
    digest = resolve_digest(image)
    return f"{image}@{digest}" if digest else image


def apply_deployment(target: ClusterTarget, manifest: Manifest) -> Applied:
    """Server-side apply as field manager `k8or`, forcing ownership: k8or is the authority for its apps."""
    name = manifest["metadata"]["name"]
    with connect(target) as kube, api_errors(f"deploy {name}"):
        result = kube.apps.patch_namespaced_deployment(
            name, kube.namespace, manifest, field_manager=FIELD_MANAGER, force=True, _content_type=APPLY
        )
    stored = meta(result)
    return Applied(
        name,
        template_image(template_of(result)),
        present(stored.generation, f"a generation for deployment {name}"),
        present(stored.resource_version, f"a resource version for deployment {name}"),
        manifest,
    )


def deploy(
    target: ClusterTarget,
    app: str,
    image: str,
    replicas: int = 1,
    volumes: Sequence[VolumeSpec] = (),
    resolve_digest: DigestResolver | None = None,
    progress_deadline: int = 600,
    k8orize: Hook | None = None,
    source: SourceRef | None = None,
) -> Applied:
    """Render the hardened Deployment and apply it. Follow it with RolloutWatcher.

    `source`, when given, is recorded as the `k8or.io/source-*` annotations (cluster.source), which
    the controller copies onto this revision's ReplicaSet."""
    app_name(app)
    image_ref(image)
    words = [f"k8or deploy {app} {image}"] + [f"--volume {v.claim}:{v.path}" for v in volumes]
    if source is not None:
        words += [f"--commit {source.commit}", f"--repo {source.repo}"]
    cause = " ".join(words)
    manifest = render_deployment(
        app,
        pinned(image, resolve_digest),
        replicas,
        volumes,
        progress_deadline,
        k8orize=k8orize,
        change_cause=cause,
    )
    if source is not None:
        manifest["metadata"].setdefault("annotations", {}).update(source.annotations())
    return apply_deployment(target, manifest)
