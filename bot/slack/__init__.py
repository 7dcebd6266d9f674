"""Slack as a channel: Events API, interactivity and slash commands in (over HTTP or Socket Mode),
Web API (slack_sdk) out.

This package's modules import slack_sdk; `configured` does not, so a bot without Slack never loads it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.settings import Settings


def configured(settings: Settings) -> bool:
    """Slack is on with its bot token and a way in: the signing secret (Events API over HTTP) or an
    app-level token (Socket Mode), or both."""
    way_in = settings.slack_signing_secret.get_secret_value() or settings.slack_app_token.get_secret_value()
    return bool(settings.slack_bot_token.get_secret_value() and way_in)
