"""Every sentence a connector says to a person, kept together so the wording stays consistent.

Placeholders: {service} is the display name in reasons; in actions {service} is the command name
(`login github`) and {display_name} the display name.
"""

FAILED = "{service} could not confirm who you are."
NOT_SIGNED_IN = "You have not signed in to {service}."
UNAUTHORIZED = "{service} rejected your credentials (HTTP 401)."
FORBIDDEN = "{service} accepted your credentials but refused access (HTTP 403)."
EXPIRED = "Your {service} credentials have expired."
RATE_LIMITED = "{service} is rate-limiting requests (HTTP 429)."
TIMEOUT = "{service} did not answer in time."
MALFORMED = "{service} sent a response k8or could not read."
UNREACHABLE = "{service} could not be reached."
INVALID_FORM = "The {service} sign-in form was incomplete or a value had the wrong shape."
DENIED = "The {service} sign-in was denied."
SIGN_IN_EXPIRED = "The {service} sign-in took too long and expired."
NOT_CONFIGURED = "{service} sign-in is not configured on this k8or."

SIGN_IN = "Sign in with `login {service}`."
SIGN_IN_AGAIN = "Sign in again with `login {service}`."
GRANT_ACCESS = "Ask for the missing permission or sign in with a token that has it: `login {service}`."
RETRY_LATER = "Try again in a minute."
RETRY_AFTER = "Try again in {seconds} s."
TRY_AGAIN = "Try again shortly; if it keeps happening, tell the k8or operators."
TRY_AGAIN_OR_ADMIN = "Try again later; if it keeps happening, tell the k8or operators."
FIX_FORM = "Open a new link with `login {service}` and fill in every field."
ASK_ADMIN = "Ask the k8or operators to configure {display_name} sign-in."

SIGNED_IN = "Signed in to {service} as {identity}."
SIGN_IN_FAILED = "Signing in to {service} failed: {reason} {action}"

SITE_REFUSED = (
    "k8or will not use that {service} site: it is not allowed here, or it did not answer as {service} does."
)
FIX_SITE = (
    "Check the site URL (for example https://your-team.atlassian.net) and try again with `login {service}`; "
    "if it is right, ask the k8or operators to allow it."
)
