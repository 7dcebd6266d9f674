"""Every sentence `release` and `status --tickets` say, and how their answers are laid out."""

from __future__ import annotations

import datetime as dt

HEADLINE = "{key} *{summary}* ({status}{details}){merged}"
ASSIGNED = ", assigned to {name}"
UNASSIGNED = ", unassigned"
FIX_VERSION = ", fix version {name} ({state})"
RELEASED, UNRELEASED = "released", "unreleased"
MERGED_IN = " — merged in {pulls}"
NO_PULLS = " — no pull request mentions it in {repositories}"
NO_REPOSITORIES = " — no repository to search: no Deployment here records one"
OPEN_PULL = "{link} (open, not merged)"
CLOSED_PULL = "{link} (closed without merging)"
KEY_ONLY = "{key}"

LIVE = "**live in {env}** since {since} (revision {revision}, `{image}`)"
LIVE_NO_TIME = "**live in {env}** (revision {revision}, `{image}`)"
ROLLING_OUT = "**rolling out in {env}** (revision {revision}, `{image}`)"
NOT_YET = "**not yet in {env}** ({env} runs `{commit}`, {distance})"
BEHIND = "{count} commit{s} behind"
DIVERGED = "on another line of history, {count} commit{s} short"
UNKNOWN_SOURCE = "{env} runs `{app}` without a recorded source commit"
ENV_WITH_APP = "{namespace} (`{app}`)"

TROUBLE = "✗ {what}: {reason} {action}"
SIGN_IN_LINK = " — {link}"
NOT_CONFIGURED = "is not set up on this k8or."
ASK_OPERATORS = "Ask the k8or operators."
CLUSTER = "cluster `{name}`"
CLUSTERS = "Clusters"
COMPARE = "GitHub compare in `{repo}`"

NO_SOURCES = (
    "No Deployment in {where} records its source commit, so I cannot tell where {key} runs. Deploy with "
    "`deploy <app> <image> --commit <sha> --repo <owner/name>` (annotations `{commit_annotation}`, "
    "`{repo_annotation}`), or build images with the `org.opencontainers.image.revision` and "
    "`org.opencontainers.image.source` labels and `login dockerhub` so I can read them."
)
NOT_DEPLOYED = "No Deployment in {where} runs `{repositories}`, so none of it is live yet."
NO_CLUSTERS = "no cluster chosen (`cluster use <context>`)"

UNKNOWN_KEY = "{key} is not an issue key such as PROJ-123."

TICKETS_HEADER = "Shipped in the running revision of each app in `{namespace}`:"
TICKETS_LINE = "- `{app}` revision {revision} (`{commit}`): {keys}"
TICKETS_NONE = "no issue keys in its {count} new commit{s}"
TICKETS_BACK = "a step back from revision {previous}: nothing new shipped"
TICKETS_NO_SOURCE = "- `{app}` revision {revision}: no recorded source commit (`deploy … --commit --repo`)"
TICKETS_FIRST = "- `{app}` revision {revision} (`{commit}`): the first revision with a source commit"
TICKETS_TROUBLE = "- `{app}`: ✗ {reason} {action}"
TICKETS_EMPTY = "No deployments in `{namespace}`."


def plural(count: int) -> str:
    return "" if count == 1 else "s"


def clock(moment: dt.datetime) -> str:
    """`14:02` for today (UTC), `2026-11-27 14:02` otherwise."""
    moment = moment.astimezone(dt.UTC)
    if moment.date() == dt.datetime.now(dt.UTC).date():
        return moment.strftime("%H:%M UTC")
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def short_image(image: str) -> str:
    """`registry/acme/web:1.4@sha256:0123456789ab…` → `web@sha256:0123456789ab…`; unpinned as given."""
    name, _, digest = image.partition("@")
    base = name.rsplit("/", 1)[-1].split(":", 1)[0]
    return f"{base}@{digest[:19]}…" if digest else image
