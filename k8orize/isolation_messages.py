"""What the engine says about isolating the app's code: dependencies built from source in the sandbox
(k8orize/package_index.py, index_fetch.py, source_build.py, install.py) and the privileges the image
build and the runc verification need (build_isolation.py).

Kept beside messages.py for now, to be folded into it. An index URL is shown without its user and
password (`package_index.shown`), never as configured.
"""

from __future__ import annotations

DOWNLOAD_FAILED = (
    "Downloading the app's dependencies failed (pip exit {code}). A dependency without a wheel for this "
    "platform is fetched from the package index as an sdist and built inside the sandbox; this failure "
    "was something else. Last lines of the log:\n{tail}"
)
NO_INDEX = (
    "{requirement} has no wheel for this platform, and pip is configured with no package index "
    "(no-index), so its sdist cannot be fetched to build it in the sandbox."
)
INDEX_UNREACHABLE = "the package index {index} did not answer for {project} ({why})"
NO_SDIST = (
    "{requirement} has no wheel for this platform and no .tar.gz sdist that fits it (Python {python}) on "
    "the package index ({indexes}), so it cannot be installed."
)
NO_INDEX_HASH = (
    "The package index serves {file} without a sha256, so it cannot be checked; k8orize fetches sdists only "
    "with the hash the index gives."
)
HASH_MISMATCH = (
    "{file} from {index} does not match the sha256 the index gives for it (expected {expected}, got "
    "{actual}): it was refused and nothing of it was built. A broken mirror or a tampered file?"
)
SDIST_TOO_BIG = "{file} from {index} is larger than {mb} MB, so it was not fetched."
SDIST_UNREADABLE = "The sdist {file} was refused: it holds {what}."
SDIST_PYPROJECT = "The sdist {file} has a pyproject.toml that is not valid TOML ({why})."
BUILD_DEPS_FAILED = (
    "Building {file} from source needs {requires} as wheels, and fetching them failed (pip exit {code}); "
    "build requirements are never built from source. Last lines of the log:\n{tail}"
)
SOURCE_BUILD_FAILED = (
    "Building {file} from source inside the sandbox failed (exit {code}). Last lines of the log:\n{tail}"
)
BUILT_WHEEL_WRONG = "Building {file} inside the sandbox did not produce one wheel of {name} {version}: {why}."
HASH_PINNED = (
    "{requirement} has no wheel for this platform. With --hash pins pip accepts only the pinned files, "
    "and a wheel built from its sdist cannot match them: pin a wheel's hash or leave the pins out."
)
TOO_MANY_SOURCE_BUILDS = (
    "More than {limit} dependencies would have to be built from source ({names}); k8orize stops there."
)
NO_PROGRESS = (
    "{requirement} still cannot be satisfied after building {name} {version} from its sdist. "
    "Last lines of the log:\n{tail}"
)
NOT_ROOT = (
    "k8orize runs as UID {uid}, not root: its sandbox works without root (bubblewrap in an unprivileged "
    "user namespace), but building the image and verifying it under runc need root (buildah maps each RUN "
    "step's user namespace onto host IDs {first}-{last}, which only root may map; the runc check makes the "
    "pod's network namespace with `ip netns` and starts containers as the app's UID). Run the engine as "
    "root to build and verify, or pass --no-build."
)
