"""AWS, through boto3.

Sign-in: access keys (optionally with a session token), or IAM Identity Center device authorization
(sso-oidc) followed by GetRoleCredentials; either may then assume a role. Verified by STS
GetCallerIdentity. Endpoints follow K8OR_AWS_ENDPOINT_URL, else boto3's own AWS_ENDPOINT_URL.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from connectors import errors
from connectors.base import (
    Connector,
    Credentials,
    DeviceAuthorization,
    FieldSpec,
    Identity,
    OAuthDeviceAuthorization,
    SignInMethod,
    TokenFields,
)
from connectors.http import DEFAULT_TIMEOUT, parse_time, parsed, run_blocking
from connectors.oauth import DEVICE_GRANT
from connectors.sdk_import import sdk_loaded
from connectors.sdk_logging import quiet_sdk_loggers
from connectors.settings import AwsSettings

if TYPE_CHECKING:  # boto3 is imported at the first AWS call, not when k8or starts
    import boto3
    import botocore.config
    import botocore.exceptions

T = TypeVar("T")
ACCESS_KEYS = TokenFields(
    key="keys",
    label="Access keys",
    fields=(
        FieldSpec("access_key_id", "Access key ID"),
        FieldSpec("secret_access_key", "Secret access key", secret=True),
        FieldSpec("session_token", "Session token (temporary credentials only)", secret=True, required=False),
        FieldSpec("role_arn", "Role to assume (optional)", required=False),
    ),
)
EXPIRED_CODES = {"ExpiredToken", "ExpiredTokenException", "RequestExpired"}
UNAUTHORIZED_CODES = {
    "InvalidClientTokenId",
    "SignatureDoesNotMatch",
    "UnrecognizedClientException",
    "InvalidAccessKeyId",
    "UnauthorizedException",
    "InvalidGrantException",
}
FORBIDDEN_CODES = {"AccessDenied", "AccessDeniedException", "Forbidden", "ForbiddenException"}
THROTTLED_CODES = {"Throttling", "ThrottlingException", "TooManyRequestsException", "RequestLimitExceeded"}
PENDING_CODES = {"AuthorizationPendingException", "SlowDownException"}


class AwsConnector(Connector):
    """AWS: a boto3 Session per person; identity from STS GetCallerIdentity."""

    name = "aws"
    display_name = "AWS"
    settings_model = AwsSettings
    settings: AwsSettings
    timeout = DEFAULT_TIMEOUT

    def __init__(self, settings: AwsSettings | None = None) -> None:
        super().__init__(settings)
        quiet_sdk_loggers()
        self._loader: Any = None

    def new_session(self, **credentials: Any) -> boto3.Session:
        """A boto3 Session sharing this connector's model loader: parsing the service models once,
        not per person and call, keeps a verify well under a second."""
        import boto3
        import botocore.session

        core = botocore.session.Session()
        if self._loader is None:
            self._loader = core.get_component("data_loader")
        core.register_component("data_loader", self._loader)
        return boto3.Session(botocore_session=core, region_name=self.settings.region, **credentials)

    def sign_in_methods(self) -> tuple[SignInMethod, ...]:
        if not self.settings.sso_start_url:
            return (ACCESS_KEYS,)
        device = OAuthDeviceAuthorization(key="sso", label="IAM Identity Center (device code)")
        return (device, ACCESS_KEYS)

    # --- clients --------------------------------------------------------------------------------------

    def _config(self) -> botocore.config.Config:
        import botocore.config

        # One attempt: a throttled or failing call is reported to the person, not retried behind a timeout.
        return botocore.config.Config(
            connect_timeout=self.timeout,
            read_timeout=self.timeout,
            retries={"max_attempts": 1, "mode": "standard"},
        )

    def client(self, session: boto3.Session, service: str, region: str | None = None) -> Any:
        """A boto3 client from `session`, with k8or's endpoint override and timeouts."""
        return session.client(
            service,
            region_name=region or self.settings.region,
            endpoint_url=self.settings.endpoint_url or None,
            config=self._config(),
        )

    def _anonymous(self, service: str, region: str) -> Any:
        # sso-oidc and the SSO portal take no SigV4 signature; no local AWS profile should leak in.
        import botocore.config

        config = self._config().merge(botocore.config.Config(signature_version=botocore.UNSIGNED))
        return self.new_session().client(
            service, region_name=region, endpoint_url=self.settings.endpoint_url or None, config=config
        )

    def _sso_region(self) -> str:
        return self.settings.sso_region or self.settings.region

    # --- device authorization -------------------------------------------------------------------------

    async def start_device_authorization(self, method: OAuthDeviceAuthorization) -> DeviceAuthorization:
        def work() -> DeviceAuthorization:
            oidc = self._anonymous("sso-oidc", self._sso_region())
            client = oidc.register_client(clientName="k8or", clientType="public")
            started = oidc.start_device_authorization(
                clientId=client["clientId"],
                clientSecret=client["clientSecret"],
                startUrl=self.settings.sso_start_url,
            )
            return _device(client, started)

        return await self._call(work)

    async def poll_device_authorization(
        self, method: OAuthDeviceAuthorization, device: DeviceAuthorization
    ) -> Credentials | None:
        def work() -> dict[str, Any] | None:
            import botocore.exceptions

            oidc = self._anonymous("sso-oidc", self._sso_region())
            try:
                token: dict[str, Any] = oidc.create_token(
                    clientId=device.state["client_id"],
                    clientSecret=device.state["client_secret"],
                    grantType=DEVICE_GRANT,
                    deviceCode=device.state["device_code"],
                )
            except botocore.exceptions.ClientError as exc:
                _pending_or_raise(exc, self)
                return None
            return token

        token = await self._call(work)
        if token is None:
            return None
        expires = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=int(token.get("expiresIn", 3600)))
        return Credentials(
            sso_access_token=token["accessToken"],
            expires_at=expires.isoformat(),
            account_id=self.settings.sso_account_id,
            role_name=self.settings.sso_role_name,
        )

    # --- sessions and identity ------------------------------------------------------------------------

    def _base_session(self, credentials: Credentials) -> tuple[boto3.Session, dt.datetime | None]:
        if "sso_access_token" in credentials:
            portal = self._anonymous("sso", self._sso_region())
            role = portal.get_role_credentials(
                roleName=credentials["role_name"],
                accountId=credentials["account_id"],
                accessToken=credentials["sso_access_token"],
            )["roleCredentials"]
            session = self.new_session(
                aws_access_key_id=role["accessKeyId"],
                aws_secret_access_key=role["secretAccessKey"],
                aws_session_token=role["sessionToken"],
            )
            return session, dt.datetime.fromtimestamp(role["expiration"] / 1000, dt.UTC)
        session = self.new_session(
            aws_access_key_id=credentials["access_key_id"],
            aws_secret_access_key=credentials["secret_access_key"],
            aws_session_token=credentials.get("session_token") or None,
        )
        return session, parse_time(credentials.get("expires_at"))

    def _session(self, credentials: Credentials) -> tuple[boto3.Session, dt.datetime | None]:
        session, expires_at = self._base_session(credentials)
        role_arn = credentials.get("role_arn") or self.settings.role_arn
        if not role_arn:
            return session, expires_at
        assumed = self.client(session, "sts").assume_role(RoleArn=role_arn, RoleSessionName="k8or")[
            "Credentials"
        ]
        session = self.new_session(
            aws_access_key_id=assumed["AccessKeyId"],
            aws_secret_access_key=assumed["SecretAccessKey"],
            aws_session_token=assumed["SessionToken"],
        )
        return session, assumed["Expiration"]

    async def session(self, credentials: Credentials) -> boto3.Session:
        """A boto3 Session acting as this person (role assumed when configured); use `client()` on it."""
        session, _expires_at = await self._call(lambda: self._session(credentials))
        return session

    async def verify(self, credentials: Credentials) -> Identity:
        def who() -> tuple[dict[str, Any], dt.datetime | None]:
            session, expires_at = self._session(credentials)
            return self.client(session, "sts").get_caller_identity(), expires_at

        caller, expires_at = await self._call(who)
        return parsed(self.name, self.display_name, lambda: _identity(caller, expires_at))

    # --- error translation ----------------------------------------------------------------------------

    async def _call(self, work: Callable[[], T]) -> T:
        await sdk_loaded("boto3", "botocore.exceptions", "botocore.parsers")
        return await run_blocking(self.name, self.display_name, self.timeout, lambda: self._translate(work))

    def _translate(self, work: Callable[[], T]) -> T:
        import botocore.exceptions
        import botocore.parsers

        try:
            return work()
        except botocore.exceptions.ClientError as exc:
            raise _client_error(exc, self) from None
        except (botocore.exceptions.ReadTimeoutError, botocore.exceptions.ConnectTimeoutError):
            raise self.error(errors.ServiceTimeout) from None
        except (botocore.exceptions.EndpointConnectionError, botocore.exceptions.ConnectionClosedError):
            raise self.error(errors.ServiceUnreachable) from None
        except botocore.parsers.ResponseParserError:
            raise self.error(errors.MalformedResponse) from None
        except (
            botocore.exceptions.NoCredentialsError,
            botocore.exceptions.PartialCredentialsError,
            KeyError,
        ):
            raise self.error(errors.InvalidCredentials) from None
        except botocore.exceptions.BotoCoreError:
            raise self.error(errors.ServiceUnreachable) from None


