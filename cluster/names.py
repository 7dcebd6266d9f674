"""Name checks that run before any API call: DNS-1123 labels and subdomains, sizes, volume specs."""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass

from .errors import InvalidInput, InvalidName

_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_SIZE = re.compile(r"^[1-9][0-9]*(Ki|Mi|Gi|Ti|Pi|K|M|G|T|P)?$")


def _at_most(value: object, limit: int, what: str) -> None:
    """Refuse a value over its length limit by its length alone: it is not repeated back."""
    if isinstance(value, str) and len(value) > limit:
        raise InvalidName(f"{_article(what)} is at most {limit} characters; yours has {len(value)}.")


def _article(what: str) -> str:
    return ("An " if what[:1] in "aeiou" else "A ") + what


def dns_label(value: str, what: str = "name") -> str:
    """A DNS-1123 label (namespaces, apps, container names): at most 63 of [a-z0-9-], alphanumeric ends."""
    _at_most(value, 63, what)
    if not isinstance(value, str) or not _LABEL.match(value):
        raise InvalidName(
            f"{_article(what)} {value!r} is not a valid DNS-1123 label: use at most 63 lower case letters, "
            "digits or '-', starting and ending with a letter or digit."
        )
    return value


def dns_subdomain(value: str, what: str = "name") -> str:
    """A DNS-1123 subdomain (storage classes, claims): at most 253 characters, dot-separated labels."""
    _at_most(value, 253, what)
    if not isinstance(value, str) or not _SUBDOMAIN.match(value):
        raise InvalidName(
            f"{_article(what)} {value!r} is not a valid DNS-1123 name: use lower case letters, digits, "
            "'-' and '.', starting and ending with a letter or digit."
        )
    return value


def app_name(value: str) -> str:
    """App names become Deployment names and label values; a label keeps them usable everywhere."""
    return dns_label(value, "app name")


def size(value: str) -> str:
    """A storage size such as 10Gi or 500Mi."""
    _at_most(value, 32, "size")
    if not isinstance(value, str) or not _SIZE.match(value):
        raise InvalidInput(f"The size {value!r} is not a storage size; write it like 10Gi or 500Mi.")
    return value


def mount_path(value: str) -> str:
    _at_most(value, 4096, "mount path")
    if not value.startswith("/") or posixpath.normpath(value) != value or value == "/":
        raise InvalidInput(f"The mount path {value!r} must be an absolute path such as /mnt (not / itself).")
    return value


@dataclass(frozen=True)
class VolumeSpec:
    """`claim:/path` from a command line: mount PersistentVolumeClaim `claim` at `/path`."""

    claim: str
    path: str

    @classmethod
    def parse(cls, text: str) -> VolumeSpec:
        _at_most(text, 253 + 1 + 4096, "volume")
        claim, sep, path = text.partition(":")
        if not sep:
            raise InvalidInput(f"The volume {text!r} must look like claim:/path, for example data:/mnt.")
        return cls(dns_subdomain(claim, "claim name"), mount_path(path))

    @property
    def volume_name(self) -> str:
        """The pod volume's name: a label derived from the claim (claims may be longer subdomains)."""
        base = re.sub(r"[^a-z0-9-]", "-", self.claim)[:56].strip("-")
        return f"vol-{base}"


# How many log lines one read may ask for (the kubelet also stops a stream at 1 MiB: cluster.logs).
DEFAULT_LINES, MAX_LINES = 100, 5000


def check_lines(lines: int) -> int:
    """1 to MAX_LINES lines; anything else is refused with the bounds."""
    if not 1 <= lines <= MAX_LINES:
        raise InvalidInput(f"--lines must be between 1 and {MAX_LINES} (got {lines}).")
    return lines


_IMAGE = re.compile(r"^[a-z0-9]+([._/:@-][A-Za-z0-9_.-]+)*(@sha256:[a-f0-9]{64})?$")
_COMMIT = re.compile(r"^[0-9a-fA-F]{7,40}$")
# GitHub's rules: an owner of up to 39 letters, digits and single hyphens; a repository of up to 100
# letters, digits, '.', '-' and '_' (but not `.` or `..`).
_REPO = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}/[A-Za-z0-9._-]{1,100}$")


def image_ref(image: str) -> str:
    """Check an image reference (registry/repo[:tag][@digest]); the tag defaults to what the registry says."""
    if not isinstance(image, str) or len(image) > 512 or not _IMAGE.match(image):
        raise InvalidInput(
            f"image {image!r} is not an image reference such as nginx:1.27 or ghcr.io/org/app:v2."
        )
    return image


def commit_id(value: str) -> str:
    """A commit named by 7 to 40 hexadecimal digits, lower-cased as Git prints it."""
    if not isinstance(value, str) or not _COMMIT.match(value):
        raise InvalidInput(f"commit {value!r} is not a Git commit: give 7 to 40 hex digits, e.g. a1b2c3d.")
    return value.lower()


def repository_name(value: str) -> str:
    """A repository as `owner/name`, as GitHub spells it."""
    if not isinstance(value, str) or not _REPO.match(value) or value.split("/")[1] in (".", ".."):
        raise InvalidInput(f"repository {value!r} is not owner/name, e.g. acme/shop.")
    return value
