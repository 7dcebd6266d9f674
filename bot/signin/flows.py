"""The endings every sign-in shares, and the device-flow poller that runs after the page answered."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging

from bot.signin.links import SignInLink
from bot.signin.service import SignInService
from connectors import errors, messages
from connectors.base import Connector, Credentials, DeviceAuthorization, OAuthDeviceAuthorization

log = logging.getLogger(__name__)
# Transient trouble while polling a device authorization: keep polling, a little slower.
TRANSIENT = (errors.ServiceTimeout, errors.ServiceUnreachable, errors.RateLimited)


async def poll_device(
    service: SignInService,
    link: SignInLink,
    connector: Connector,
    method: OAuthDeviceAuthorization,
    device: DeviceAuthorization,
) -> None:
    """Poll until the person approves, declines or the code expires; record and announce the outcome."""
    interval = max(device.interval, service.poll_floor)
    try:
        while dt.datetime.now(dt.UTC) < device.expires_at:
            await asyncio.sleep(interval)
            try:
                credentials = await connector.poll_device_authorization(method, device)
            except TRANSIENT:
                interval += 5  # RFC 8628 §3.5: back off on slow_down and on trouble
                continue
            if credentials is not None:
                text = await finish(service, link, connector, credentials)
                await service.links.set_progress(link, state="done", message=text)
                return
        raise connector.error(errors.SignInExpired)
    except errors.VerificationError as exc:
        text = failure_text(connector, exc)
        await service.links.set_progress(link, state="failed", message=text)
        await tell(service, link.person, text)


async def finish(
    service: SignInService, link: SignInLink, connector: Connector, credentials: Credentials
) -> str:
    """Verify, store and announce a sign-in; the chat text. Raises VerificationError if it does not verify."""
    try:
        identity = await asyncio.wait_for(connector.verify(credentials), service.verify_timeout)
    except TimeoutError:
        raise connector.error(errors.ServiceTimeout) from None
    except errors.VerificationError:
        raise
    except Exception as exc:  # a connector's bug must not leave the person without an answer
        log.error("sign-in: connector %s raised %s during verify", connector.name, type(exc).__name__)
        raise connector.error(errors.VerificationError) from None
    await service.vault.put(link.person, connector.name, identity.refreshed or credentials)
    await service.links.complete(link)
    text = messages.SIGNED_IN.format(service=connector.display_name, identity=identity.describe())
    log.info("sign-in: %s verified and stored", connector.name)
    await tell(service, link.person, text)
    return text


def failure_text(connector: Connector, exc: errors.VerificationError) -> str:
    """What chat and the page say when a sign-in fails."""
    return messages.SIGN_IN_FAILED.format(
        service=connector.display_name, reason=exc.reason, action=exc.action
    )


async def tell(service: SignInService, person: str, text: str) -> None:
    """Send `text` to the person in chat; a delivery failure is logged, never raised."""
    try:
        await service.notify(person, text)
    except Exception as exc:  # the page still answers even if chat delivery fails
        log.warning("sign-in: could not notify in chat (%s)", type(exc).__name__)
