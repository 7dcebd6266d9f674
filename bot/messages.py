"""Every sentence k8or says about itself, in one place, so wording stays consistent and reviewable."""

from __future__ import annotations

UNKNOWN_COMMAND = "I don't know the command `{word}`."
DID_YOU_MEAN = "Did you mean {choices}?"
SEE_HELP = "Type `help` to see what I can do."
USAGE = "Usage: `{usage}`"
EMPTY_MESSAGE = "Say `help` to see what I can do."
NOT_ALLOWED = (
    "`{command}` needs the role {roles}; you have {held}. Ask an admin to grant it in the RBAC file."
)
NO_ROLES = "no role"
NEEDS_LOGIN = "`{command}` acts as you on {services}. Sign in first:"
NEEDS_LOGIN_GROUP = "`{command}` acts as you on {services}, and you have not signed in there yet."
LOGIN_SENT_PRIVATELY = "I've sent you the sign-in links privately."
LOGIN_MESSAGE_ME = "Send me a direct message (`login <service>`) to get your sign-in links privately."
LOGIN_LINE = "- {display}: `login {service}`{link}"
INTERNAL_ERROR = "Something went wrong on my side while running `{command}`. Reference: `{cid}`."
TIMED_OUT = "`{command}` took longer than {seconds:.0f}s and was stopped. Reference: `{cid}`."
STATE_CONFLICT = "This conversation was changed by another message at the same time; please send that again."
ERROR_WITH_REF = "{message} (reference `{cid}`)"
PROMPT_FOR = "{what}?"  # argument help texts are written as questions: "Which app"
PROMPT_RETRY = "{error} Try again, or say `cancel`."
MISSING_WHILE_BUSY = "Missing {missing}; give it in the message: `{usage}`."
PROMPT_CANCELLED = "Cancelled `{command}`."
NOTHING_TO_CANCEL = "There is nothing to cancel."
CONFIRM_ASK = "⚠️ `{line}` is destructive. Confirm within {minutes} minutes{who}."
CONFIRM_WHO_SELF = " (only you can confirm)"
CONFIRM_WHO_OTHER = " (a second person with the right role must approve: two-person rule in `{namespace}`)"
CONFIRM_CONSOLE = "Type `yes` to go ahead or `no` to cancel."
CONFIRM_EXPIRED = "That confirmation for `{line}` expired; nothing was done. Send the command again."
CONFIRM_NOT_YOURS = "Only {requester} can confirm `{line}`."
CONFIRM_NEEDS_OTHER = (
    "The two-person rule in `{namespace}` needs someone other than {requester} to approve `{line}`."
)
CONFIRM_CANCELLED = "Cancelled `{line}`; nothing was done."
CONFIRM_NONE = "There is nothing waiting for confirmation."
SHUTTING_DOWN = "k8or is restarting; please send that again in a minute."
