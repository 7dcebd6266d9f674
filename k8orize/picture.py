"""Draw the k8orization pipeline, its steps and their status, as a PNG that chat can attach."""

from __future__ import annotations

import logging
from pathlib import Path

from . import messages
from .steps import StepEntry

log = logging.getLogger(__name__)

_COLORS = {
    "ok": "#2e7d32",
    "warn": "#f9a825",
    "failed": "#c62828",
    "skipped": "#9e9e9e",
    "running": "#1565c0",
}


def draw(steps: list[StepEntry], path: Path, title: str = "k8orize") -> Path | None:
    """One box per step, coloured by status, with its duration and detail; None (and a warning) when
    matplotlib, part of the `engine` extra, is not installed: the report is complete without it."""
    try:
        import matplotlib
    except ImportError:
        log.warning(messages.PICTURE_MISSING)
        return None

    matplotlib.use("Agg")  # no display; safe in threads and CI
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyBboxPatch

    height = 0.9 + 0.62 * len(steps)
    fig, ax = plt.subplots(figsize=(9, height), dpi=110)
    ax.set_xlim(0, 10)
    ax.set_ylim(0, len(steps) + 0.6)
    ax.axis("off")
    ax.set_title(title, fontsize=13, loc="left")
    for i, step in enumerate(steps):
        y = len(steps) - i - 0.5
        color = _COLORS.get(step["status"], "#616161")
        ax.add_patch(FancyBboxPatch((0.1, y - 0.3), 2.6, 0.6, boxstyle="round,pad=0.02", fc=color, ec="none"))
        ax.text(1.4, y, step["step"], ha="center", va="center", color="white", fontsize=10, weight="bold")
        if i < len(steps) - 1:
            ax.annotate("", xy=(1.4, y - 0.42), xytext=(1.4, y - 0.3), arrowprops={"arrowstyle": "->"})
        detail = step["detail"][:100]
        ax.text(2.9, y, f"{step['status']} ({step['seconds']:.1f}s)  {detail}", va="center", fontsize=8.5)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path
