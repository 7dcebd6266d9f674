"""The image steps of a k8orization: build the image from OUT/Dockerfile, push it, pin its digest.

Both run in the background (`start`, then `wait`): the Dockerfile and the trimmed tree are final once
the Dockerfile step ends, and the local verification runs that follow only read them, so the image is
built and pushed while those runs wait on the app; while it is pushed, its root filesystem is lent for
the runtime checks (`rootfs`) until `close`. The naive baseline (`naive.py`) needs nothing but the
app's files, so it builds in the background from the moment the app is analysed and is waited for when
the report is written (`finish`). A build or push that fails is a failed step, not a stopped
k8orization: the rest of the output is still worth reading.
"""

from __future__ import annotations

import shlex
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from clock import units

from . import image, messages, naive
from .analyze import AppAnalysis
from .command import container_argv
from .dockerfile import DockerfileSpec
from .errors import K8orizeError
from .image import BuiltImage
from .request import K8orizeRequest
from .steps import FAILED, WARN, Verdict

T = TypeVar("T")
StepRunner = Callable[[str, Callable[[], tuple[T, Verdict]]], T]
BUILD_STEP, PUSH_STEP = "build image", "push"
BUILD_LOG, NAIVE_LOG, PUSH_LOG = "build.log", "build-naive.log", "push.log"


@dataclass(frozen=True)
class Pushed:
    """Where the image went and the manifest digest the registry serves for it."""

    destination: str  # host/repo:tag
    digest: str

    @property
    def pinned(self) -> str:
        """What every manifest names: host/repo@sha256:..."""
        return image.pinned(self.destination, self.digest)


@dataclass(frozen=True)
class Shipped:
    """What the image steps produced, for the report."""

    base_image: str  # what BASE_IMAGE was for the build
    base_digest: str | None  # its manifest digest as pulled: what pins it (--base-image NAME@DIGEST)
    built: BuiltImage | None
    why_not_built: str | None
    naive: BuiltImage | None
    naive_dockerfile: str | None
    why_no_naive: str | None
    pushed: Pushed | None


def _size(built: BuiltImage) -> str:
    return units.size(built.size)


