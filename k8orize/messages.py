"""Every user-facing sentence the engine produces, in one place so wording stays consistent."""

from __future__ import annotations

APP_NOT_FOUND = (
    "App directory {path} does not exist or is not a directory. Pass the folder that holds the app."
)
UNKNOWN_KIND = (
    "Cannot tell what kind of app {path} is (known kinds: {kinds}). "
    "k8orize needs a requirements.txt or pyproject.toml next to the code."
)
NO_ENTRYPOINT = "Found no entrypoint in {path}: add app.py or main.py, or pass --run."
INSTALL_FAILED = (
    "Installing the app's dependencies failed (exit {code}). See the last lines of the log:\n{tail}"
)
APP_EXITED = "The run command exited with code {code} before its probes answered. Last output:\n{tail}"
PROBE_TIMEOUT = "Probe {url} did not turn healthy within {seconds:.0f}s. Last output:\n{tail}"
SESSION_FAILED = "The {driver} session against {url} did not finish the script: {detail}"
TOOL_MISSING = "{tool} is not installed; it is needed to {purpose}. Install it ({hint}) or pass --no-trace."
# The engine's judges and drawing are an optional extra: `k8or serve` runs without them.
ENGINE_EXTRA = "pip install 'k8or[engine]'"
VALIDATOR_MISSING = f"kubernetes-validate is not installed, so no manifest was validated ({ENGINE_EXTRA})"
PICTURE_MISSING = f"matplotlib is not installed, so no pipeline picture was drawn ({ENGINE_EXTRA})"
BAD_ENV = "--env expects KEY=VALUE, got {value!r}."
BAD_PROBE = "--probe expects an http:// URL, got {value!r}."
NO_PROBE = "Nothing tells when the app is ready: pass --probe http://127.0.0.1:{port}/PATH (one per URL)."
BAD_SANDBOX = "--sandbox supports only 'gvisor', got {value!r}."
BAD_INSTALLER = "--installer is auto, uv or pip, got {value!r}."
OUT_INSIDE_APP = "--out {out} is inside the app directory; choose a folder outside it."
NO_TRACE_SECCOMP = (
    "no trace was taken, so the pod uses the runtime's default seccomp profile (RuntimeDefault)"
)
DIGEST_UNKNOWN = (
    "the image is referenced by tag because its digest is unknown; push it and pass --image REPO@sha256:..."
)

# --- the app's files and archives (what the report says about a file it did not read) ---
APP_FILE_LEAVES = "a link that leaves the app folder (not followed)"
APP_FILE_NOT_REGULAR = "not a regular file (a device, fifo, socket or broken link)"
APP_FILE_MISSING = "no such file"
APP_FILE_UNREADABLE = "could not be read ({why})"
APP_FILE_TOO_LARGE = "larger than {mb} MB, so it was not parsed"
APP_FILE_NOT_TEXT = "not UTF-8 text"
APP_FILE_UNPARSABLE = "not parsable as Python ({why}); its imports are not counted"
MANIFEST_REFUSED = (
    "{path}: {files} could not be read ({reason}). k8orize reads only regular files inside the app "
    "folder: replace the link with the file itself."
)
ARCHIVE_PATH_OUTSIDE = "a path outside its folder (`{name}`)"
ARCHIVE_LINK_OUTSIDE = "a link pointing outside it (`{name}`)"
ARCHIVE_THROUGH_LINK = "a path through a link (`{name}`)"
ARCHIVE_HARD_LINK = "a hard link (`{name}`)"
ARCHIVE_SPECIAL = "a special file (`{name}`)"
ARCHIVE_TWICE = "the same path twice (`{name}`)"
ARCHIVE_TOO_MANY = "more than {limit} files"
ARCHIVE_TOO_BIG = "more than {mb} MB of files"
ARCHIVE_FILE_TOO_BIG = "a file larger than {mb} MB (`{name}`)"
ARCHIVE_HEADER = "an oversized or malformed header"
ARCHIVE_UNREADABLE = "no readable tar.gz"
ARCHIVE_NO_TOP = "no single top folder"
