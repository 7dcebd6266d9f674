"""The cluster library, awaited: each call runs in a worker thread and fails as a K8orError.

Library calls that block go through `actions.blocking.call`; the two that stream (a rollout's snapshots, a
deletion's steps) report through `blocking.in_thread`, so the dialogs only render what arrives.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import replace
from typing import ParamSpec, TypeVar

from actions.blocking import call, in_thread
from actions.errors import ClusterFailed, translated
from cluster.delete import DeletionStep
from cluster.delete import delete_app as delete_steps
from cluster.deploy import Applied
from cluster.deploy import deploy as apply_deployment
from cluster.errors import NotFound, from_exception
from cluster.names import VolumeSpec
from cluster.rollout import TIMEOUT, RolloutProgress, RolloutWatcher
from cluster.source import SourceRef
from cluster.status import app_status
from cluster.target import ClusterTarget

P = ParamSpec("P")
T = TypeVar("T")
DigestHook = Callable[[str], Coroutine[object, object, str | None]]
DIGEST_WAIT_SECONDS = 30
FOLLOW_SLICE = 5.0  # seconds of a rollout watch per worker-thread call (see follow_rollout)


async def follow_rollout(
    target: ClusterTarget,
    app: str,
    timeout: float,
    on_snapshot: Callable[[RolloutProgress], Awaitable[None]],
) -> RolloutProgress | None:
    """Watch a rollout until it completes, fails or times out; each snapshot goes to `on_snapshot`.
    Returns the last snapshot (None if there was none); a watch that breaks raises K8orError.

    The watch runs in worker threads, `FOLLOW_SLICE` seconds at a time: a follower cancelled (its
    replica stopping, its job handed back) leaves a thread that ends within a slice, instead of one
    that keeps the process from exiting until the rollout's timeout."""
    loop = asyncio.get_running_loop()
    started, last = loop.time(), None
    while True:
        spent = loop.time() - started
        window = min(FOLLOW_SLICE, max(timeout - spent, 0.0))
        final = spent + window >= timeout
        snapshot = await _watch_slice(target, app, window, final, on_snapshot)
        last = snapshot or last
        if snapshot is not None and snapshot.done:
            if snapshot.state == TIMEOUT:
                return replace(snapshot, reason=f"no result after {int(timeout)}s", elapsed=timeout)
            return snapshot
        if final:
            return last


async def _watch_slice(
    target: ClusterTarget,
    app: str,
    seconds: float,
    final: bool,
    on_snapshot: Callable[[RolloutProgress], Awaitable[None]],
) -> RolloutProgress | None:
    """One slice of the watch; its time-out is the rollout's only in the `final` slice."""

    def watch(report: Callable[[RolloutProgress], None]) -> RolloutProgress | None:
        last = None
        try:
            for snapshot in RolloutWatcher(target, app, timeout=seconds):
                if snapshot.state == TIMEOUT and not final:
                    break  # the next slice goes on watching
                last = snapshot
                report(snapshot)
        except Exception as exc:  # noqa: BLE001 - whatever stops the watch becomes one line
            raise from_exception(exc, "follow the rollout") from exc
        return last

    async with translated():
        return await in_thread(watch, on_snapshot)


async def delete_app(
    target: ClusterTarget, app: str, on_step: Callable[[DeletionStep], Awaitable[None]]
) -> None:
    """Delete an app (foreground cascade); each step goes to `on_step` as its kind disappears."""

    def steps(report: Callable[[DeletionStep], None]) -> None:
        for step in delete_steps(target, app):
            report(step)

    async with translated():
        await in_thread(steps, on_step)


async def deploy(
    target: ClusterTarget,
    app: str,
    image: str,
    replicas: int,
    volumes: Sequence[VolumeSpec],
    resolve_digest: DigestHook | None = None,
    source: SourceRef | None = None,
) -> Applied:
    """Apply the hardened Deployment; a tag is pinned to its digest when `resolve_digest` knows it;
    `source` (repository and commit) is recorded on it for release questions."""
    pin = _in_thread(resolve_digest)
    return await call(apply_deployment, target, app, image, replicas, volumes, pin, source=source)


def _in_thread(hook: DigestHook | None) -> Callable[[str], str | None] | None:
    """The library asks for digests from its worker thread; the hook is async and lives on the loop."""
    if hook is None:
        return None
    loop = asyncio.get_running_loop()

    def resolve(image: str) -> str | None:
        try:
            return asyncio.run_coroutine_threadsafe(hook(image), loop).result(DIGEST_WAIT_SECONDS)
        except Exception:  # noqa: BLE001 - without a digest the tag is deployed as given
            return None

    return resolve


async def app_exists(target: ClusterTarget, app: str) -> bool:
    """Whether the app's Deployment is there: a resumed deletion checks before deleting again."""
    try:
        await call(app_status, target, app)
    except ClusterFailed as failed:
        if isinstance(failed.cause, NotFound):
            return False
        raise
    return True
