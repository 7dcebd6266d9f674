"""`login <service>`, `login code`, `logout <service>|all`, `auth status`: one identity per person.

The sign-in itself happens on k8or's own pages (bot/signin); these commands hand out the one-time
links, save a verified sign-in when its owner types the page's code (`login code 123456`, or just the
six digits), forget credentials, and show who each service says the person is.
"""

from __future__ import annotations

import datetime as dt

from bot.commands.grammar import Arguments, arg
from bot.commands.registry import CommandSet
from bot.context import CommandContext
from bot.errors import K8orError, UsageError
from bot.services import Services
from bot.signin.components import SignIn, owner_label
from bot.signin.pending import Redeemed, Refused, is_code
from connectors import errors, messages
from connectors.base import Connector
from connectors.status import ServiceStatus

commands = CommandSet()

NOT_CONFIGURED = "Sign-in is not set up on this k8or. Ask its operators to configure the credential vault."
UNKNOWN_SERVICE = "I don't know a service called `{name}`. Services: {services}."
SERVICE_NOT_CONFIGURED = (
    "{display} sign-in is not configured on this k8or. Its operators can offer it by setting {settings}."
)
NOT_CONFIGURED_ROW = "| {display} | – | not configured on this k8or ({settings}) | |"
LINK = "Sign in to **{display}** here: {url}\nThe link is only for you and expires at {expires} UTC."
SENT_PRIVATELY = "I've sent you a private message with your {display} sign-in link."
NO_PRIVATE_CHANNEL = (
    "Sign-in links are personal, so I don't post them in group conversations. "
    "Send me `login {service}` in a direct chat."
)
SIGNED_OUT = "Signed out of {display}: your credentials are deleted."
NOT_SIGNED_IN = "You were not signed in to {display}."
SIGNED_OUT_ALL = "Signed out of everything: deleted your credentials for {count} service(s)."
NOTHING_STORED = "You were not signed in to any service."
STATUS_HEADER = "| Service | | Who the service says you are | Expires |\n| --- | --- | --- | --- |"
FIX_HEADER = "To fix a ✗:"
CODE_SHAPE = "A sign-in code is exactly 6 digits, as the sign-in page shows it: `login code 123456`."
CODE_NONE = (
    "No sign-in is waiting for a code from you, so nothing was saved. Send `login <service>`, sign in "
    "on the page, then type the code it shows here within 5 minutes."
)
CODE_WRONG = "That code does not match your pending sign-in; nothing was saved. {left} attempt(s) left."
CODE_DISCARDED = (
    "Too many wrong codes: your pending {services} sign-in was discarded and nothing was saved. "
    "Start again with `login <service>`."
)
TRANSIENT = (errors.ServiceTimeout, errors.ServiceUnreachable, errors.RateLimited, errors.MalformedResponse)


def _service_names(services: Services | None) -> list[str]:
    """The services people can sign in to here, offered when `login` is asked without one."""
    signin = services.signin if services is not None else None
    return signin.offered() if signin is not None else []


def _signin(ctx: CommandContext) -> SignIn:
    signin = ctx.services.signin
    if signin is None:
        raise K8orError(NOT_CONFIGURED)
    return signin


def _connector(signin: SignIn, name: str) -> Connector:
    connector = signin.connector(name)
    if connector is None:
        raise UsageError(UNKNOWN_SERVICE.format(name=name, services=", ".join(signin.offered())))
    return connector


def _offered(signin: SignIn, name: str) -> Connector:
    """The connector to sign in to, refused with the setting to set when this k8or cannot offer it."""
    connector = _connector(signin, name)
    missing = signin.missing_settings(connector.name)
    if missing:
        raise K8orError(SERVICE_NOT_CONFIGURED.format(display=connector.display_name, settings=_and(missing)))
    return connector


def _and(names: tuple[str, ...]) -> str:
    quoted = [f"`{name}`" for name in names]
    return " and ".join(quoted) if len(quoted) < 3 else ", ".join(quoted[:-1]) + " and " + quoted[-1]


