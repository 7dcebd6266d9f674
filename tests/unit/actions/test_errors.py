"""actions.errors: each library's error root becomes one K8orError with the library's own line."""

from __future__ import annotations

import pytest

from actions.errors import ClusterFailed, K8orizeFailed, ServiceRefused, translated, user_error
from bot.errors import K8orError, UsageError
from cluster.errors import ClusterError, NotFound
from connectors.errors import NotSignedIn, VerificationError
from k8orize.errors import K8orizeError, ProbeTimeout


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (NotFound("read deployment: not found: web"), ClusterFailed),
        (ClusterError("cluster gone"), ClusterFailed),
        (ProbeTimeout("the probe never answered"), K8orizeFailed),
        (K8orizeError("stopped"), K8orizeFailed),
        (NotSignedIn("github", "GitHub"), ServiceRefused),
        (VerificationError("jira", "Jira"), ServiceRefused),
    ],
)
def test_library_errors_become_k8or_errors_with_the_same_message(error, kind):
    translated_error = user_error(error)
    assert isinstance(translated_error, kind)
    assert isinstance(translated_error, K8orError)
    assert str(translated_error) == str(error)
    assert translated_error.cause is error


def test_k8or_errors_are_themselves_and_others_are_not_translated():
    own = UsageError("bad")
    assert user_error(own) is own
    assert user_error(ValueError("x")) is None


async def test_translated_reraises_library_errors_chained():
    with pytest.raises(ClusterFailed) as caught:
        async with translated():
            raise NotFound("read deployment: not found: web")
    assert str(caught.value) == "read deployment: not found: web"
    assert isinstance(caught.value.__cause__, NotFound)


async def test_translated_lets_other_errors_pass_unchanged():
    with pytest.raises(ValueError):
        async with translated():
            raise ValueError("a bug stays a bug")
    own = UsageError("bad")
    with pytest.raises(UsageError) as caught:
        async with translated():
            raise own
    assert caught.value is own


async def test_translated_works_as_a_decorator():
    @translated()
    async def sign_in() -> None:
        raise NotSignedIn("github", "GitHub")

    with pytest.raises(ServiceRefused, match="GitHub"):
        await sign_in()