class ImageSteps:
    """Build, push and the naive baseline for one k8orization (one object per pipeline run)."""

    def __init__(self, request: K8orizeRequest, out: Path, work: Path, name: str) -> None:
        self.req, self.out, self.work, self.name = request, out, work, name
        self.base_image = self.default_base = request.base_image or ""
        self.built: BuiltImage | None = None
        self.pushed: Pushed | None = None
        self.why_not_built: str | None = None
        self.base_digest: str | None = None
        self._naive: Future[BuiltImage] | None = None
        self._naive_dockerfile: str | None = None
        self._shipping: Future[None] | None = None
        self._rootfs: Future[Path] | None = None
        self._lent = ExitStack()  # the lent root filesystem, given back by `give_back` or `close`
        self._lent_lock = threading.Lock()
        self._pool: ThreadPoolExecutor | None = None
        self._cancel = threading.Event()

    @property
    def pinned(self) -> str | None:
        """`repo@sha256:...` once pushed: what the manifests name."""
        return self.pushed.pinned if self.pushed else None

    # -- the steps -----------------------------------------------------------------------------------
    def start(
        self, step: StepRunner[object], skip: Callable[[str, str], None], default_base: str, *, lend: bool
    ) -> None:
        """Start the build and push steps in the background; `wait` joins them. With `lend`, the built
        image's root filesystem is made ready for `rootfs` while it is pushed."""
        self._shipping = self._worker().submit(self.run, step, skip, default_base, lend)

    def wait(self) -> None:
        """Wait for the steps `start` began (a failed build or push is a failed step, not raised)."""
        if self._shipping is not None:
            self._shipping.result()

    def run(
        self,
        step: StepRunner[object],
        skip: Callable[[str, str], None],
        default_base: str,
        lend: bool = False,
    ) -> None:
        """Run the build and push steps through the pipeline's step log (`step`, `skip`); with `lend`,
        lending the built image's root filesystem (`rootfs`) starts alongside the push."""
        self.default_base = default_base
        self.base_image = self.req.base_image or default_base
        if not self.req.build:
            self.why_not_built = "--no-build was given"
            skip(BUILD_STEP, self.why_not_built)
        else:
            step(BUILD_STEP, self._build)
        if self.built is not None and lend:
            self._rootfs = self._worker().submit(self._lend)
        if self.built is None or self.req.push is None:
            skip(PUSH_STEP, "the image was not built" if self.built is None else "no --push was given")
        else:
            step(PUSH_STEP, self._push)

    def _build_args(self) -> dict[str, str]:
        return {naive.BASE_ARG: self.base_image}

    def _build(self) -> tuple[BuiltImage | None, Verdict]:
        if image.buildah() is None:
            self.why_not_built = messages.BUILDAH_MISSING
            return None, Verdict(WARN, messages.BUILDAH_MISSING)
        try:  # a base that cannot be had says nothing about the Dockerfile: a warning, not a failure
            self.base_digest = image.ensure_base(self.base_image) or None
        except image.BaseUnavailable as exc:
            self.why_not_built = str(exc)
            return None, Verdict(WARN, str(exc))
        try:
            built = image.build_image(
                self.out,
                f"localhost/k8or/{self.name}:latest",
                log=self.out / BUILD_LOG,
                build_args=self._build_args(),
                cancel=self._cancel,  # set when the k8orization stops early (`close`)
                # The traced Dockerfile installs nothing: its RUN steps (which import the app's
                # dependencies) get no network. The untraced one installs the requirements.
                network=not (self.req.run and self.req.trace),
            )
        except K8orizeError as exc:
            self.why_not_built = f"it did not build; see {BUILD_LOG}"
            return None, Verdict(FAILED, str(exc).splitlines()[0])
        self.built = built
        return built, Verdict.ok(f"{_size(built)} whole image from {self.base_image} ({BUILD_LOG})")

    def _push(self) -> tuple[Pushed | None, Verdict]:
        assert self.built is not None and self.req.push is not None
        destination = self.req.push
        if ":" not in destination.rsplit("/", 1)[-1]:  # no tag given: one derived from the image itself
            destination = f"{destination}:k8or-{self.built.image_id[:12]}"
        try:
            digest = image.push(self.built, destination, self.req.push_credentials, log=self.out / PUSH_LOG)
        except K8orizeError as exc:
            return None, Verdict(FAILED, str(exc).splitlines()[0])
        self.pushed = Pushed(destination, digest)
        return self.pushed, Verdict.ok(f"{destination}, pinned as {self.pushed.pinned}")

    def _lend(self) -> Path:
        assert self.built is not None
        with self._lent_lock:
            return self._lent.enter_context(image.image_rootfs(self.built))

    def rootfs(self) -> Path:
        """The built image's root filesystem, lent until `give_back` or `close` (raises K8orizeError when
        it cannot be)."""
        if self._rootfs is None:
            self._rootfs = self._worker().submit(self._lend)
        return self._rootfs.result()

    def give_back(self) -> None:
        """Remove the lent root filesystem (a copy of every layer on vfs); idempotent."""
        with self._lent_lock:
            self._lent.close()

    # -- the naive baseline, in the background --------------------------------------------------------
    def start_naive(self, analysis: AppAnalysis) -> None:
        """Start building the naive baseline in the background (when images are built at all)."""
        if not self.req.build or image.buildah() is None:
            return
        default_base = DockerfileSpec(uid=0, port=0, cmd=[], health_url=None, env={}).base
        self.base_image = self.req.base_image or default_base
        run = self.req.run or analysis.kind.default_run(analysis.entrypoint)
        self._naive_dockerfile = naive.render(
            default_base, analysis, container_argv(shlex.split(run), self.req.port)
        )
        folder = self.work / "naive"
        context = naive.context(analysis, folder / "context")
        (folder / "Dockerfile").write_text(self._naive_dockerfile)
        self._naive = self._worker().submit(self._build_naive, context, folder / "Dockerfile")

    def _worker(self) -> ThreadPoolExecutor:
        """The background threads: the naive baseline, the build and push, lending the root filesystem."""
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=3, thread_name_prefix="k8orize-image")
        return self._pool

    def _build_naive(self, context: Path, dockerfile: Path) -> BuiltImage:
        image.ensure_base(self.base_image)
        return image.build_image(
            context,
            f"localhost/k8or/{self.name}:naive",
            log=self.out / NAIVE_LOG,
            dockerfile=dockerfile,
            build_args=self._build_args(),
            cancel=self._cancel,
        )

    def _naive_result(self) -> tuple[BuiltImage | None, str | None]:
        if self._naive is None:
            return None, self.why_not_built or messages.BUILDAH_MISSING
        try:
            built = self._naive.result()
        except K8orizeError as exc:
            return None, f"{str(exc).splitlines()[0]} ({NAIVE_LOG})"
        image.remove_image(built)  # only its size was wanted; on vfs it is a whole copy of every layer
        return built, None

    def finish(self) -> Shipped:
        """Wait for the naive baseline and gather what the steps produced."""
        naive_image, why_no_naive = self._naive_result()
        return Shipped(
            base_image=self.base_image,
            base_digest=self.base_digest,
            built=self.built,
            why_not_built=self.why_not_built,
            naive=naive_image,
            naive_dockerfile=self._naive_dockerfile,
            why_no_naive=why_no_naive,
            pushed=self.pushed,
        )

    def __enter__(self) -> ImageSteps:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop the builds still running (the k8orization stopped early) and wait for them; idempotent."""
        if any(f is not None and not f.done() for f in (self._naive, self._shipping)):
            self._cancel.set()
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        self.give_back()
