"""The device-code page links only to https pages: the provider's answer names where to go, and a
`javascript:` or plain-http URL there must not become a link a person clicks on k8or's page."""

from __future__ import annotations

import pytest

from bot.signin import pages

PROGRESS = {"state": "pending", "user_code": "WDJB-MJHT"}


def test_the_providers_https_pages_are_links() -> None:
    page = pages.device_page(
        "GitHub",
        {
            **PROGRESS,
            "verification_uri": "https://github.com/login/device",
            "verification_uri_complete": "https://github.com/login/device?user_code=WDJB-MJHT",
        },
    )
    assert '<a href="https://github.com/login/device" rel="noreferrer">' in page
    assert 'href="https://github.com/login/device?user_code=WDJB-MJHT" rel="noreferrer">this link' in page


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(document.cookie)",
        "JavaScript:alert(1)",
        "http://evil.example/device",
        "data:text/html,x",
    ],
)
def test_any_other_url_is_shown_as_text_never_as_a_link(url: str) -> None:
    page = pages.device_page(
        "GitHub", {**PROGRESS, "verification_uri": url, "verification_uri_complete": url + "?user_code=x"}
    )
    assert 'href="' + url not in page and "this link" not in page
    assert "WDJB-MJHT" in page  # the code is still there to type
