"""The sign-in web app: where a `login <service>` link leads.

Token services get a plain form; OAuth code services a button that redirects to the provider's
consent screen and a callback that exchanges the code; device services a page showing the user code
while a background task polls the provider. Every page names whose account it saves to. Whichever
way, k8or verifies the credentials with the service and, if they verify, holds them pending and shows
a one-time code to the browser that submitted them; they reach the vault only when the link's owner
types that code in chat (see `bot.signin.pending`). A forwarded link therefore stores nothing unless
its owner also gets the code from the person who opened it.
"""

from __future__ import annotations

import asyncio
import hmac
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable

from aiohttp import web

from bot.http_body import read_form
from bot.signin import flows, pages
from bot.signin.links import SignInLink, SignInLinkStore, digest
from bot.signin.pending import PendingSignIns
from bot.signin.service import (  # noqa: F401  (link_url, callback_url, Notify re-exported)
    CONTENT_SECURITY_POLICY,
    CSRF_COOKIE,
    DEVICE_COOKIE,
    SIGNIN_PREFIX,
    SLOT,
    STATE_COOKIE,
    Notify,
    SignInService,
    SignInSlot,
    callback_url,
    link_url,
)
from connectors import errors
from connectors.base import (
    Connector,
    ConnectorRegistry,
    OAuthAuthorizationCode,
    OAuthDeviceAuthorization,
    TokenFields,
)
from connectors.vault import CredentialVault


def create_signin_app(
    *,
    registry: ConnectorRegistry,
    vault: CredentialVault,
    links: SignInLinkStore,
    pending: PendingSignIns,
    notify: Notify,
    public_url: str,
    verify_timeout: float = 10.0,
    poll_floor: float = 1.0,
) -> web.Application:
    """The sign-in sub-application; mount it with `app.add_subapp(SIGNIN_PREFIX, …)`."""
    service = SignInService(
        registry, vault, links, pending, notify, public_url.rstrip("/"), verify_timeout, poll_floor
    )
    app, _slot = create_deferred_signin_app(service)
    return app


def create_deferred_signin_app(service: SignInService | None = None) -> tuple[web.Application, SignInSlot]:
    """The sub-application and its slot; fill `slot.service` at start-up (pages answer 503 until then)."""
    slot = SignInSlot(service)
    app = web.Application(middlewares=[_security_headers])
    app[SLOT] = slot
    app.router.add_get("/callback", _callback)
    app.router.add_get("/{token}", _show)
    app.router.add_get("/{token}/device", _device_status)
    app.router.add_post("/{token}/{method}", _submit)
    app.cleanup_ctx.append(_background_tasks)
    return app, slot


async def _background_tasks(app: web.Application) -> AsyncIterator[None]:
    yield
    service = app[SLOT].service
    if service is not None:
        for task in list(service.tasks):
            task.cancel()
        await asyncio.gather(*service.tasks, return_exceptions=True)


def _service(request: web.Request) -> SignInService:
    service = request.app[SLOT].service
    if service is None:
        raise web.HTTPServiceUnavailable(text="k8or is starting; try again in a moment.")
    return service


@web.middleware
async def _security_headers(request: web.Request, handler: Callable[..., Awaitable[web.StreamResponse]]):  # type: ignore[no-untyped-def]
    response = await handler(request)
    response.headers.update(
        {
            "Content-Security-Policy": CONTENT_SECURITY_POLICY,
            # The link token is in the URL: never send it on to a provider as a Referer.
            "Referrer-Policy": "no-referrer",
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
            "X-Frame-Options": "DENY",
        }
    )
    return response


def _html(text: str, status: int = 200) -> web.Response:
    return web.Response(text=text, status=status, content_type="text/html")


# --- the page and its forms -------------------------------------------------------------------------


async def _show(request: web.Request) -> web.Response:
    service = _service(request)
    link = await service.links.find(request.match_info["token"])
    if link is None:
        return _html(pages.message_page("Sign-in link expired", pages.UNKNOWN, kind="error"), 410)
    csrf = request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(24)
    page = pages.sign_in_page(
        service.registry.get(link.service), request.match_info["token"], csrf, owner=_owner(link)
    )
    response = _html(page)
    response.set_cookie(
        CSRF_COOKIE, csrf, httponly=True, samesite="Strict", secure=service.secure_cookies, path=SIGNIN_PREFIX
    )
    return response


async def _read_form(request: web.Request) -> dict[str, str]:
    """The submitted form's text fields; a body that does not parse is the sender's error (400)."""
    return await read_form(request, pages.BAD_FORM)


def _owner(link: SignInLink) -> str:
    """How the pages name the link's owner ("Ana Lima, Teams"), as recorded when the link was issued."""
    return str(link.progress.get("owner") or link.person)


def _csrf_ok(request: web.Request, form: dict[str, str]) -> bool:
    cookie, field = request.cookies.get(CSRF_COOKIE, ""), form.get("csrf", "")
    return bool(cookie) and hmac.compare_digest(cookie.encode(), field.encode())


async def _submit(request: web.Request) -> web.StreamResponse:
    service = _service(request)
    token = request.match_info["token"]
    link = await service.links.find(token)
    if link is None:
        return _html(pages.message_page("Sign-in link expired", pages.UNKNOWN, kind="error"), 410)
    form = await _read_form(request)
    if not _csrf_ok(request, form):
        return _html(pages.message_page("Please try again", pages.BAD_FORM, kind="error"), 403)
    connector = service.registry.get(link.service)
    try:
        method = connector.sign_in_method(request.match_info["method"])
    except KeyError:
        raise web.HTTPNotFound() from None
    if isinstance(method, TokenFields):
        return await _submit_token(service, link, connector, method, token, form)
    if isinstance(method, OAuthAuthorizationCode):
        return await _start_code_flow(service, link, connector, method, token)
    if isinstance(method, OAuthDeviceAuthorization):
        return await _start_device_flow(service, link, connector, method, token)
    raise web.HTTPNotFound()


