"""Every card k8or sends is an Adaptive Card 1.5 by Microsoft's schema; status, revisions and
listings are fitted to each channel's message limit, the card left out before the text is cut."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import jsonschema
import pytest

from actions.alerting import AlertView
from cluster.incidents import CRASHLOOP, Incident
from dialogs import cards, cluster_render
from dialogs.message_fit import TEAMS, limit_for
from dialogs.notify_alerts import render_alert
from tests.support.cards import REVISIONS, app_status, every_card, namespace_status

SCHEMA = json.loads(
    (Path(__file__).parents[2] / "support" / "data" / "adaptive-cards" / "adaptive-card-1.5.json").read_text()
)
CARDS = every_card()


@pytest.mark.parametrize(("name", "card", "shown"), CARDS, ids=[name for name, _, _ in CARDS])
def test_every_card_is_valid_by_the_adaptive_card_1_5_schema(name, card, shown) -> None:
    jsonschema.Draft6Validator(SCHEMA).validate(card)
    assert card["type"] == "AdaptiveCard" and card["body"]


def test_a_card_carries_the_same_facts_as_the_text_reply() -> None:
    reply = cards.status_reply("webchat", app_status())
    card = reply.attachments[0].content
    facts = {f["title"]: f["value"] for f in card["body"][1]["facts"]}
    assert facts["Image"] == "registry.example/web:1.27" and "`registry.example/web:1.27`" in reply.text
    assert facts["Available"] == "1/2" and "1/2 available" in reply.text
    assert card["fallbackText"] == reply.text


def test_teams_gets_the_card_alone_so_it_says_things_once() -> None:
    """Teams draws a message's text and then its card: the text goes as the card's fallbackText."""
    reply = cards.status_reply("msteams", app_status())
    [attachment] = reply.attachments
    assert reply.text == "" and "1/2 available" in attachment.content["fallbackText"]


def test_the_console_gets_the_text_alone() -> None:
    reply = cards.revisions_reply("console", "web", REVISIONS)
    assert reply.attachments == [] and "- 4: `registry.example/web:1.27`, 2d old ← current" in reply.text


def test_a_namespace_with_hundreds_of_apps_fits_a_teams_message_and_says_what_was_left_out() -> None:
    whole = cluster_render.namespace(namespace_status(400)).split("\n")
    reply = cards.namespace_reply("msteams", namespace_status(400))
    assert reply.attachments == []  # the card would not fit: the text is its fallback
    assert TEAMS.fits(reply.text)
    lines = reply.text.split("\n")
    assert lines[1:-1] == whole[1 : len(lines) - 1]  # the head of the listing, in order
    assert lines[0] == "**shop** on `prod-eu`: 399/400 apps healthy"
    shown = sum(line.startswith("- ") and "`app-" in line for line in lines)
    assert 0 < shown < 400
    assert lines[-1] == (
        f"… and {len(whole) - (len(lines) - 1)} more lines not shown (ask for one app with `status <app>`)."
    )


def test_where_a_file_can_go_the_whole_listing_is_attached() -> None:
    assert limit_for("webchat").files
    reply = cards.namespace_reply("webchat", namespace_status(400))
    [attached] = reply.attachments
    assert attached.name == "status-shop.txt"
    whole = base64.b64decode(attached.content_url.split(",", 1)[1]).decode()
    assert whole.count("`app-") == 400 and "the whole reply is attached as `status-shop.txt`" in reply.text


def test_a_small_namespace_keeps_its_card_on_teams_and_slack() -> None:
    for channel in ("msteams", "slack"):
        reply = cards.namespace_reply(channel, namespace_status(3))
        assert [a.content_type for a in reply.attachments] == ["application/vnd.microsoft.card.adaptive"]


def test_a_teams_alert_is_its_card_alone_with_the_text_as_the_notification_summary() -> None:
    """On Teams the alert's text would be drawn above the card that repeats it; on Slack the text is
    the push notification and the fallback of the Block Kit buttons, so it stays."""
    incident = Incident("shop", "web", CRASHLOOP, "CrashLoopBackOff", "Deployment", restarts=7)
    teams = render_alert(AlertView(incident, "prod-eu", "msteams", rollback_to=3))
    slack = render_alert(AlertView(incident, "prod-eu", "slack", rollback_to=3))
    card = teams.attachments[0].content
    assert not teams.text and "CrashLoopBackOff" in teams.summary
    assert "**" not in teams.summary and "`" not in teams.summary  # notifications show no markdown
    assert card["fallbackText"] == teams.summary and "`" not in card["body"][0]["text"]
    assert slack.text.startswith("🚨 **web**") and slack.attachments[0].content == card
    assert teams.serialize()["summary"] == teams.summary  # it goes over the wire
