"""Every card k8or sends, built from realistic data: what the card tests validate and draw.

Each entry: a name, the card (Adaptive Card JSON), and lines of text a reader must see on it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from actions.alerting import AlertView
from bot.confirm import PendingAction, confirmation_request
from bot.context import TargetRef
from bot.identity import Person
from cluster.events import EventLine
from cluster.incidents import CRASHLOOP, Incident
from cluster.rollback import Revision
from cluster.status import AppStatus, NamespaceStatus, PodSummary
from dialogs import cards
from dialogs.notify_alerts import render_alert

NOW = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)
WARNING = EventLine(
    "Pod", "web-7d9c-abcde", "Warning", "BackOff", "Back-off restarting failed container", 5, NOW
)
CRASHING = PodSummary("web-7d9c-abcde", "Running", False, 7, "3m", "CrashLoopBackOff", "Error, exit code 1")
SERVING = PodSummary("web-7d9c-fghij", "Running", True, 0, "3m")


def app_status(name: str = "web", pods: tuple[PodSummary, ...] = (CRASHING, SERVING)) -> AppStatus:
    serving = sum(p.ready for p in pods)
    return AppStatus(
        name=name,
        desired=len(pods),
        updated=len(pods),
        ready=serving,
        available=serving,
        revision="4",
        image="registry.example/web:1.27",
        age="2d",
        condition="True",
        pods=pods,
        warnings=(WARNING,),
        total=len(pods),
    )


def namespace_status(apps: int = 3) -> NamespaceStatus:
    healthy = (SERVING,)
    listed = [app_status(f"app-{i:03d}", healthy if i else (CRASHING, SERVING)) for i in range(apps)]
    return NamespaceStatus("prod-eu", "shop", tuple(listed), (WARNING,))


REVISIONS = [
    Revision(2, "registry.example/web:1.25", "9d", "web-5b7f", False),
    Revision(3, "registry.example/web:1.26", "4d", "web-6c8d", False),
    Revision(4, "registry.example/web:1.27", "2d", "web-7d9c", True),
]

K8ORIZE_SUMMARY = "\n".join(
    [
        "**k8orized `shop`** (streamlit app, UID/GID 10001)",
        "",
        "- App layer: 212.4 MB -> 96.1 MB (54.8% smaller)",
        "- Unused dependencies: requests; missing: none",
        "- Whole image: 180.2 MB vs 402.7 MB naive: 55.3% smaller",
        "- Seccomp: 148 syscalls allowed (Docker's default allows ~350)",
        "",
        "- passed: manifests valid (kubernetes-validate --strict)",
        "- FAILED: hadolint DL3008",
        "",
        "Output: `k8orize/shop/20260301-120000` in k8or's data folder.",
    ]
)


def alert_card() -> dict[str, Any]:
    incident = Incident(
        "shop", "web", CRASHLOOP, "CrashLoopBackOff", "Deployment", restarts=7, pods=frozenset({"p"})
    )
    activity = render_alert(AlertView(incident, "prod-eu", "msteams", rollback_to=3))
    return activity.attachments[0].content


def confirmation_card() -> dict[str, Any]:
    person = Person(key="msteams:aad-1", channel="msteams", user_id="aad-1", name="Ada Lovelace")
    pending = PendingAction.create(
        "delete web", "delete", {"app": "web"}, "web", person, TargetRef("prod-eu", "shop"), two_person=False
    )
    return confirmation_request(pending, "msteams").attachments[0].content


def every_card() -> list[tuple[str, dict[str, Any], list[str]]]:
    """(name, card, text a reader must see on it) for each card k8or sends."""
    return [
        (
            "status-app",
            cards.app_card(app_status()),
            ["web", "1/2", "registry.example/web:1.27", "crash-looping"],
        ),
        ("status-namespace", cards.namespace_card(namespace_status()), ["shop on prod-eu: 2/3 apps healthy"]),
        (
            "revisions",
            cards.revisions_card("web", REVISIONS),
            ["Revisions of web", "4 (current)", "web:1.25"],
        ),
        ("alert", alert_card(), ["web", "CrashLoopBackOff", "Rollback"]),
        ("confirmation", confirmation_card(), ["delete web", "Confirm", "Cancel"]),
        ("k8orize-summary", cards.text_card(K8ORIZE_SUMMARY), ["k8orized shop", "54.8% smaller", "FAILED"]),
    ]
