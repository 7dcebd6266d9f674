"""`k8or cluster …`: the library's read-mostly operations from a terminal, without the bot.

k8or cluster --kubeconfig ~/.kube/config --context prod -n shop preflight
k8or cluster -n shop status [APP]
k8or cluster -n shop revisions APP
k8or cluster -n shop render APP IMAGE [--replicas N] [--volume claim:/path ...]
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from .errors import ClusterError
from .names import VolumeSpec
from .preflight import preflight
from .render import render_deployment
from .rollback import list_revisions
from .status import app_status, namespace_status
from .target import from_kubeconfig


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `cluster` subcommand to an argparse subparsers object."""
    parser = subparsers.add_parser(
        "cluster", help="cluster operations (preflight, status, revisions, render)"
    )
    parser.add_argument(
        "--kubeconfig", default=os.environ.get("KUBECONFIG", os.path.expanduser("~/.kube/config"))
    )
    parser.add_argument("--context", help="kubeconfig context (default: the current one)")
    parser.add_argument("-n", "--namespace", help="namespace (default: the context's)")
    ops = parser.add_subparsers(dest="operation", required=True)
    ops.add_parser("preflight", help="one ✓/✗ line per check")
    status = ops.add_parser("status", help="one app, or every deployment in the namespace")
    status.add_argument("app", nargs="?")
    revisions = ops.add_parser("revisions", help="an app's revisions (rollback candidates)")
    revisions.add_argument("app")
    render = ops.add_parser("render", help="print the hardened Deployment k8or would apply")
    render.add_argument("app")
    render.add_argument("image")
    render.add_argument("--replicas", type=int, default=1)
    render.add_argument("--volume", action="append", default=[], metavar="CLAIM:/PATH")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run one operation; errors print their one line and exit 1."""
    try:
        for line in _lines(args):
            print(line)
    except ClusterError as exc:
        print(f"k8or cluster: {exc}", file=sys.stderr)
        return 1
    return 0


def _lines(args: argparse.Namespace) -> list[str]:
    if args.operation == "render":
        volumes = [VolumeSpec.parse(v) for v in args.volume]
        return [json.dumps(render_deployment(args.app, args.image, args.replicas, volumes), indent=2)]
    target = from_kubeconfig(args.kubeconfig, args.context, args.namespace)
    if args.operation == "preflight":
        return [c.line for c in preflight(target)]
    if args.operation == "revisions":
        rows = list_revisions(target, args.app)
        return [f"{r.number}\t{r.image}\t{r.age}" + ("\tcurrent" if r.current else "") for r in rows]
    if args.app:
        s = app_status(target, args.app)
        return [
            f"{s.name}: {s.available}/{s.desired} available, revision {s.revision}, {s.image}, {s.phases}, "
            f"{s.restarts} restarts, age {s.age}"
        ] + [f"  {w.line}" for w in s.warnings]
    ns = namespace_status(target)
    return [f"{a.name}\t{a.available}/{a.desired}\trev {a.revision}\t{a.image}\t{a.phases}" for a in ns.apps]
