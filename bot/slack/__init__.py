"""Slack as a channel: Events API and interactivity in, Web API (slack_sdk) out.

This package's modules import slack_sdk; `configured` does not, so a bot without Slack never loads it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.settings import Settings


def configured(settings: Settings) -> bool:
    """Slack is on when both its bot token and its signing secret are set."""
    return bool(
        settings.slack_bot_token.get_secret_value() and settings.slack_signing_secret.get_secret_value()
    )
