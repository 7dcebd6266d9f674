"""Every sentence `integrate`, `resolve` and `freeze` say."""

from __future__ import annotations

TOOL_NAMES = {
    "jira": "Jira",
    "github": "GitHub",
    "toggl": "Toggl Track",
    "miro": "Miro",
    "calendar": "Google Calendar",
}
WHAT_IT_DOES = {
    "jira": "deploys and rollbacks comment on the issues they ship or take back",
    "github": "deploys and rollbacks are GitHub deployments to `{namespace}` (see the Environments page)",
    "toggl": "a rollback starts a Toggl Track time entry for whoever runs it; `resolve {app}` stops it",
    "miro": "each rollout's timeline goes on Miro board `{board}`",
    "calendar": "deploys wait while an event titled “…freeze…” is on calendar `{calendar}`",
}
SIGNIN_SERVICE = {"jira": "jira", "github": "github", "toggl": "toggl", "miro": "miro", "calendar": "google"}

ON = "✓ {tool} on for `{app}` in `{namespace}` on `{cluster}`: {what}, as the person who runs them."
TRANSITION = " Shipped issues move to “{transition}”."
NEEDS_SOURCE = " Deploy with `--commit <sha> --repo <owner/name>` so k8or knows which commits run."
SIGNED_OUT = (
    "\nYou have not signed in to {service} yet: `login {signin}` (each person uses their own sign-in)."
)
OFF = "✓ {tool} off for `{app}` in `{namespace}`."
WAS_OFF = "{tool} was not on for `{app}` in `{namespace}`."
OFF_NEEDS_TOOL = "Say which tool to turn off: `integrate {app} off jira|github|toggl|miro|calendar`."
NEEDS_BOARD = "Miro needs a board: `integrate {app} miro --miro-board <board-id>`."
NEEDS_CALENDAR = "Calendar needs a calendar id: `integrate {app} calendar --calendar <calendar-id>`."
NOTHING = "Nothing is integrated for `{app}` in `{namespace}` on `{cluster}`. Try `integrate {app} github`."
LISTED = "Integrations of `{app}` in `{namespace}` on `{cluster}`:"
ITEM = "- {tool}{settings} (turned on by {by})"
NAMESPACE_ITEM = "- {tool}{settings} for all of `{namespace}` (turned on by {by})"

FREEZE_ON = (
    "✓ Deploys into `{namespace}` on `{cluster}` now wait while an event titled “…freeze…” is on calendar "
    "`{calendar}` (read with each deployer's Google sign-in)."
)
FREEZE_OFF = "✓ `{namespace}` on `{cluster}` has no freeze calendar any more."
FREEZE_LIFTED = "⚠ Freeze of `{namespace}` overridden until {until:%H:%M} UTC by {person}: deploys go ahead."
