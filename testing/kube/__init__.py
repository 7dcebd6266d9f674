"""A strict fake Kubernetes API server for tests: real HTTP, strict validation, working controllers."""

from .fake import FakeKube
from .runtime import CRASH, EVICT, NEVER_READY, OOMKILL, PULL_FAIL, RUN

__all__ = ["FakeKube", "RUN", "PULL_FAIL", "CRASH", "NEVER_READY", "OOMKILL", "EVICT"]