async def _submit_token(
    service: SignInService,
    link: SignInLink,
    connector: Connector,
    method: TokenFields,
    token: str,
    form: dict[str, str],
) -> web.Response:
    try:
        credentials = connector.credentials_from_form(method, form)
        held = await flows.verify_and_hold(service, link, connector, credentials)
    except errors.VerificationError as exc:
        await flows.tell(service, link.person, flows.failure_text(connector, exc))
        shown = {spec.name: form.get(spec.name, "") for spec in method.fields if not spec.secret}
        error = f"{exc.reason} {exc.action}"
        page = pages.sign_in_page(
            connector, token, form["csrf"], owner=_owner(link), error=error, values=shown
        )
        return _html(page, 400)
    return _html(pages.code_page(connector.display_name, _owner(link), held))


async def _start_code_flow(
    service: SignInService, link: SignInLink, connector: Connector, method: OAuthAuthorizationCode, token: str
) -> web.StreamResponse:
    state = await service.links.bind_state(link, method.key)
    try:
        target = connector.authorization_url(method, state, service.callback_url)
    except errors.VerificationError as exc:
        return _html(
            pages.message_page("Sign-in unavailable", f"{exc.reason} {exc.action}", kind="error"), 503
        )
    response = web.HTTPSeeOther(target)
    # Binds the callback to this browser: a state replayed from elsewhere lacks the cookie.
    response.set_cookie(
        STATE_COOKIE,
        state,
        httponly=True,
        samesite="Lax",
        secure=service.secure_cookies,
        path=f"{SIGNIN_PREFIX}/callback",
        max_age=600,
    )
    return response


async def _start_device_flow(
    service: SignInService,
    link: SignInLink,
    connector: Connector,
    method: OAuthDeviceAuthorization,
    token: str,
) -> web.StreamResponse:
    browser = secrets.token_urlsafe(24)
    if not await service.links.claim_device(link, digest(browser)):
        return _html(pages.message_page("Sign-in already started", pages.DEVICE_STARTED, kind="error"), 409)
    try:
        device = await connector.start_device_authorization(method)
    except errors.VerificationError as exc:
        await service.links.set_progress(link, browser="")  # nothing started: the link may try again
        return _html(
            pages.message_page("Sign-in unavailable", f"{exc.reason} {exc.action}", kind="error"), 502
        )
    await service.links.set_progress(
        link, display_name=connector.display_name, **pages.device_progress(device)
    )
    task = asyncio.create_task(
        flows.poll_device(service, link, connector, method, device), name=f"signin-{connector.name}"
    )
    service.tasks.add(task)
    task.add_done_callback(service.tasks.discard)
    response = web.HTTPSeeOther("device")
    # The status page shows the one-time code: only to the browser that started the flow, not to
    # whoever else holds the link (its owner, when the link was forwarded).
    response.set_cookie(
        DEVICE_COOKIE,
        browser,
        httponly=True,
        samesite="Lax",
        secure=service.secure_cookies,
        path=f"{SIGNIN_PREFIX}/{token}/device",
    )
    return response


async def _device_status(request: web.Request) -> web.Response:
    service = _service(request)
    token = request.match_info["token"]
    progress = await service.links.progress(token)
    if not progress or not progress.get("browser"):
        return _html(pages.message_page("Sign-in link expired", pages.UNKNOWN, kind="error"), 410)
    cookie = request.cookies.get(DEVICE_COOKIE, "")
    if not cookie or not hmac.compare_digest(digest(cookie).encode(), str(progress["browser"]).encode()):
        return _html(pages.message_page("Please try again", pages.OTHER_BROWSER, kind="error"), 403)
    held = await service.pending.for_link(digest(token)) if progress.get("state") == "code" else None
    return _html(pages.device_page(progress.get("display_name", "the service"), progress, held))


# --- callbacks, polling and the common ending ---------------------------------------------------------


async def _callback(request: web.Request) -> web.Response:
    service = _service(request)
    state = request.query.get("state", "")
    cookie = request.cookies.get(STATE_COOKIE, "")
    if not state or not cookie or not hmac.compare_digest(state.encode(), cookie.encode()):
        return _html(pages.message_page("Please try again", pages.BAD_FORM, kind="error"), 400)
    taken = await service.links.take_state(state)
    if taken is None:
        return _html(pages.message_page("Sign-in link expired", pages.UNKNOWN, kind="error"), 410)
    link, method_key = taken
    connector = service.registry.get(link.service)
    method = connector.sign_in_method(method_key)
    try:
        if not isinstance(method, OAuthAuthorizationCode):
            raise web.HTTPNotFound()
        if "error" in request.query or "code" not in request.query:
            raise connector.error(errors.SignInDenied)
        credentials = await connector.exchange_code(method, request.query["code"], service.callback_url)
        held = await flows.verify_and_hold(service, link, connector, credentials)
    except errors.VerificationError as exc:
        text = flows.failure_text(connector, exc)
        await flows.tell(service, link.person, text)
        return _html(pages.message_page(f"{connector.display_name} sign-in failed", text, kind="error"), 400)
    response = _html(pages.code_page(connector.display_name, _owner(link), held))
    response.del_cookie(STATE_COOKIE, path=f"{SIGNIN_PREFIX}/callback")
    return response
