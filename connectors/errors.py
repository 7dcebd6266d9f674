"""Why a connector could not verify or use a person's credentials.

Each error carries a reason and an action a person can follow, worded in `connectors.messages`.
Messages are built only from our own templates and the service's display name, never from a
response body or a credential, so an error can be logged or shown in chat without leaking secrets.
"""

from __future__ import annotations

from connectors import messages


class VerificationError(Exception):
    """The service did not confirm who this person is; `reason` and `action` are for the person."""

    code = "failed"
    template = messages.FAILED
    action_template = messages.SIGN_IN_AGAIN

    def __init__(self, service: str, display_name: str | None = None) -> None:
        self.service = service
        self.display_name = display_name or service
        super().__init__(self.reason)

    @property
    def reason(self) -> str:
        """What went wrong, in one sentence."""
        return self.template.format(service=self.display_name)

    @property
    def action(self) -> str:
        """What the person can do about it."""
        return self.action_template.format(service=self.service, display_name=self.display_name)

    def __str__(self) -> str:
        return f"{self.reason} {self.action}"


class NotSignedIn(VerificationError):
    code = "not_signed_in"
    template = messages.NOT_SIGNED_IN
    action_template = messages.SIGN_IN


class Unauthorized(VerificationError):
    code = "unauthorized"
    template = messages.UNAUTHORIZED


class Forbidden(VerificationError):
    code = "forbidden"
    template = messages.FORBIDDEN
    action_template = messages.GRANT_ACCESS


class CredentialsExpired(VerificationError):
    code = "expired"
    template = messages.EXPIRED


class RateLimited(VerificationError):
    code = "rate_limited"
    template = messages.RATE_LIMITED

    def __init__(
        self, service: str, display_name: str | None = None, retry_after: float | None = None
    ) -> None:
        self.retry_after = retry_after
        super().__init__(service, display_name)

    @property
    def action(self) -> str:
        if self.retry_after is None:
            return messages.RETRY_LATER
        return messages.RETRY_AFTER.format(seconds=max(1, round(self.retry_after)))


class ServiceTimeout(VerificationError):
    code = "timeout"
    template = messages.TIMEOUT
    action_template = messages.TRY_AGAIN


class MalformedResponse(VerificationError):
    code = "malformed"
    template = messages.MALFORMED
    action_template = messages.TRY_AGAIN_OR_ADMIN


class ServiceUnreachable(VerificationError):
    code = "unreachable"
    template = messages.UNREACHABLE
    action_template = messages.TRY_AGAIN_OR_ADMIN


class InvalidCredentials(VerificationError):
    """The sign-in form was incomplete or a value had the wrong shape; nothing was sent to the service."""

    code = "invalid"
    template = messages.INVALID_FORM
    action_template = messages.FIX_FORM


class SiteRefused(InvalidCredentials):
    """A person-typed site k8or will not contact, or that did not answer as the service does.

    One message for every cause (not allowed, private address, nothing listening, timed out, not the
    service), so the form cannot be used to map which hosts and ports answer inside the network.
    """

    code = "site_refused"
    template = messages.SITE_REFUSED
    action_template = messages.FIX_SITE


class SignInDenied(VerificationError):
    code = "denied"
    template = messages.DENIED


class SignInExpired(VerificationError):
    code = "sign_in_expired"
    template = messages.SIGN_IN_EXPIRED


class NotConfigured(VerificationError):
    """k8or itself lacks a setting (e.g. an OAuth client id) needed for this sign-in method."""

    code = "not_configured"
    template = messages.NOT_CONFIGURED
    action_template = messages.ASK_ADMIN


def for_status(
    status: int, service: str, display_name: str, retry_after: float | None = None
) -> VerificationError:
    """The error for an HTTP failure status, so every connector reads status codes the same way."""
    if status == 401:
        return Unauthorized(service, display_name)
    if status == 403:
        return Forbidden(service, display_name)
    if status == 429:
        return RateLimited(service, display_name, retry_after)
    if status in (502, 503, 504):
        return ServiceUnreachable(service, display_name)
    return VerificationError(service, display_name)


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds form); None when absent or an HTTP date."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None
