"""`k8or teams package`: the zip a Teams admin uploads (manifest.json, color.png, outline.png).

The zip is the same bytes for the same inputs (fixed member order and timestamps), so a package
can be rebuilt and compared rather than kept.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from bot.commands.registry import CommandSpec
from k8or.teams.icons import color_icon, outline_icon
from k8or.teams.manifest import AppDetails, PackageError, package_version, teams_manifest

_EPOCH = (1980, 1, 1, 0, 0, 0)  # the zip format's earliest date: no build time in the bytes


def app_package(details: AppDetails, registry: Iterable[CommandSpec]) -> bytes:
    """The app package for these details, with the command menu taken from `registry`."""
    manifest = teams_manifest(details, registry)
    members = {
        "manifest.json": json.dumps(manifest, indent=2, ensure_ascii=False).encode() + b"\n",
        "color.png": color_icon(),
        "outline.png": outline_icon(),
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            info = zipfile.ZipInfo(name, date_time=_EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)
    return buffer.getvalue()


def register(subparsers: Any) -> None:
    """Add `k8or teams package` to the `k8or` command line."""
    teams = subparsers.add_parser("teams", help="Microsoft Teams: the app package admins upload")
    commands = teams.add_subparsers(dest="teams_command", required=True)
    package = commands.add_parser(
        "package",
        help="Write the Teams app package (manifest.json and icons) for this bot",
        description="The zip to upload in the Teams admin center, the Developer Portal or as a custom "
        "app. Its valid domain and the default privacy and terms URLs come from K8OR_PUBLIC_URL.",
    )
    package.add_argument("--app-id", help="the bot's Microsoft App ID (default: MicrosoftAppId)")
    package.add_argument("--name", default="k8or", help="the app's name in Teams, at most 30 characters")
    package.add_argument("--developer", default="k8or", help="who publishes it, at most 32 characters")
    package.add_argument(
        "--privacy-url", default="", help="privacy statement (default: K8OR_PUBLIC_URL/privacy)"
    )
    package.add_argument("--terms-url", default="", help="terms of use (default: K8OR_PUBLIC_URL/terms)")
    package.add_argument("--app-version", help="MAJOR.MINOR.PATCH; raise it to replace an uploaded package")
    package.add_argument("--out", type=Path, default=Path("k8or-teams.zip"), help="where to write the zip")
    package.set_defaults(func=_package)


def _package(args: argparse.Namespace) -> int:
    from bot.settings import load_settings
    from bot.version import VERSION
    from k8or.app import default_registry

    settings = load_settings()
    details = AppDetails(
        app_id=(args.app_id or settings.microsoft_app_id).strip(),
        public_url=settings.public_url,
        version=args.app_version or package_version(VERSION),
        name=args.name,
        developer=args.developer,
        privacy_url=args.privacy_url,
        terms_url=args.terms_url,
    )
    if not details.app_id:
        print("k8or: give the bot's Microsoft App ID: --app-id GUID (or set MicrosoftAppId)", file=sys.stderr)
        return 2
    try:
        data = app_package(details, default_registry())
    except PackageError as exc:
        print(f"k8or: {exc}", file=sys.stderr)
        return 2
    args.out.write_bytes(data)
    print(f"wrote {args.out}: upload it in Teams (docs/operator/teams.md)")
    return 0
