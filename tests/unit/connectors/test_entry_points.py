"""Plugin groups come from one scan of the installed distributions per search path."""

from __future__ import annotations

import importlib.metadata

import pytest

from connectors import entry_points


def test_every_group_is_selected_from_one_scan(monkeypatch: pytest.MonkeyPatch) -> None:
    scans = []

    def counted() -> object:
        scans.append(1)
        return importlib.metadata.entry_points()

    monkeypatch.setattr(entry_points, "entry_points", counted)
    entry_points.rescan()
    connectors = {ep.name for ep in entry_points.in_group("k8or.connectors")}
    entry_points.in_group("k8or.commands")
    assert {"github", "jira", "aws"} <= connectors and len(scans) == 1
    entry_points.rescan()
    entry_points.in_group("k8or.connectors")
    assert len(scans) == 2  # a rescan reads them again
    entry_points.rescan()
