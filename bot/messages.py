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
SLACK_FILE_REFUSED = "Slack did not take `{name}` ({error}): the reply above is all there is here."
SLACK_FILE_SCOPE = " An app made from `k8or slack manifest` has the files:write scope a file needs."
INTERNAL_ERROR = "Something went wrong on my side while running `{command}`. Reference: `{cid}`."
TIMED_OUT = "`{command}` took longer than {seconds:.0f}s and was stopped. Reference: `{cid}`."
STATE_CONFLICT = "This conversation was changed by another message at the same time; please send that again."
ERROR_WITH_REF = "{message} (reference `{cid}`)"
ALREADY_DONE = (
    "`{command}` already ran for this message at {at:%H:%M:%S} UTC ({outcome}, reference `{cid}`); "
    "I did not run it again."
)
PROMPT_FOR = "{what}? (Say `cancel` to stop.)"  # argument help texts are questions: "Which app"
PROMPT_DROP = "You were answering “{question}”. Drop it and run `{command}`? Say `yes` or `no`."
PROMPT_RETRY = "{error} Try again, or say `cancel`."
MISSING_WHILE_BUSY = "Missing {missing}; give it in the message: `{usage}`."
PROMPT_CANCELLED = "Cancelled `{command}`."
NOTHING_TO_CANCEL = "There is nothing to cancel."
CONFIRM_ASK = "⚠️ `{line}` is destructive ({action}). Confirm within {minutes} minutes{who}."
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
GREETING = (
    "Hello, I'm k8or: I deploy and look after apps on Kubernetes from this chat. Three commands to start:"
)
GREETING_LINE = "- `{usage}` — {summary}"
GREETING_MORE = "Type `help` for everything I can do."
# Sign-in code step (bot/signin): credentials verified on the page wait for the link owner's code in chat.
SIGNIN_CODE_WAITING = (
    "Credentials for {service} verified on your sign-in page. To save them, type the 6-digit code that "
    "page shows here within {minutes} minutes (just the digits, or `login code <digits>`). "
    "If you did not open that page yourself, ignore this: nothing is saved without the code."
)
# Confirmations bound to their target (bot/confirm.py, bot/approvals.py).
ACTION_SUBJECT = "{verb} `{subject}`"
ACTION_IN = " in `{namespace}`"
ACTION_ON = " on `{cluster}`"
CONFIRM_APPROVED = "{action}."
CONFIRM_APPROVED_FOR = "{action}: asked by {requester}, approved by {approver}."
CONFIRM_STALE = "That confirmation is no longer waiting here (done, cancelled or expired); nothing was done."
CONFIRM_ALREADY_PENDING = (
    "You already have an action waiting for confirmation: {action} (`{line}`, id `{id}`). "
    "Confirm or cancel it first (`no` cancels it); nothing new was asked."
)
CONFIRM_AMBIGUOUS = (
    "Several actions wait for your decision, so a plain `{word}` is not enough:\n{actions}\n"
    "Use the card's buttons, or type `{word} <id>`. Nothing was done."
)
CONFIRM_AMBIGUOUS_LINE = "- `{id}`: {action}, asked by {requester}"
CONFIRM_NONE_FOR_YOU = "Nothing here is waiting for your decision; nothing was done."
CONFIRM_ROLE_CHANGED = (
    "{action} was not run: {requester} no longer holds the role {roles} that `{command}` needs. "
    "Nothing was done; the request is withdrawn."
)
CONFIRM_TARGET_GONE = (
    "{action} was not run: cluster `{cluster}` is no longer known here. "
    "Nothing was done; the request is withdrawn."
)
CONFIRM_COMMAND_GONE = "`{command}` is no longer available, so `{line}` was not run."
CONFIRM_APPROVER_ROLE = "Approving `{line}` needs the role {roles}; you have {held}. Nothing was done."
# Identity (bot/trust.py, `whoami`): which keys k8or trusts for a person, where each came from, and
# which RBAC entry gave a role.
TRUST_TEAMS_TOKEN = "Teams, in an activity the Bot Framework signed (`from.aadObjectId`, tenant)"
TRUST_TEAMS_ROSTER = "the Teams roster, asked with k8or's own credentials"
TRUST_GRAPH = "Microsoft Graph (transitive group membership)"
TRUST_SLACK_SIGNATURE = "Slack, in a request signed with the signing secret (team and user)"
TRUST_SLACK_EMAIL = "Slack `users.info`"
TRUST_SLACK_GROUPS = "Slack `usergroups.list`, by group id"
TRUST_CONSOLE = "the terminal running `k8or chat` (the local operator)"
TRUST_CHANNEL_TOKEN = "an activity the Bot Framework signed: channel and user id, nothing more"
TRUST_UNVERIFIED = (
    "unverified (no channel token was checked): only an RBAC rule naming exactly this key matches it"
)
WHOAMI_YOU = "You are **{name}** on `{channel}`."
WHOAMI_KEYS = "Keys k8or trusts for you:"
WHOAMI_KEY = "- {key} — from {source}"
WHOAMI_NO_ROLES = "none (ask an admin to add one of your keys to the RBAC file)"
WHOAMI_MATCHED = "- RBAC `{kind}:` entry `{entry}` gives `{role}`"
WHOAMI_NO_MATCH = "- no RBAC entry names any of your keys"
WHOAMI_LOCAL_OPERATOR = "- you are the local operator at this terminal (no RBAC file): `{role}`"
WHOAMI_ROLES_LINE = "- roles: {roles}"


def sentence(text: str) -> str:
    """`text` as k8or writes every message: a capital first letter (code and names are left as they
    are) and ending punctuation."""
    text = text.strip()
    if not text:
        return text
    if text[0].isalpha() and text[0].islower() and not text.startswith("k8or"):
        text = text[0].upper() + text[1:]
    return text if text[-1] in ".?!:)`" else text + "."
