"""Sign-in pages served by k8or: where `login <service>` links lead. See `create_signin_app`."""

from bot.signin.access_log import RedactingAccessLogger, redact
from bot.signin.app import create_signin_app
from bot.signin.links import LINK_TTL, IssuedLink, SignInLinkStore
from bot.signin.service import SIGNIN_PREFIX, Notify, callback_url, link_url

__all__ = [
    "LINK_TTL",
    "SIGNIN_PREFIX",
    "IssuedLink",
    "Notify",
    "RedactingAccessLogger",
    "SignInLinkStore",
    "callback_url",
    "create_signin_app",
    "link_url",
    "redact",
]
