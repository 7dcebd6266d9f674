"""Google, through google-auth and google-api-python-client (the oauth2 v2 API).

Sign-in: OAuth 2.0 authorization code (web) or device flow. Verified by userinfo, with scopes and
expiry from tokeninfo. An expired access token is refreshed with the refresh token when there is one.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlencode

from connectors import errors
from connectors.base import (
    Connector,
    Credentials,
    DeviceAuthorization,
    Identity,
    OAuthAuthorizationCode,
    OAuthDeviceAuthorization,
    SignInMethod,
)
from connectors.http import DEFAULT_TIMEOUT, ServiceHttp, error_for, parse_time, parsed, run_blocking
from connectors.oauth import exchange_code, poll_device, start_device, token_credentials
from connectors.sdk_import import sdk_loaded
from connectors.sdk_logging import quiet_sdk_loggers
from connectors.settings import GoogleSettings

if TYPE_CHECKING:  # google-auth and the API client are imported at the first Google call, not at start
    from google.oauth2.credentials import Credentials as GoogleCredentials

T = TypeVar("T")


class CalendarNotFound(errors.VerificationError):
    """Calendar answered 404: no calendar by that id, or the person may not read it."""

    code = "not_found"
    template = "{service} has no such calendar that you can read."
    action_template = "Check the calendar id (Settings → Integrate calendar), and that it is shared with you."


class GoogleConnector(Connector):
    """Google account: userinfo says who, tokeninfo says which scopes and until when."""

    name = "google"
    display_name = "Google"
    settings_model = GoogleSettings
    settings: GoogleSettings
    timeout = DEFAULT_TIMEOUT

    def __init__(self, settings: GoogleSettings | None = None) -> None:
        super().__init__(settings)
        quiet_sdk_loggers()
        self.http = ServiceHttp(self.name, self.display_name)

    def sign_in_methods(self) -> tuple[SignInMethod, ...]:
        scopes = tuple(self.settings.scopes.split())
        return (
            OAuthAuthorizationCode(key="oauth", label="Sign in with Google", scopes=scopes),
            OAuthDeviceAuthorization(key="device", label="Use a device code instead", scopes=scopes),
        )

    def _client(self) -> dict[str, str]:
        if not self.settings.client_id:
            raise self.error(errors.NotConfigured)
        return {
            "client_id": self.settings.client_id,
            "client_secret": self.settings.client_secret.get_secret_value(),
        }

    # --- sign-in --------------------------------------------------------------------------------------

    def authorization_url(self, method: OAuthAuthorizationCode, state: str, redirect_uri: str) -> str:
        query = {
            "client_id": self._client()["client_id"],
            "redirect_uri": redirect_uri,
            "response_type": "code",
            "scope": " ".join(method.scopes),
            "state": state,
            # offline + consent: Google then returns a refresh token, so verification outlives the hour.
            "access_type": "offline",
            "prompt": "consent",
        }
        return f"{self.settings.auth_uri}?{urlencode(query)}"

    async def exchange_code(
        self, method: OAuthAuthorizationCode, code: str, redirect_uri: str
    ) -> Credentials:
        form = {**self._client(), "code": code, "redirect_uri": redirect_uri}
        body = await exchange_code(self.http, self.settings.token_uri, form)
        return parsed(self.name, self.display_name, lambda: token_credentials(body))

    async def start_device_authorization(self, method: OAuthDeviceAuthorization) -> DeviceAuthorization:
        form = {"client_id": self._client()["client_id"], "scope": " ".join(method.scopes)}
        return await start_device(self.http, self.settings.device_auth_uri, form)

    async def poll_device_authorization(
        self, method: OAuthDeviceAuthorization, device: DeviceAuthorization
    ) -> Credentials | None:
        form = {**self._client(), "device_code": device.state["device_code"]}
        body = await poll_device(self.http, self.settings.token_uri, form)
        return None if body is None else parsed(self.name, self.display_name, lambda: token_credentials(body))

    # --- API ------------------------------------------------------------------------------------------

    def google_credentials(self, credentials: Credentials) -> GoogleCredentials:
        """google-auth credentials for this person, able to refresh themselves when a refresh token exists."""
        from google.oauth2.credentials import Credentials as GoogleCredentials

        expiry = parse_time(credentials.get("expires_at"))
        return GoogleCredentials(
            token=credentials["access_token"],
            refresh_token=credentials.get("refresh_token"),
            token_uri=self.settings.token_uri,
            client_id=self.settings.client_id or None,
            client_secret=self.settings.client_secret.get_secret_value() or None,
            # google-auth compares against a naive UTC clock.
            expiry=expiry.astimezone(dt.UTC).replace(tzinfo=None) if expiry else None,
        )

    def oauth2_api(self, credentials: Credentials) -> Any:
        """The oauth2 v2 API client (bundled discovery document, no network fetch) for this person."""
        import google_auth_httplib2
        import httplib2
        from googleapiclient.discovery import build

        http = google_auth_httplib2.AuthorizedHttp(
            self.google_credentials(credentials), http=httplib2.Http(timeout=self.timeout)
        )
        return build(
            "oauth2",
            "v2",
            http=http,
            static_discovery=True,
            cache_discovery=False,
            client_options={"api_endpoint": self.settings.api_url},
        )

    def calendar_api(self, credentials: Credentials) -> Any:
        """The Calendar v3 API client (bundled discovery document) acting as this person."""
        import google_auth_httplib2
        import httplib2
        from googleapiclient.discovery import build

        http = google_auth_httplib2.AuthorizedHttp(
            self.google_credentials(credentials), http=httplib2.Http(timeout=self.timeout)
        )
        # api_endpoint replaces the root and the service path: give both, as the discovery document has them.
        options = {"api_endpoint": self.settings.api_url.rstrip("/") + "/calendar/v3/"}
        return build(
            "calendar", "v3", http=http, static_discovery=True, cache_discovery=False, client_options=options
        )

    async def events_now(self, credentials: Credentials, calendar: str) -> tuple[str, ...]:
        """The titles of the events on `calendar` happening now (`events.list` with timeMin now and
        timeMax a second later, recurring events expanded), as this person."""
        await sdk_loaded("google.oauth2.credentials", "googleapiclient.discovery", "google_auth_httplib2")
        now = dt.datetime.now(dt.UTC)

        def work() -> tuple[str, ...]:
            from googleapiclient.errors import HttpError

            events = self.calendar_api(credentials).events()
            window = {"timeMin": now.isoformat(), "timeMax": (now + dt.timedelta(seconds=1)).isoformat()}
            try:
                listed = events.list(
                    calendarId=calendar, singleEvents=True, maxResults=50, **window
                ).execute()
            except HttpError as exc:
                if exc.resp.status == 404:
                    raise self.error(CalendarNotFound) from None
                raise
            return tuple(str(e.get("summary") or "") for e in listed.get("items", []))

        return await run_blocking(self.name, self.display_name, self.timeout, lambda: self._translate(work))

    async def verify(self, credentials: Credentials) -> Identity:
        await sdk_loaded("google.oauth2.credentials", "googleapiclient.discovery", "google_auth_httplib2")
        stale = credentials["access_token"]
        if self.google_credentials(credentials).expired:
            user, token = await self._userinfo(credentials)  # refreshes first
            token_info = await self.token_info(token)
        else:
            user, token, token_info = await self._both(credentials)
        identity = parsed(self.name, self.display_name, lambda: _identity(user, token_info))
        if token == stale:
            return identity
        # google-auth refreshed the access token: hand it back so the vault can keep the new one.
        expires_at = identity.expires_at.isoformat() if identity.expires_at else ""
        return dataclasses.replace(
            identity, refreshed=credentials.with_values(access_token=token, expires_at=expires_at)
        )

    async def _both(self, credentials: Credentials) -> tuple[dict[str, Any], str, dict[str, Any]]:
        """userinfo and tokeninfo at once; tokeninfo again if userinfo had to refresh the token."""
        stale = credentials["access_token"]
        answers = await asyncio.gather(
            self._userinfo(credentials), self.token_info(stale), return_exceptions=True
        )
        who, token_info = answers
        if isinstance(who, BaseException):
            raise who
        user, token = who
        if token != stale or isinstance(token_info, BaseException):
            token_info = await self.token_info(token)
        return user, token, token_info

    async def _userinfo(self, credentials: Credentials) -> tuple[dict[str, Any], str]:
        def who() -> tuple[dict[str, Any], str]:
            api = self.oauth2_api(credentials)
            user = api.userinfo().get().execute()
            return user, api._http.credentials.token  # the refreshed token, if it was refreshed

        return await run_blocking(self.name, self.display_name, self.timeout, lambda: self._translate(who))

    async def token_info(self, access_token: str) -> dict[str, Any]:
        """Scopes and remaining lifetime of an access token (oauth2 v2 tokeninfo).

        Sent as a form body, not the query string the discovery document uses, so the token never
        appears in a URL that a client or proxy would log.
        """
        url = self.settings.api_url.rstrip("/") + "/oauth2/v2/tokeninfo"
        body, _headers = await self.http.json_object(
            "POST", url, data={"access_token": access_token}, ok=(200, 400)
        )
        if "error" in body:  # 400 invalid_token: revoked, or not a Google token at all
            raise self.error(errors.Unauthorized)
        return body

    def _translate(self, work: Callable[[], T]) -> T:
        import google.auth.exceptions
        import httplib2
        from googleapiclient.errors import HttpError

        try:
            return work()
        except HttpError as exc:
            headers = {str(k).title(): str(v) for k, v in exc.resp.items()}
            headers["WWW-Authenticate"] = headers.pop("Www-Authenticate", "")
            raise error_for(exc.resp.status, headers, self.name, self.display_name) from None
        except google.auth.exceptions.RefreshError:
            raise self.error(errors.CredentialsExpired) from None
        except TimeoutError:
            raise self.error(errors.ServiceTimeout) from None
        except (OSError, httplib2.HttpLib2Error):
            raise self.error(errors.ServiceUnreachable) from None
        except ValueError:
            raise self.error(errors.MalformedResponse) from None

    async def aclose(self) -> None:
        await self.http.aclose()


def _identity(user: dict[str, Any], token_info: dict[str, Any]) -> Identity:
    expires_in = token_info.get("expires_in")
    expires_at = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=int(expires_in)) if expires_in else None
    return Identity(
        subject=str(user["email"]),
        display_name=str(user.get("name") or user["email"]),
        scopes=tuple(str(token_info.get("scope", "")).split()),
        expires_at=expires_at,
        details={"id": str(user["id"])},
    )
