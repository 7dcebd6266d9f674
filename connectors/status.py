"""`auth status`: verify every service for one person at once, each under its own timeout.

The checks run concurrently, so the total takes about as long as the slowest service, not the sum.
A connector that fails in any way yields a ✗ with a reason; nothing here raises into the turn.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import logging
import time
from collections.abc import Iterable

from connectors import errors
from connectors.base import Connector, ConnectorRegistry, Identity
from connectors.vault import CredentialVault

log = logging.getLogger(__name__)
DEFAULT_TIMEOUT = 5.0


@dataclasses.dataclass(frozen=True)
class ServiceStatus:
    """One row of `auth status`: a service, and either who it says this person is or why not."""

    service: str
    display_name: str
    identity: Identity | None = None
    error: errors.VerificationError | None = None
    elapsed: float = 0.0

    @property
    def ok(self) -> bool:
        """True when the service confirmed the person's identity."""
        return self.identity is not None

    @property
    def login_command(self) -> str:
        """The chat command that fixes a ✗."""
        return f"login {self.service}"


async def verify_stored(
    connector: Connector, person: str, vault: CredentialVault, timeout: float
) -> Identity:
    """Verify this person's stored credentials for `connector`; raises a VerificationError."""
    credentials = await vault.get(person, connector.name)
    if credentials is None:
        raise connector.error(errors.NotSignedIn)
    try:
        identity = await asyncio.wait_for(connector.verify(credentials), timeout)
    except TimeoutError:
        raise connector.error(errors.ServiceTimeout) from None
    if identity.refreshed is not None:
        await vault.put(person, connector.name, identity.refreshed)
    return identity


async def check_one(
    connector: Connector, person: str, vault: CredentialVault, timeout: float
) -> ServiceStatus:
    """The status of one service for this person; never raises."""
    started = time.perf_counter()
    row = functools.partial(ServiceStatus, connector.name, connector.display_name)
    try:
        identity = await verify_stored(connector, person, vault, timeout)
        return row(identity=identity, elapsed=time.perf_counter() - started)
    except errors.VerificationError as exc:
        return row(error=exc, elapsed=time.perf_counter() - started)
    except Exception as exc:  # a third-party connector's bug must not break the turn
        # Only the type: an exception's text may quote a request, credentials included.
        log.error("connector %s raised %s during verify", connector.name, type(exc).__name__)
        return row(error=connector.error(errors.VerificationError), elapsed=time.perf_counter() - started)


async def check_all(
    person: str,
    registry: ConnectorRegistry,
    vault: CredentialVault,
    timeout: float = DEFAULT_TIMEOUT,
    *,
    services: Iterable[str] | None = None,
) -> list[ServiceStatus]:
    """Check every registered service (or just `services`) for this person concurrently."""
    wanted = list(services) if services is not None else registry.names()
    checks = [check_one(registry.get(name), person, vault, timeout) for name in wanted]
    return list(await asyncio.gather(*checks))


async def missing_services(person: str, needed: Iterable[str], vault: CredentialVault) -> list[str]:
    """The services in `needed` this person has not signed in to (no network calls), in order."""
    have = set(await vault.list_services(person))
    return [name for name in needed if name not in have]
