"""Azure AD's token service on port 0, reached as https://login.microsoftonline.com by the real msal.

msal (inside the Bot Framework SDK's MicrosoftAppCredentials) asks the authority it is built with --
https://login.microsoftonline.com/botframework.com, or the bot's tenant for a SingleTenant bot --
for its OpenID configuration, then posts the client credentials to the token endpoint named there.
Nothing in k8or is pointed anywhere else: the test puts a CONNECT proxy in front (HTTPS_PROXY, which
`requests` honours) that tunnels login.microsoftonline.com:443 to this server, and this server
presents a certificate for that name from a CA made for the test (REQUESTS_CA_BUNDLE). Any other
host the proxy is asked for is refused and recorded, so no request can leave the machine.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import ssl
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

LOGIN_HOST = "login.microsoftonline.com"
_CA_USAGE = x509.KeyUsage(
    digital_signature=False,
    content_commitment=False,
    key_encipherment=False,
    data_encipherment=False,
    key_agreement=False,
    key_cert_sign=True,
    crl_sign=True,
    encipher_only=False,
    decipher_only=False,
)


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def _pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


@dataclass(frozen=True)
class LocalCertificateAuthority:
    """A CA generated for one test, and a server certificate it signed for `LOGIN_HOST`."""

    ca_file: Path
    server_context: ssl.SSLContext

    @classmethod
    def create(cls, folder: Path) -> LocalCertificateAuthority:
        now = dt.datetime.now(dt.UTC)
        ca_key, server_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
        ca = (
            x509.CertificateBuilder(issuer_name=_name("k8or test CA"), subject_name=_name("k8or test CA"))
            .public_key(ca_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(hours=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(_CA_USAGE, critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256())
        )
        server = (
            x509.CertificateBuilder(issuer_name=ca.subject, subject_name=_name(LOGIN_HOST))
            .public_key(server_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(LOGIN_HOST)]), critical=False)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
            )
            .sign(ca_key, hashes.SHA256())
        )
        folder.mkdir(parents=True, exist_ok=True)
        ca_file, chain, key = folder / "ca.pem", folder / "server.pem", folder / "server.key"
        ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
        chain.write_bytes(server.public_bytes(serialization.Encoding.PEM))
        key.write_bytes(_pem(server_key))
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(chain, key)
        return cls(ca_file, context)


@dataclass
class FakeAad:
    """The endpoints msal uses for client credentials, as documented: instance discovery, OpenID
    discovery per tenant, and a v2.0 token endpoint that checks the client id and secret."""

    client_id: str
    client_secret: str
    access_token: str = "aad-issued-bot-token"
    discoveries: list[str] = field(default_factory=list)  # tenant of each discovery
    token_requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)  # (tenant, form)
    instance_lookups: int = 0

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/{tenant}/v2.0/.well-known/openid-configuration", self._discovery)
        app.router.add_post("/{tenant}/oauth2/v2.0/token", self._token)
        app.router.add_get("/common/discovery/instance", self._instances)
        return app

    async def _instances(self, request: web.Request) -> web.Response:
        """The public cloud's hosts and their aliases (msal asks when its cache has no token)."""
        self.instance_lookups += 1
        aliases = [LOGIN_HOST, "login.windows.net", "login.microsoft.com", "sts.windows.net"]
        group = {"preferred_network": LOGIN_HOST, "preferred_cache": "login.windows.net", "aliases": aliases}
        endpoint = f"https://{LOGIN_HOST}/common/.well-known/openid-configuration"
        return web.json_response(
            {"tenant_discovery_endpoint": endpoint, "api-version": "1.1", "metadata": [group]}
        )

    async def _discovery(self, request: web.Request) -> web.Response:
        tenant = request.match_info["tenant"]
        self.discoveries.append(tenant)
        base = f"https://{LOGIN_HOST}/{tenant}"
        return web.json_response(
            {
                "issuer": f"{base}/v2.0",
                "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                "token_endpoint": f"{base}/oauth2/v2.0/token",
                "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt"],
            }
        )

    async def _token(self, request: web.Request) -> web.Response:
        form = {key: str(value) for key, value in (await request.post()).items()}
        self.token_requests.append((request.match_info["tenant"], form))
        if form.get("client_id") != self.client_id or form.get("client_secret") != self.client_secret:
            error = "AADSTS7000215: Invalid client secret provided."
            return web.json_response({"error": "invalid_client", "error_description": error}, status=401)
        body = {"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599}
        return web.json_response({**body, "access_token": self.access_token})


@dataclass
class TunnelProxy:
    """An HTTP CONNECT proxy that opens a tunnel to `LOGIN_HOST:443` only, into the fake AAD."""

    target_port: int
    asked: list[str] = field(default_factory=list)  # every host:port a client asked for
    _server: asyncio.AbstractServer | None = None

    async def start(self) -> str:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        method, target, *_ = head.split(b"\r\n", 1)[0].decode().split(" ")
        self.asked.append(target)
        if method != "CONNECT" or target != f"{LOGIN_HOST}:443":
            writer.write(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
            await writer.drain()
            writer.close()
            return
        upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        await writer.drain()
        await asyncio.gather(_pipe(reader, upstream_writer), _pipe(upstream_reader, writer))


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(ConnectionError):
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    with contextlib.suppress(ConnectionError, OSError):
        writer.close()
