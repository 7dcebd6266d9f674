"""The engine's own exceptions. Each message says what went wrong and what the user can do about it."""

from __future__ import annotations


class K8orizeError(Exception):
    """Base class: anything that stops a k8orization. Nothing is written to OUT when one is raised."""


class AppNotFound(K8orizeError):
    """APP_DIR does not exist or is not a directory."""


class UnknownAppKind(K8orizeError):
    """No registered app kind recognises the directory."""


class InstallFailed(K8orizeError):
    """Installing the app's dependencies into the isolated venv failed."""


class AppExited(K8orizeError):
    """The run command exited before its probes answered."""


class ProbeTimeout(K8orizeError):
    """A probe never turned healthy within the deadline."""


class ToolMissing(K8orizeError):
    """An external tool the requested step needs (strace, libseccomp) is not installed."""


class BadRequest(K8orizeError):
    """An option is malformed (a bad --env, a probe that is not a URL, an unknown sandbox)."""
