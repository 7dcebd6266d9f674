"""What `notify` and its alerts say: every user-facing line of on-call alerting, in one place."""

SUBSCRIBED = "🔔 This conversation now gets alerts for {what} in {places} on `{cluster}`{apps}."
SUBSCRIBED_APPS = ", apps {apps}"
UNSUBSCRIBED = "🔕 Alerts stopped for {count} subscription(s) of this conversation."
NOTHING_TO_STOP = "This conversation has no alert subscription{where}."
NO_SUBSCRIPTIONS = "This conversation gets no alerts. Say `notify on` to get them for `{namespace}`."
LISTING = "Alerts for this conversation:"
LISTED = "- `{cluster}` / `{namespace}`: {events}{apps} (by {by})"
LISTED_FAILING = " — ⚠️ {failures} failed deliveries in a row, last: {error}; dropped after {limit}"
UNKNOWN_EVENTS = "Unknown event kind(s): {bad}. Choose from {known}, or `all`."
EKS_NOT_WATCHED = (
    "Alerts for EKS clusters are not available yet: k8or watches with its own credentials, and an "
    "EKS cluster is reached through a person's AWS sign-in. Choose a kubeconfig context."
)
NOT_RUNNING = "Alerting is not set up on this k8or (no alert desk)."
SILENCED = "🔇 `{app}` is silenced in this conversation until {until} UTC (no new alerts for it)."
BAD_DURATION = "`{value}` is not a duration: use minutes, hours or days such as 30m, 1h or 2d (at most 7d)."

# Alerts
ALERT = "🚨 **{app}**: {reason} in `{namespace}` on `{cluster}`{detail}"
ALERT_AGAIN = "🚨 again: **{app}**: {reason} in `{namespace}` on `{cluster}`{detail}"
RESOLVED = "✓ resolved: **{app}** ({reason}) in `{namespace}` on `{cluster}` is healthy again."
PODS = "{count} pod(s)"
RESTARTS = "{count} restarts"
NOTE = "rollout stalled ({note})"
ACTIONS_TO_TYPE = "To act, say: {lines}"
ROLLBACK, LOGS, STATUS, SILENCE = "Rollback", "Logs", "Status", "Silence 1h"
