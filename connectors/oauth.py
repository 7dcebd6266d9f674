"""OAuth 2.0 token-endpoint conversations shared by the connectors that use them.

Authorization code exchange (RFC 6749 §4.1.3) and device authorization (RFC 8628), over `ServiceHttp`
so failures map to the same VerificationErrors as every other call.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from connectors import errors
from connectors.base import Credentials, DeviceAuthorization
from connectors.http import ServiceHttp, parsed

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
_ACCEPT_JSON = {"Accept": "application/json"}
# Token endpoints answer errors with 400/401 (RFC 6749 §5.2); Google answers "pending" with 428.
_TOKEN_ENDPOINT_STATUSES = (200, 400, 401, 403, 428)


async def start_device(http: ServiceHttp, url: str, form: Mapping[str, str]) -> DeviceAuthorization:
    """Request a device code and user code (RFC 8628 §3.1-3.2)."""
    body, _headers = await http.json("POST", url, data=dict(form), headers=_ACCEPT_JSON)

    def build() -> DeviceAuthorization:
        # Google names the field verification_url; the RFC and GitHub say verification_uri.
        uri = body.get("verification_uri") or body["verification_url"]
        return DeviceAuthorization(
            user_code=str(body["user_code"]),
            verification_uri=str(uri),
            verification_uri_complete=str(body.get("verification_uri_complete", "")),
            expires_at=dt.datetime.now(dt.UTC) + dt.timedelta(seconds=int(body["expires_in"])),
            interval=float(body.get("interval", 5)),
            state=Credentials(device_code=str(body["device_code"])),
        )

    return parsed(http.service, http.display_name, build)


async def poll_device(http: ServiceHttp, url: str, form: Mapping[str, str]) -> dict[str, Any] | None:
    """One poll of the token endpoint (RFC 8628 §3.4-3.5): the token response, or None while pending."""
    body, _headers = await http.json(
        "POST",
        url,
        data={"grant_type": DEVICE_GRANT, **form},
        headers=_ACCEPT_JSON,
        ok=_TOKEN_ENDPOINT_STATUSES,
    )
    if not isinstance(body, dict):
        raise errors.MalformedResponse(http.service, http.display_name)
    error = body.get("error")
    if error in ("authorization_pending", "slow_down"):
        return None
    if error == "access_denied":
        raise errors.SignInDenied(http.service, http.display_name)
    if error == "expired_token":
        raise errors.SignInExpired(http.service, http.display_name)
    if error or "access_token" not in body:
        raise errors.VerificationError(http.service, http.display_name)
    return body


async def exchange_code(http: ServiceHttp, url: str, form: Mapping[str, str]) -> dict[str, Any]:
    """Exchange an authorization code for tokens (RFC 6749 §4.1.3)."""
    body, _headers = await http.json(
        "POST",
        url,
        data={"grant_type": "authorization_code", **form},
        headers=_ACCEPT_JSON,
        ok=_TOKEN_ENDPOINT_STATUSES,
    )
    if not isinstance(body, dict):
        raise errors.MalformedResponse(http.service, http.display_name)
    if body.get("error") == "invalid_grant":
        raise errors.SignInExpired(http.service, http.display_name)
    if body.get("error") or "access_token" not in body:
        raise errors.Unauthorized(http.service, http.display_name)
    return body


def token_credentials(body: Mapping[str, Any], **extra: str) -> Credentials:
    """Credentials from a token response: access token, refresh token, scope and absolute expiry."""
    values = {"access_token": str(body["access_token"]), **extra}
    if body.get("refresh_token"):
        values["refresh_token"] = str(body["refresh_token"])
    if body.get("scope"):
        values["scope"] = str(body["scope"])
    if body.get("expires_in"):
        expiry = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=int(body["expires_in"]))
        values["expires_at"] = expiry.isoformat()
    return Credentials(values)