@commands.command(
    "login",
    "Sign in to a service so k8or can act as you there.",
    params=[arg("service", "Which service", suggest=_service_names)],
    examples=("login github", "login jira"),
)
async def login(ctx: CommandContext, args: Arguments) -> str:
    signin = _signin(ctx)
    connector = _offered(signin, args.service)
    url, expires = await signin.login_link(ctx.person.key, connector.name, owner_label(ctx.person))
    text = LINK.format(display=connector.display_name, url=url, expires=f"{expires:%H:%M}")
    if not ctx.is_group:
        return text
    # The link is personal: in a group it goes to the person's one-to-one chat, or nowhere.
    direct = ctx.services.direct
    if direct is not None and await direct.deliver(ctx.person.key, text):
        return SENT_PRIVATELY.format(display=connector.display_name)
    return NO_PRIVATE_CHANNEL.format(service=connector.name)


@commands.command(
    "login code",
    "Finish a sign-in: type the 6-digit code the sign-in page showed (a bare 6-digit message works too).",
    params=[arg("code", "The 6-digit code from the sign-in page")],
    examples=("login code 123456", "123456"),
)
async def login_code(ctx: CommandContext, args: Arguments) -> str:
    signin = _signin(ctx)
    code = args.code.strip()
    if not is_code(code):
        raise UsageError(CODE_SHAPE)
    outcome = await signin.redeem_code(ctx.person.key, code)
    if isinstance(outcome, Redeemed):
        return messages.SIGNED_IN.format(service=_display(signin, outcome.service), identity=outcome.identity)
    return _refusal(signin, outcome)


def _refusal(signin: SignIn, refused: Refused) -> str:
    discarded = ", ".join(_display(signin, name) for name in refused.discarded)
    if refused.reason == "none":
        return CODE_NONE
    if refused.reason == "exhausted":
        return CODE_DISCARDED.format(services=discarded)
    text = CODE_WRONG.format(left=refused.attempts_left)
    return f"{text}\n{CODE_DISCARDED.format(services=discarded)}" if discarded else text


def _display(signin: SignIn, name: str) -> str:
    connector = signin.connector(name)
    return connector.display_name if connector is not None else name


@commands.command(
    "logout",
    "Forget your credentials for one service, or for all of them.",
    params=[arg("service", "Which service, or `all`", suggest=lambda s: [*_service_names(s), "all"])],
    examples=("logout github", "logout all"),
)
async def logout(ctx: CommandContext, args: Arguments) -> str:
    signin = _signin(ctx)
    if args.service.strip().lower() == "all":
        count = await signin.vault.delete_all(ctx.person.key)
        return SIGNED_OUT_ALL.format(count=count) if count else NOTHING_STORED
    connector = _connector(signin, args.service)
    deleted = await signin.vault.delete(ctx.person.key, connector.name)
    return (SIGNED_OUT if deleted else NOT_SIGNED_IN).format(display=connector.display_name)


@commands.command(
    "auth status",
    "Check every service for you at once: who each says you are, and how to fix a ✗.",
    examples=("auth status",),
)
async def auth_status(ctx: CommandContext, _args: Arguments) -> str:
    signin = _signin(ctx)
    statuses = await signin.status(ctx.person.key)
    rows = [_row(status, signin.missing_settings(status.service)) for status in statuses]
    failed = [s for s in statuses if not s.ok and not signin.missing_settings(s.service)]
    lines = [STATUS_HEADER, *rows]
    if failed:
        lines += ["", FIX_HEADER]
        for status in failed:
            lines.append(await _fix_line(ctx, signin, status))
    return "\n".join(lines)


async def _fix_line(ctx: CommandContext, signin: SignIn, status: ServiceStatus) -> str:
    # Links are personal: in a group, name the command only.
    owner = owner_label(ctx.person)
    link = "" if ctx.is_group else f" — {(await signin.login_link(ctx.person.key, status.service, owner))[0]}"
    # A passing problem (timeout, rate limit, outage) is fixed by waiting, not by signing in again.
    hint = f" ({status.error.action})" if isinstance(status.error, TRANSIENT) else ""
    return f"- {status.display_name}: `{status.login_command}`{link}{hint}"


def _row(status: ServiceStatus, missing: tuple[str, ...]) -> str:
    if missing and status.identity is None:
        return NOT_CONFIGURED_ROW.format(display=status.display_name, settings=_and(missing))
    if status.identity is None:
        reason = status.error.reason if status.error else ""
        return f"| {status.display_name} | ✗ | {reason} | |"
    return (
        f"| {status.display_name} | ✓ | {status.identity.describe()} | {_when(status.identity.expires_at)} |"
    )


def _when(moment: dt.datetime | None) -> str:
    return "—" if moment is None else moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
