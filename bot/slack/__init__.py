"""Slack as a channel: Events API and interactivity in, Web API (slack_sdk) out."""
