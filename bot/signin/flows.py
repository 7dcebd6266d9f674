"""The ending every sign-in shares (verify, then hold for the owner's code), and the device-flow poller."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging

from bot import messages as bot_messages
from bot.signin.links import SignInLink
from bot.signin.pending import HeldSignIn
from bot.signin.service import SignInService
from connectors import errors, messages
from connectors.base import (
    Connector,
    Credentials,
    DeviceAuthorization,
    Identity,
    OAuthDeviceAuthorization,
)

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
    """Poll until the person approves, declines or the code expires; hold verified credentials for the
    owner's code (the device page shows it to the browser that started the flow) or record the failure."""
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
                await verify_and_hold(service, link, connector, credentials)
                await service.links.set_progress(link, state="code")
                return
        raise connector.error(errors.SignInExpired)
    except errors.VerificationError as exc:
        text = failure_text(connector, exc)
        await service.links.set_progress(link, state="failed", message=text)
        await tell(service, link.person, text)


async def verify_and_hold(
    service: SignInService, link: SignInLink, connector: Connector, credentials: Credentials
) -> HeldSignIn:
    """Verify credentials and hold them for the link owner's code; raises VerificationError if they fail.

    Nothing reaches the vault here: the owner types the code in chat (`login code`). The chat message
    names neither the code nor the account, since the link's owner may not be the person at the page.
    """
    identity = await _verify(service, connector, credentials)
    if not await service.links.complete(link):  # another submission of this link got there first
        raise connector.error(errors.SignInExpired)
    held = await service.pending.hold(
        link.person, connector.name, link.key, identity.refreshed or credentials, identity.describe()
    )
    log.info("sign-in: %s verified; held until the link's owner types the code", connector.name)
    minutes = round(service.pending.ttl.total_seconds() / 60)
    waiting = bot_messages.SIGNIN_CODE_WAITING.format(service=connector.display_name, minutes=minutes)
    await tell(service, link.person, waiting)
    return held


async def _verify(service: SignInService, connector: Connector, credentials: Credentials) -> Identity:
    try:
        return await asyncio.wait_for(connector.verify(credentials), service.verify_timeout)
    except TimeoutError:
        raise connector.error(errors.ServiceTimeout) from None
    except errors.VerificationError:
        raise
    except Exception as exc:  # a connector's bug must not leave the person without an answer
        log.error("sign-in: connector %s raised %s during verify", connector.name, type(exc).__name__)
        raise connector.error(errors.VerificationError) from None


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
