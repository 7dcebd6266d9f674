"""An app whose incident resolves is reported once to the tools around it (the Toggl entries its
rollbacks started stop: actions.integrations.app_healthy), whoever subscribed, and a failing tool
never stops the alerts."""

from __future__ import annotations

from typing import Any

from actions.alerting import AlertDesk
from cluster.incidents import OPENED, RESOLVED, Change, Incident


def _desk(told: list[tuple[str, str, str]], fail: bool = False) -> AlertDesk:
    async def healthy(cluster: str, namespace: str, app: str) -> None:
        told.append((cluster, namespace, app))
        if fail:
            raise RuntimeError("Toggl is down")

    none: Any = None
    return AlertDesk(none, none, none, none, on_healthy=healthy)


def _change(kind: str) -> Change:
    incident = Incident(
        "prod", "web", "crashloop", "CrashLoopBackOff", "Deployment/web", resolved=kind == RESOLVED
    )
    return Change(kind, incident)


async def test_a_resolved_incident_tells_the_tools_once_and_an_opened_one_does_not() -> None:
    told: list[tuple[str, str, str]] = []
    desk = _desk(told)
    await desk._tell(("fake", "prod"), _change(OPENED))
    await desk._tell(("fake", "prod"), _change(RESOLVED))
    assert told == [("fake", "prod", "web")]


async def test_a_failing_tool_does_not_stop_the_alerts() -> None:
    told: list[tuple[str, str, str]] = []
    await _desk(told, fail=True)._tell(("fake", "prod"), _change(RESOLVED))  # no exception
    assert told == [("fake", "prod", "web")]
