"""The sign-in pages: plain HTML forms that work without JavaScript.

Every value shown is escaped; secret fields are password inputs and are never filled back in.
Form actions and redirects are relative, so the pages work wherever the sign-in app is mounted.
Every page a link opens says whose account it saves to; the one-time code is shown only to the browser
that submitted the credentials (or started the device flow), never in chat.
"""

from __future__ import annotations

import datetime as dt
import re
from html import escape

from bot.signin.pending import HeldSignIn
from connectors.base import (
    Connector,
    DeviceAuthorization,
    FieldSpec,
    OAuthAuthorizationCode,
    OAuthDeviceAuthorization,
    SignInMethod,
    TokenFields,
)

STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem;line-height:1.5}"
    "label{display:block;margin-top:.8rem;font-weight:600}input{width:100%;padding:.4rem;font-size:1rem}"
    "button{margin-top:1rem;padding:.5rem 1rem;font-size:1rem}.hint{color:#555;font-size:.9rem}"
    ".error{background:#fde8e8;padding:.6rem;border-radius:.3rem}.ok{background:#e6f6e6;padding:.6rem}"
    "section{border-top:1px solid #ddd;margin-top:1.5rem;padding-top:.5rem}code{font-size:1.6rem}"
)
EXPIRED = "This sign-in link has expired or was already used. Ask k8or for a new one with `login {service}`."
# The page for a link k8or does not know: expired links are deleted, so "unknown" is nearly always
# "expired or used", and the headline (app.py) says "expired": the body agrees with it.
UNKNOWN = (
    "This sign-in link has expired or was already used. "
    "Ask k8or in chat for a new one with `login <service>`."
)
BAD_FORM = "The form expired or was submitted from another page. Reload the page and try again."
OWNER = "Signing in to {service} for {owner}."
NOT_YOU = (
    "What you enter here is saved for {owner}. If that is not you, or someone sent you this link, "
    "close this page."
)
CODE_STEP = "To save them, type this code to k8or in your chat with it within {minutes} minutes:"
CODE_WARNING = (
    "Type it yourself, as {owner}, and never give it to anyone. If someone sent you this link, close "
    "this page: nothing is saved without the code."
)
CODE_GONE = (
    "This sign-in's code was used or has expired. k8or said in chat how it ended; "
    "if nothing was saved, ask for a new link with `login <service>`."
)
DEVICE_STARTED = (
    "A sign-in with a device code was already started from this link, in another browser or tab. "
    "Ask k8or for a new link with `login <service>` to start again."
)
DEVICE_NEXT = (
    "When you have entered it there, come back to this page and check: it then shows the code to type "
    "to k8or. k8or also tells you in chat when the service has answered."
)
OTHER_BROWSER = "This sign-in was started in another browser; only that browser can follow it."


def document(title: str, body: str) -> str:
    """A complete page. None reloads itself: a timed reload moves a screen reader back to the top and
    can take the page away mid-sentence (WCAG 2.2.1), so status pages have a "Check now" link instead."""
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>{body}</body></html>"
    )


def message_page(title: str, text: str, *, kind: str = "") -> str:
    """A page that only says something."""
    css = f' class="{kind}"' if kind else ""
    return document(title, f"<h1>{escape(title)}</h1><p{css}>{_commands(escape(text))}</p>")


def _commands(escaped: str) -> str:
    """`login <service>` in a message (chat's Markdown) shown as a command on the page, not with backticks."""
    return re.sub(r"`([^`]+)`", r"<kbd>\1</kbd>", escaped)


def _field(method_key: str, spec: FieldSpec, value: str) -> str:
    kind = "password" if spec.secret else "text"
    # A secret is never written back into a page, even after a failed attempt.
    shown = "" if spec.secret else escape(value or spec.default)
    required = " required" if spec.required else ""
    # Ids are per form: two forms on a page may ask for the same field (Jira's site), and a label
    # must name the input in its own form.
    field_id = escape(f"{method_key}-{spec.name}")
    hint, described = "", ""
    if spec.help:
        hint = f'<div class="hint" id="{field_id}-hint">{escape(spec.help)}</div>'
        described = f' aria-describedby="{field_id}-hint"'
    return (
        f'<label for="{field_id}">{escape(spec.label)}</label>'
        f'<input id="{field_id}" name="{escape(spec.name)}" type="{kind}" value="{shown}"'
        f' autocomplete="off" spellcheck="false"{required}{described}>{hint}'
    )


