"""Every sentence the integrations say: one line per tool in a deploy's or rollback's reply."""

from __future__ import annotations

OK = "✓ {tool}: {what}"
FAILED = "✗ {tool}: {reason} {action}"
NOT_CONFIGURED = "✗ {tool}: not configured on this k8or. Ask the k8or operators."

# GitHub
DEPLOYMENT_STARTED = "deployment {id} of `{repo}@{short}` to `{environment}` is in progress"
DEPLOYMENT_ENDED = "deployment {id} to `{environment}`: {state}"
DEPLOYMENT_REPLACED = "; deployment {previous} marked inactive"
DEPLOYMENT_DESCRIPTION = "{action} of {app} by {person} (k8or)"
NO_SOURCE = (
    "✗ {tool}: `{app}` records no source commit, so there is nothing to tell. "
    "Deploy with `--commit <sha> --repo <owner/name>`."
)

# Jira
DEPLOYED_COMMENT = (
    "Deployed to {environment} by {person} with k8or: {app} revision {revision} runs {repo}@{short}."
)
REVERTED_COMMENT = (
    "Rolled back in {environment} by {person} with k8or: {app} revision {revision} runs {repo}@{short}, "
    "which no longer contains this issue."
)
COMMENTED = "commented on {keys}"
TRANSITIONED = "; {keys} moved to {status}"
NO_KEYS = "no issue keys in the commits between revision {previous} and {revision}"
FIRST_REVISION = "revision {revision} is the first with a source commit: no issues to compare against"
NEEDS_GITHUB = "needs your GitHub sign-in to read the commits between the revisions."
ISSUE_TROUBLE = "✗ Jira {key}: {reason} {action}"

# Toggl Track
INCIDENT = "Incident: rollback {app} in {environment}"
TIMER_STARTED = "time entry “{description}” started"
TIMER_STOPPED = "time entry “{description}” stopped"
NO_TIMER = "No time entry is running for `{app}` in `{environment}`."

# Miro
PICTURE_POSTED = "{title} is on the board: {link}"
PICTURE_TITLE = "{action} of {app} in {environment}"
NO_PICTURE = "✗ Miro: the timeline picture needs matplotlib (the `k8orize` extra) on the k8or host."

# Google Calendar
FROZEN = (
    "✗ `{environment}` is frozen now: “{event}” on its freeze calendar. Deploys wait until it ends; "
    "on-call may override with `freeze override` (confirmed and audited)."
)
OVERRIDDEN = "⚠ Deploying during “{event}”: freeze overridden by {person} until {until} UTC."
UNCHECKED = "{line} The freeze calendar of `{environment}` was not checked."
