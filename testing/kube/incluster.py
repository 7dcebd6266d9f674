"""The fake cluster as a pod sees it: HTTPS with a cluster CA, and a mounted ServiceAccount.

`InClusterFake` serves the same FakeKube over TLS (a CA made per test, a server certificate for
127.0.0.1) and writes what the kubelet mounts — token, ca.crt, namespace — into a directory, with
the KUBERNETES_SERVICE_HOST/PORT environment a pod gets.
"""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import ssl
from pathlib import Path

from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from .fake import FakeKube
from .server import build_app


@web.middleware
async def _bearer_scheme(request: web.Request, handler):
    """The API server reads the auth scheme case-insensitively (RFC 7235); the client's in-cluster
    loader sends `bearer`. The fake compares exactly, so present it the way it expects."""
    auth = request.headers.get("Authorization", "")
    if auth[:7].lower() == "bearer ":
        headers = request.headers.copy()
        headers["Authorization"] = "Bearer " + auth[7:]
        request = request.clone(headers=headers)
    return await handler(request)


class InClusterFake(FakeKube):
    """A FakeKube on https://127.0.0.1:<port>, its CA and token written under `account_dir`."""

    def __init__(self, account_dir: Path, namespace: str = "default", **kwargs) -> None:
        super().__init__(**kwargs)
        self.account_dir = account_dir
        self.namespace = namespace
        self.port = 0

    async def _open(self) -> None:
        app = build_app(self)
        app.middlewares.insert(0, _bearer_scheme)
        self._runner = web.AppRunner(app, shutdown_timeout=0.05)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0, ssl_context=self._tls())
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"https://127.0.0.1:{self.port}"
        self._ticker = asyncio.ensure_future(self._tick_forever())

    @property
    def environ(self) -> dict[str, str]:
        """What the kubelet sets in every container."""
        return {"KUBERNETES_SERVICE_HOST": "127.0.0.1", "KUBERNETES_SERVICE_PORT": str(self.port)}

    def _tls(self) -> ssl.SSLContext:
        self.account_dir.mkdir(parents=True, exist_ok=True)
        ca_key, server_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
        ca = _certificate("fake-kube-ca", ca_key, ca_key.public_key(), None, ca=True)
        server = _certificate("127.0.0.1", ca_key, server_key.public_key(), ca, ca=False)
        (self.account_dir / "ca.crt").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
        (self.account_dir / "token").write_text(self.token)
        (self.account_dir / "namespace").write_text(self.namespace)
        cert_file, key_file = self.account_dir.parent / "server.crt", self.account_dir.parent / "server.key"
        cert_file.write_bytes(server.public_bytes(serialization.Encoding.PEM))
        key_file.write_bytes(
            server_key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert_file, key_file)
        return context


def _certificate(name, signer_key, public_key, issuer: x509.Certificate | None, ca: bool) -> x509.Certificate:
    now = datetime.datetime.now(datetime.UTC)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.subject if issuer else subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if not ca:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(name))]), critical=False
        )
    return builder.sign(signer_key, hashes.SHA256())