def _method_form(token: str, method: SignInMethod, csrf: str, values: dict[str, str]) -> str:
    hidden = f'<input type="hidden" name="csrf" value="{escape(csrf)}">'
    action = f"{escape(token)}/{escape(method.key)}"
    if isinstance(method, TokenFields):
        fields = "".join(_field(method.key, spec, values.get(spec.name, "")) for spec in method.fields)
        button = "Check with the service"
    elif isinstance(method, OAuthAuthorizationCode):
        fields, button = "", "Continue to the sign-in page"
    elif isinstance(method, OAuthDeviceAuthorization):
        fields, button = "", "Get a device code"
    else:
        return ""
    return (
        f'<section><h2>{escape(method.label)}</h2><form method="post" action="{action}">'
        f'{hidden}{fields}<button type="submit">{escape(button)}</button></form></section>'
    )


def sign_in_page(
    connector: Connector,
    token: str,
    csrf: str,
    *,
    owner: str,
    error: str = "",
    values: dict[str, str] | None = None,
) -> str:
    """The page a sign-in link opens: whose account it saves to, then one form per sign-in method."""
    title = f"Sign in to {connector.display_name}"
    problem = f'<p class="error">{escape(error)}</p>' if error else ""
    forms = "".join(_method_form(token, m, csrf, values or {}) for m in connector.sign_in_methods())
    whose = OWNER.format(service=connector.display_name, owner=owner)
    intro = (
        f'<p class="owner"><strong>{escape(whose)}</strong></p>'
        f'<p class="hint">{escape(NOT_YOU.format(owner=owner))}</p>'
        "<p>k8or checks these credentials with the service, then shows a code: type it to k8or in your"
        " chat to save them, encrypted, for you.</p>"
    )
    return document(title, f"<h1>{escape(title)}</h1>{problem}{intro}{forms}")


def code_page(display_name: str, owner: str, held: HeldSignIn) -> str:
    """After credentials verify: the one-time code the link's owner types in chat to save them."""
    title = f"Almost signed in to {display_name}"
    minutes = max(1, round((held.expires_at - dt.datetime.now(dt.UTC)).total_seconds() / 60))
    body = (
        f"<h1>{escape(title)}</h1>"
        f'<p class="owner"><strong>{escape(OWNER.format(service=display_name, owner=owner))}</strong></p>'
        f"<p>{escape(display_name)} says you are <strong>{escape(held.identity)}</strong>.</p>"
        f"<p>{escape(CODE_STEP.format(minutes=minutes))}</p>"
        f'<p><code id="signin-code">{escape(held.code)}</code></p>'
        f'<p class="error">{escape(CODE_WARNING.format(owner=owner))}</p>'
    )
    return document(title, body)


def device_page(display_name: str, progress: dict[str, str], held: HeldSignIn | None = None) -> str:
    """The device-code page: the code to enter, where to enter it, and how it is going; once the
    service approved, the one-time code the link's owner types in chat (`held`)."""
    title = f"Sign in to {display_name}"
    state = progress.get("state", "pending")
    if state == "code":
        if held is None:
            return message_page(title, CODE_GONE, kind="error")
        return code_page(display_name, progress.get("owner", ""), held)
    if state == "failed":
        return message_page(title, progress.get("message", "Sign-in failed."), kind="error")
    uri, complete = progress.get("verification_uri", ""), progress.get("verification_uri_complete", "")
    where = _external_link(uri, uri) or escape(uri)
    shortcut = _external_link(complete, "this link")
    shortcut = f" (or open {shortcut})" if shortcut else ""
    body = (
        f"<h1>{escape(title)}</h1><p>Open {where}{shortcut}"
        f" and enter this code:</p><p><code>{escape(progress.get('user_code', ''))}</code></p>"
        f'<p>{escape(DEVICE_NEXT)} <a href="device">Check now</a></p>'
    )
    return document(title, body)


def _external_link(url: str, label: str) -> str:
    """A link to the provider's page, only for an https URL: the provider's answer is not trusted to
    name a `javascript:` or plain-http target."""
    if not url.lower().startswith("https://"):
        return ""
    return f'<a href="{escape(url)}" rel="noreferrer">{escape(label)}</a>'


def device_progress(device: DeviceAuthorization) -> dict[str, str]:
    """What the device page shows, taken from a started device authorization (nothing secret)."""
    return {
        "state": "pending",
        "user_code": device.user_code,
        "verification_uri": device.verification_uri,
        "verification_uri_complete": device.verification_uri_complete,
    }