def _client_error(exc: botocore.exceptions.ClientError, connector: Connector) -> errors.VerificationError:
    code = exc.response.get("Error", {}).get("Code", "")
    meta = exc.response.get("ResponseMetadata", {})
    if code in EXPIRED_CODES:
        return connector.error(errors.CredentialsExpired)
    if code in UNAUTHORIZED_CODES:
        return connector.error(errors.Unauthorized)
    if code in FORBIDDEN_CODES:
        return connector.error(errors.Forbidden)
    status = meta.get("HTTPStatusCode", 0)
    if code in THROTTLED_CODES or status == 429:
        retry_after = errors.parse_retry_after(meta.get("HTTPHeaders", {}).get("retry-after"))
        return errors.RateLimited(connector.name, connector.display_name, retry_after)
    return errors.for_status(status, connector.name, connector.display_name)


def _pending_or_raise(exc: botocore.exceptions.ClientError, connector: Connector) -> None:
    """Return while the person has not approved yet; raise the sign-in error the code means otherwise."""
    code = exc.response.get("Error", {}).get("Code", "")
    if code in PENDING_CODES:
        return None
    if code == "AccessDeniedException":
        raise connector.error(errors.SignInDenied) from None
    if code == "ExpiredTokenException":
        raise connector.error(errors.SignInExpired) from None
    raise _client_error(exc, connector) from None


def _device(client: dict[str, Any], started: dict[str, Any]) -> DeviceAuthorization:
    return DeviceAuthorization(
        user_code=started["userCode"],
        verification_uri=started["verificationUri"],
        verification_uri_complete=started.get("verificationUriComplete", ""),
        expires_at=dt.datetime.now(dt.UTC) + dt.timedelta(seconds=int(started["expiresIn"])),
        interval=float(started.get("interval", 5)),
        state=Credentials(
            client_id=client["clientId"],
            client_secret=client["clientSecret"],
            device_code=started["deviceCode"],
        ),
    )


def _identity(caller: dict[str, Any], expires_at: dt.datetime | None) -> Identity:
    arn = str(caller["Arn"])
    return Identity(
        subject=arn,
        display_name=arn.rsplit("/", 1)[-1] if "/" in arn else arn,
        expires_at=expires_at,
        details={"account": str(caller["Account"]), "user_id": str(caller["UserId"])},
    )
