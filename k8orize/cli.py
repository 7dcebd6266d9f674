"""`k8or k8orize APP_DIR --out OUT ...`: the command-line face of the engine."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from .engine import k8orize
from .errors import K8orizeError
from .request import K8orizeRequest, parse_env, request_from_options


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `k8orize` subcommand to an argparse subparsers object."""
    parser = subparsers.add_parser(
        "k8orize",
        help="trace, trim and harden an app for Kubernetes",
        description="Level-3 k8orization: analyze, trace, trim, seccomp, manifests.",
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
        "--env", action="append", default=[], metavar="KEY=VALUE", help="environment for the app"
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
    parser.add_argument(
        "--installer",
        choices=["auto", "uv", "pip"],
        default="auto",
        help="who installs the app into its venv (auto: uv when available, else pip)",
    )
    parser.add_argument("--probe-timeout", type=float, default=60.0, help="seconds to wait for the probes")


def request_from_args(args: argparse.Namespace) -> K8orizeRequest:
    return request_from_options(
        args,
        app_dir=args.app_dir,
        out=args.out,
        name=args.name,
        env=parse_env(args.env),
        probe_timeout=args.probe_timeout,
        installer=args.installer,
    )


def _progress(step: str, status: str) -> None:
    print(f"[k8orize] {step}: {status}", file=sys.stderr, flush=True)


def run(args: argparse.Namespace) -> int:
    """Run the engine; 0 when everything verified, 1 when a check failed, 2 on bad input."""
    try:
        result = k8orize(request_from_args(args), progress=_progress)
    except K8orizeError as exc:
        print(f"k8orize: {exc}", file=sys.stderr)
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
