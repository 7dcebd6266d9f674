"""k8or's version, from the installed distribution."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    VERSION = version("k8or")
except PackageNotFoundError:  # running from a source tree that was never installed
    VERSION = "0.0.0+source"
