"""`k8orize <folder>` and `k8orize repo <owner/repo[@ref][:subdir]>`: the k8orization engine from chat.

These commands choose the source (a folder inside k8or's workspace, or a GitHub repository downloaded
as the person), check the options, and answer at once with ONE progress message; the engine runs after
the turn (`actions.k8orize`), and the reply carries the summary, the pipeline picture and, on request,
a pull request with the output.

This module declares the commands and their grammar; the handlers are in `dialogs.k8orize_handlers`,
imported when one of them first runs.
"""

from __future__ import annotations

from actions.repository_source import RepositorySource
from bot.commands.grammar import Param, arg, opt
from bot.commands.registry import CommandSet
from dialogs import integrations
from k8orize.errors import K8orizeError

commands = CommandSet(handlers="dialogs.k8orize_handlers")

# --- grammar ---------------------------------------------------------------------------------------


def _port(raw: str) -> int:
    if not raw.isdigit() or not 1 <= int(raw) <= 65535:
        raise ValueError(f"{raw!r} is not a port (1-65535)")
    return int(raw)


def _probe(raw: str) -> str:
    if not raw.startswith(("http://", "https://")):
        raise ValueError(f"{raw!r} is not an http(s) URL")
    return raw


def _env_pair(raw: str) -> tuple[str, str]:
    from k8orize.request import parse_env  # the engine's modules load with the first k8orize

    try:
        return next(iter(parse_env([raw]).items()))
    except K8orizeError as refused:  # its message never repeats the value: it may be a secret
        raise ValueError(str(refused)) from None


ENGINE_OPTIONS: tuple[Param, ...] = (
    opt("run", "How to start the app ({port} is a free port); needs the admin role"),
    opt("probe", "A URL that answers when the app is healthy", type=_probe, repeat=True),
    opt("port", "Which port the container listens on", type=_port, default=8501),
    opt("name", "What to call the app (a DNS label)"),
    opt("image", "Which image the manifests use (repo@sha256:...)"),
    opt("sandbox", "Which runtime sandbox", choices=("gvisor",)),
    opt("no-trace", "Do not run the app; seccomp falls back to RuntimeDefault", flag=True),
    opt(
        "trim",
        "safe keeps every requirement of what the app uses; traced also drops what the trace never loaded",
        choices=("safe", "traced"),
        default="safe",
    ),
    opt(
        "env",
        "An environment variable for the app (KEY=VALUE, {port} is its port); a value that looks secret "
        "ships only in a Secret",
        type=_env_pair,
        repeat=True,
    ),
    opt("push", "Push the image to your Docker Hub (<Docker ID>/<name>) and pin its digest", flag=True),
    opt("miro-board", "Which Miro board gets the pipeline picture (as you)", type=integrations.TEXT),
)


# --- the commands ----------------------------------------------------------------------------------


commands.declare(
    "k8orize",
    "Make a workspace folder's app lean, least-privileged and observable for Kubernetes.",
    params=[arg("source", "Which folder of k8or's workspace"), *ENGINE_OPTIONS],
    roles=("deployer",),
    examples=(
        "k8orize shop --no-trace",
        "k8orize shop --run 'python app.py --port {port}' --probe http://127.0.0.1:{port}/",
    ),
    details="`--run` executes the app on the k8or host (in a bubblewrap sandbox, under strace), so it needs "
    "the admin role.",
    handler="k8orize_folder",
)

commands.declare(
    "k8orize repo",
    "k8orize a GitHub repository, downloaded as you; `--pr` opens a pull request with the output.",
    params=[
        arg("source", "Which repository (owner/repo[@ref][:folder])", type=RepositorySource.parse),
        *ENGINE_OPTIONS,
        opt("pr", "Open a pull request carrying the output under k8or/", flag=True),
        opt("base", "Which branch the pull request targets (default: the @ref, else main)"),
    ],
    roles=("deployer",),
    connectors=("github",),
    examples=("k8orize repo octo/shop --no-trace --pr", "k8orize repo octo/mono@v2:services/web --pr"),
    handler="k8orize_repository",
)
