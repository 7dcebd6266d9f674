"""A strict fake Kubernetes API server for tests: real HTTP, strict validation, working controllers."""

from .fake import FakeKube
from .runtime import CRASH, NEVER_READY, PULL_FAIL, RUN

__all__ = ["FakeKube", "RUN", "PULL_FAIL", "CRASH", "NEVER_READY"]
