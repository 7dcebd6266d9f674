"""Bot Framework token issuance for tests: a key the test generates, metadata served locally.

The SDK fetches OpenID metadata with blocking `requests`, so the server runs in its own thread
rather than on the test's event loop.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

ISSUER = "https://api.botframework.com"


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


class OpenIdServer:
    """Serves /.well-known/openid-configuration and /keys for the trusted key."""

    def __init__(self, key: rsa.RSAPrivateKey, kid: str = "test-key", endorsements: tuple[str, ...] = ()):
        self.key, self.kid = key, kid
        jwk = json.loads(RSAAlgorithm.to_jwk(key.public_key()))
        jwk.update({"kid": kid, "use": "sig", "endorsements": list(endorsements)})
        self._jwks = {"keys": [jwk]}
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @classmethod
    def with_new_key(cls, *endorsements: str) -> OpenIdServer:
        """A server for a key generated now; `server.key` signs the tokens it vouches for."""
        return cls(new_key(), endorsements=endorsements)

    @property
    def base(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def metadata_url(self) -> str:
        return f"{self.base}/.well-known/openid-configuration"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                if self.path.startswith("/.well-known/openid-configuration"):
                    body = {
                        "issuer": ISSUER,
                        "jwks_uri": f"{outer.base}/keys",
                        "id_token_signing_alg_values_supported": ["RS256"],
                    }
                elif self.path.startswith("/keys"):
                    body = outer._jwks
                else:
                    self.send_error(404)
                    return
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *_args: Any) -> None:
                return

        return Handler

    def __enter__(self) -> OpenIdServer:
        self._thread.start()
        return self

    def __exit__(self, *_exc: Any) -> None:
        self._server.shutdown()
        self._server.server_close()


def channel_token(
    key: rsa.RSAPrivateKey,
    app_id: str,
    service_url: str,
    *,
    kid: str = "test-key",
    lifetime: int = 3600,
    issued_ago: int = 0,
    issuer: str = ISSUER,
    expires: Any = True,
) -> str:
    """A token as the Bot Connector service signs it for a bot.

    `expires=False` leaves out the `exp` claim; any other non-bool value is put in it as is.
    """
    now = int(time.time()) - issued_ago
    claims: dict[str, Any] = {
        "iss": issuer,
        "aud": app_id,
        "nbf": now - 5,
        "iat": now,
        "serviceurl": service_url,
    }
    if expires is True:
        claims["exp"] = now + lifetime
    elif expires is not False:
        claims["exp"] = expires
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid})
