"""A rollout's timeline as a PNG: updated, ready and available replicas against seconds, for a board."""

from __future__ import annotations

import io
import logging

from cluster.rollout import COMPLETE, RolloutProgress

log = logging.getLogger(__name__)


def draw_timeline(snapshots: list[RolloutProgress], title: str) -> bytes | None:
    """The snapshots a rollout follower saw, drawn as three step lines; None without matplotlib
    (the `k8orize` extra) or without snapshots."""
    if not snapshots:
        return None
    try:
        import matplotlib
    except ImportError:
        log.warning("matplotlib is not installed: no rollout picture")
        return None
    matplotlib.use("Agg")  # no display; safe in threads and CI
    import matplotlib.pyplot as plt

    seconds = [s.elapsed for s in snapshots]
    fig, ax = plt.subplots(figsize=(8, 3.2), dpi=110)
    for label, values in (
        ("updated", [s.updated for s in snapshots]),
        ("ready", [s.ready for s in snapshots]),
        ("available", [s.available for s in snapshots]),
    ):
        ax.step(seconds, values, where="post", label=label)
    last = snapshots[-1]
    ax.axhline(last.desired, color="#9e9e9e", linestyle=":", label=f"desired {last.desired}")
    verdict = "complete" if last.state == COMPLETE else last.state
    ax.set_title(f"{title} — revision {last.revision or '?'}: {verdict}", fontsize=11, loc="left")
    ax.set_xlabel("seconds")
    ax.set_ylabel("replicas")
    ax.legend(loc="lower right", fontsize=8)
    buffer = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return buffer.getvalue()
