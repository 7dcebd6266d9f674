"""`k8or k8orize APP_DIR --out OUT ...`: the command-line face of the engine."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path

from . import messages
from .engine import k8orize
from .errors import K8orizeError
from .registry_api import RegistryCredentials
from .request import K8orizeRequest, parse_env, request_from_options
from .sandbox import SandboxUnavailable

PUSH_USER_ENV, PUSH_TOKEN_ENV = "K8OR_PUSH_USERNAME", "K8OR_PUSH_TOKEN"


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `k8orize` subcommand to an argparse subparsers object."""
    parser = subparsers.add_parser(
        "k8orize",
        help="trace, trim and harden an app for Kubernetes",
        description="Level-3 k8orization: analyze, trace, trim, seccomp, manifests. With --run, the app's "
        "install, build backends and runs happen in a bubblewrap sandbox (no network, no view of this "
        "host's files, environment or processes; docs/k8orize/sandbox.md).",
    )
    add_arguments(parser)
    parser.set_defaults(func=run)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("app_dir", type=Path, help="the app's folder")
    parser.add_argument("--out", type=Path, required=True, help="output folder (replaced atomically)")
    parser.add_argument("--name", help="app name (default: the folder's name)")
    parser.add_argument("--port", type=int, default=8501, help="port the container listens on")
    parser.add_argument(
        "--run", help='run command, e.g. "python -m streamlit run app.py --server.port {port}"'
    )
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="environment for the app's runs and its Deployment ({port}: each run's port, --port once "
        "shipped); values that look secret ship only in a Secret (manifests/secret/)",
    )
    parser.add_argument(
        "--probe",
        action="append",
        default=[],
        metavar="URL",
        help="readiness URL; {port} is replaced by the port of each local run",
    )
    parser.add_argument("--image", help="image reference for the manifests, ideally REPO@sha256:DIGEST")
    parser.add_argument("--sandbox", choices=["gvisor"], help="add a RuntimeClass and run the pod sandboxed")
    parser.add_argument(
        "--no-trace", action="store_true", help="skip install/trace/trim (RuntimeDefault seccomp)"
    )
    _add_trace_arguments(parser)
    parser.add_argument("--probe-timeout", type=float, default=60.0, help="seconds to wait for the probes")
    _add_sandbox_arguments(parser)
    _add_image_arguments(parser)


def _add_trace_arguments(parser: argparse.ArgumentParser) -> None:
    """Installing the app and trimming what the trace shows it does not need."""
    parser.add_argument(
        "--installer",
        choices=["auto", "uv", "pip"],
        default="auto",
        help="who installs the app into its venv (auto: uv when available, else pip)",
    )
    parser.add_argument(
        "--trim",
        choices=["safe", "traced"],
        default="safe",
        help="safe (default): keep every requirement of what the app uses, drop what nothing needs and "
        "what no import reads (tests, headers, stubs, debug symbols); traced: also drop what the trace "
        "never loaded (paths it did not take may then fail)",
    )


def _add_image_arguments(parser: argparse.ArgumentParser) -> None:
    """Building the image, its base, and where it is pushed."""
    parser.add_argument("--no-build", action="store_true", help="do not build the image (buildah)")
    parser.add_argument(
        "--base-image",
        metavar="REF",
        help="the Dockerfile's BASE_IMAGE for the build (default: python:<version>-slim-bookworm)",
    )
    parser.add_argument(
        "--push",
        metavar="REGISTRY/REPO[:TAG]",
        help="push the built image there and pin its digest in the manifests; credentials, if the "
        f"registry wants them, come from ${PUSH_USER_ENV} and ${PUSH_TOKEN_ENV}",
    )


def _add_sandbox_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--unsafe-no-sandbox",
        action="store_true",
        help="run the app's install, build backends and runs WITHOUT the bubblewrap sandbox, as you, with "
        "your environment and network (only on a host where bubblewrap cannot run; the report says so)",
    )
    parser.add_argument(
        "--allow-direct-urls",
        action="store_true",
        help="accept `name @ https://.../file.whl` requirements (wheels only; never a path or an sdist)",
    )


def request_from_args(args: argparse.Namespace) -> K8orizeRequest:
    request = request_from_options(
        args,
        app_dir=args.app_dir,
        out=args.out,
        name=args.name,
        env=parse_env(args.env),
        probe_timeout=args.probe_timeout,
        installer=args.installer,
        build=not args.no_build,
        base_image=args.base_image,
        push=args.push,
        push_credentials=push_credentials(os.environ),
    )
    return replace(
        request, unsafe_no_sandbox=args.unsafe_no_sandbox, allow_direct_urls=args.allow_direct_urls
    )


def push_credentials(environ: Mapping[str, str]) -> RegistryCredentials | None:
    """The registry credentials the environment holds (never a command-line argument: ps shows those)."""
    user, token = environ.get(PUSH_USER_ENV), environ.get(PUSH_TOKEN_ENV)
    return RegistryCredentials(user, token) if user and token else None


def _progress(step: str, status: str) -> None:
    print(f"[k8orize] {step}: {status}", file=sys.stderr, flush=True)


def run(args: argparse.Namespace) -> int:
    """Run the engine; 0 when everything verified, 1 when a check failed, 2 on bad input."""
    try:
        result = k8orize(request_from_args(args), progress=_progress)
    except K8orizeError as exc:
        hint = f" {messages.UNSAFE_HINT}" if isinstance(exc, SandboxUnavailable) else ""
        print(f"k8orize: {exc}{hint}", file=sys.stderr)
        return 2
    print(result.summary())
    print(f"\nOutput: {result.out}")
    return (
        1
        if result.report["checks_failed"] or any(s["status"] == "failed" for s in result.report["steps"])
        else 0
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="k8or")
    sub = parser.add_subparsers(dest="command", required=True)
    register(sub)
    args = parser.parse_args(argv)
    command: Callable[[argparse.Namespace], int] = args.func
    return command(args)
