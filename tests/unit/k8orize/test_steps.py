"""The step log: statuses in pipeline order, and a broken progress callback cannot stop the engine."""

from __future__ import annotations

import pytest

from k8orize.steps import STEPS, StepLog


def test_entries_follow_the_pipeline_order() -> None:
    seen: list[tuple[str, str]] = []
    log = StepLog(lambda step, status: seen.append((step, status)))
    log.start("trace")
    log.finish("trace", "ok", "61 syscalls")
    log.skip("install", "no --run")
    log.start("analyze")
    log.finish("analyze", "ok")
    assert [e["step"] for e in log.as_list()] == ["analyze", "install", "trace"]
    assert seen == [
        ("trace", "running"),
        ("trace", "ok"),
        ("install", "skipped"),
        ("analyze", "running"),
        ("analyze", "ok"),
    ]
    assert STEPS[0] == "analyze" and STEPS[-1] == "report"


def test_a_failing_progress_callback_is_contained(caplog: pytest.LogCaptureFixture) -> None:
    def broken(step: str, status: str) -> None:
        raise RuntimeError("chat message could not be edited")

    log = StepLog(broken)
    log.start("analyze")
    log.finish("analyze", "ok")
    assert log.as_list()[0]["status"] == "ok"
    assert "progress callback failed" in caplog.text
