"""Fitting a long text into one message, per channel: what a person sees and what they are told."""

from __future__ import annotations

import base64

import pytest

from dialogs.message_fit import ENVELOPE, SLACK, TEAMS, UNLIMITED, fit, limit_for

LINES = tuple(f"{i:05d} " + "é" * 50 for i in range(3000))  # non-ASCII: UTF-16 and characters differ


@pytest.mark.parametrize(("channel", "limit"), [("msteams", TEAMS), ("slack", SLACK), ("console", UNLIMITED)])
def test_each_known_channel_has_its_limit(channel, limit):
    assert limit_for(channel) is limit


def test_an_unknown_channel_gets_the_tightest_limit_and_files():
    limit = limit_for("webchat")
    assert limit.size == TEAMS.size and limit.files


def test_teams_counts_utf16_and_keeps_the_newest_lines_without_a_file():
    fitted = fit(LINES, TEAMS, "web.log")
    text = "\n".join(fitted.lines)
    assert len(text.encode("utf-16-le")) <= TEAMS.size - ENVELOPE
    assert fitted.lines[-1] == LINES[-1] and fitted.left_out == len(LINES) - len(fitted.lines) > 0
    assert fitted.attachment is None


def test_slack_counts_characters():
    fitted = fit(LINES, SLACK, "web.log")
    assert len("\n".join(fitted.lines)) <= SLACK.size - ENVELOPE < len("\n".join(LINES))
    assert len(fitted.lines) > len(fit(LINES, TEAMS, "web.log").lines)  # 40,000 chars > 28 KB of UTF-16


def test_the_console_shows_everything():
    fitted = fit(LINES, UNLIMITED, "web.log")
    assert fitted.lines == LINES and fitted.left_out == 0 and fitted.attachment is None


def test_where_files_show_the_whole_text_is_attached():
    fitted = fit(LINES, limit_for("webchat"), "web.log")
    assert fitted.attachment is not None and fitted.attachment.name == "web.log"
    data = fitted.attachment.content_url.removeprefix("data:text/plain;base64,")
    assert base64.b64decode(data).decode().splitlines() == list(LINES)


def test_text_that_fits_is_left_alone():
    short = LINES[:10]
    assert fit(short, TEAMS, "web.log").lines == short and fit(short, TEAMS, "web.log").attachment is None
