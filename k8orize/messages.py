"""Every user-facing sentence the engine produces, in one place so wording stays consistent."""

from __future__ import annotations

from collections.abc import Sequence

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
ENGINE_EXTRA = "pip install 'k8or[k8orize]'"
JUDGE_MISSING = "{tool} is not installed, so {what} ({hint})"
JUDGES_NOT_RUN = "not run: {tools}"
VALIDATOR_MISSING = f"kubernetes-validate is not installed, so no manifest was validated ({ENGINE_EXTRA})"
PICTURE_MISSING = f"matplotlib is not installed, so no pipeline picture was drawn ({ENGINE_EXTRA})"
# The value is never repeated: it may be a secret.
BAD_ENV_NO_EQUALS = "--env expects KEY=VALUE: one of them has no '='."
BAD_ENV_NAME = "--env expects KEY=VALUE with KEY a variable name (letters, digits and _), got {name!r}."
BAD_PORT = "--port expects a port (1-65535), got {value}."
LITERAL_PORT = (
    "`--run` listens on {port} but k8orize runs the app on a free port: write {{port}} where the port goes "
    "(`{fixed}`)."
)
LITERAL_PORT_NOT_PORT = (
    "`--run` listens on {port} but the container listens on --port {container}: write {{port}} where the "
    "port goes, or pass --port {port}."
)
BAD_PROBE = "--probe expects an http:// URL, got {value!r}."
NO_PROBE = "Nothing tells when the app is ready: pass --probe http://127.0.0.1:{port}/PATH (one per URL)."
BAD_SANDBOX = "--sandbox supports only 'gvisor', got {value!r}."
BAD_INSTALLER = "--installer is auto, uv or pip, got {value!r}."
BAD_TRIM = "--trim is safe or traced, got {value!r}."
OUT_INSIDE_APP = "--out {out} is inside the app directory; choose a folder outside it."
NO_TRACE_SECCOMP = (
    "no trace was taken, so the pod uses the runtime's default seccomp profile (RuntimeDefault)"
)
DIGEST_UNKNOWN = (
    "the image is referenced by tag because its digest is unknown: pass --push REGISTRY/REPO "
    "(or --image REPO@sha256:...)"
)

# --- the image: build, push, pin (k8orize/image.py, k8orize/registry_api.py) ---
BUILDAH_MISSING = "buildah is not installed, so no image was built (apt-get install buildah)"
RUNC_MISSING = (
    "runc is not installed, so no image was built: a build's RUN steps run the app's code only under "
    "runc, in a user namespace (apt-get install runc)"
)
BUILDAH_FAILED = "buildah {verb} failed: {why}"
BUILD_FAILED = "The image did not build (buildah exit {code}; {log} has every line). Last lines:\n{tail}"
BASE_UNAVAILABLE = "the base image {image} could not be pulled (pass --base-image REF): {why}"
BUILD_STOPPED = "The image build was stopped before it finished ({log} has every line so far)."
NOT_BUILT = "image: not built ({why}), so nothing was pushed and nothing could run it"
NAIVE_NOT_BUILT = "the naive baseline image was not built ({why})"
PUSH_FAILED = "Pushing the image to {destination} failed: {why}"
DIGEST_MISMATCH = "{destination} serves {served}, not the {pushed} that was pushed: a push raced this one?"
REGISTRY_UNREACHABLE = "the registry at {url} did not answer ({why})"
REGISTRY_NO_DIGEST = "the registry answered {status} for {url}, without a manifest digest"
BAD_PUSH = "--push expects REGISTRY/REPO[:TAG] (e.g. 127.0.0.1:5000/k8or/shop), got {value!r}."
PUSH_WITHOUT_BUILD = "--push needs the image built: drop --no-build."

# --- what ships, under the container runtimes (k8orize/shipped.py, runtime_base.py, runtime_verify.py) ---
NO_DEPLOYMENT = "OUT/manifests has no Deployment named {name!r}."
NOT_ONE_CONTAINER = "Deployment {name!r} has {count} containers; the runtime check runs exactly one."
ENV_SOURCE_MISSING = (
    "env {var} comes from a {kind} ({ref}) that is neither in OUT/manifests nor given: pass its value."
)
ENV_SOURCE_UNSUPPORTED = (
    "env {var} takes its value from a source the runtime check cannot fill "
    "(value, secretKeyRef, configMapKeyRef and fieldRef metadata.name can be)."
)
PROBE_UNSUPPORTED = "The {kind}Probe {probe} is neither httpGet, tcpSocket nor exec."
USER_NOT_NUMERIC = (
    "The image's USER {user!r} is not numeric and the pod sets no runAsUser: the kubelet cannot verify "
    "that it is not root."
)
RUNS_AS_ROOT = "runAsNonRoot is set but the container would run as UID 0: the kubelet refuses to start it."
VOLUME_UNSUPPORTED = "Volume {volume!r} is not an emptyDir; the runtime check mounts emptyDirs only."
NO_COMMAND = "Neither the Dockerfile (CMD/ENTRYPOINT) nor the Deployment (command/args) says what to run."
RUNTIME_BASE_FAILED = (
    "Tracing {runtime} to learn what it calls after installing the seccomp filter failed: {why}"
)
POD_NETWORK_FAILED = "Could not make the pod's network namespace ({why}): `ip netns` needs root and iproute2."
RUNTIME_EXITED = (
    "Under {runtime} the container exited with code {code} before its probes passed. Last output:\n{tail}"
)
RUNTIME_NOT_READY = (
    "Under {runtime} the {probe} did not pass within {seconds:.0f}s (the probes' start-up budget). "
    "Last output:\n{tail}"
)
LOOPBACK_ONLY = (
    "The app answers on 127.0.0.1:{port} but not on the pod's IP {ip}: the kubelet's probes and the "
    "Service reach the pod's IP, so it must listen on 0.0.0.0."
)
RUNTIME_DENIALS = "the profile refused these calls under {runtime} ({count} in all): {calls}"
DENIALS_UNOBSERVABLE = (
    "seccomp denials under {runtime} were not observable here (no readable /dev/kmsg, or the kernel's "
    "audit records go to auditd): a denial shows only when the app or a probe fails"
)
RUNSC_DENIALS_UNOBSERVABLE = (
    "under runsc (gVisor) the profile is enforced inside the sandbox, where a denial leaves no kernel "
    "record: only failures show"
)
NO_SIGTERM_EXIT = "the container did not exit within {grace:.0f}s of SIGTERM (terminationGracePeriodSeconds)"
SECRET_VALUE_HIDDEN = "<from the Secret: not written here>"

# --- the sandbox and the app's requirements (k8orize/sandbox.py, requirements.py, install.py) ---
SANDBOX_UNAVAILABLE = (
    "The app was not run: its code runs only inside a bubblewrap sandbox, and {why}. "
    "Leave out --run to k8orize it without running it."
)
UNSAFE_HINT = "On a host you trust, the command line's --unsafe-no-sandbox runs it without one."
UNSANDBOXED = (
    "the app's code (its install, build backends and runs) ran WITHOUT a sandbox, as the invoking user "
    "with its environment and network (--unsafe-no-sandbox)"
)
REQUIREMENT_OPTION = (
    "{where}: `{line}` is a pip option, not a requirement. k8orize installs only named requirements "
    "from the package index (no --index-url, --extra-index-url, -f, -e, -r or other options): list the "
    "packages themselves."
)
REQUIREMENT_URL = (
    "{where}: `{line}` installs from a URL or a path. k8orize installs named requirements from the "
    "package index; a direct https URL to a wheel is allowed only with --allow-direct-urls (command line)."
)
REQUIREMENT_INVALID = "{where}: `{line}` is not a valid requirement ({why})."
PYPROJECT_UNREADABLE = "pyproject.toml is not valid TOML ({why}), so its dependencies cannot be read."
PYPROJECT_NOT_A_LIST = "{where} is not a list of strings."
DOWNLOAD_FAILED = (
    "Downloading the app's dependencies as wheels failed (pip exit {code}). Nothing is built from source "
    "outside the sandbox, so every dependency needs a wheel for this platform. Last lines of the log:\n{tail}"
)
RUN_TIMED_OUT = "The sandboxed run did not finish within {seconds:.0f}s and was killed. Last output:\n{tail}"
HARNESS_NO_VERDICT = (
    "The sandboxed run ended without a verdict (did the sandbox start?). Last output:\n{tail}"
)
NOT_STARTED = "The run command could not start ({why}). Last output:\n"

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

# --- trimming (k8orize/trim.py, closure_check.py, reimport.py; summary.py) ---
CLOSURE_INTACT = "every requirement of the trimmed site-packages is installed (pip check)"
CLOSURE_BROKEN = "the trimmed site-packages misses requirements of its own (pip check): {problems}"
CLOSURE_NOT_CHECKED = "the trimmed site-packages' requirements were not checked: {why}"
REIMPORTED = "all {count} modules the trace imported import again from the trimmed tree"
REIMPORT_FAILED = "{count} traced modules no longer import from the trimmed tree: {modules}"
REIMPORT_NO_VERDICT = "the traced modules were not imported again from the trimmed tree: {why}"
UNTRACED_DROPPED = (
    "--trim traced dropped {count} requirements the trace never loaded ({names}): a code path the trace "
    "did not take may fail with ModuleNotFoundError; --trim safe keeps them"
)
UNTRACED_SHARED_OBJECTS_DROPPED = (
    "--trim traced left {count} shared objects the dynamic loader never opened out of the image ({names}): "
    "an import or library load on a path the trace did not take that needs one fails (ImportError, OSError); "
    "--trim safe keeps them"
)
UNTRACED_MODULES_DROPPED = (
    "--trim traced left {count} app modules nothing imported out of the image ({names}): code that "
    "loads them by name (a plugin, a management command) fails; --trim safe keeps them"
)
TRIM_LINE = "- Trim: {level}; {safe} with --trim safe, {traced} with --trim traced"
TRIM_SAFE_PROOF = "- Requirements intact: {closure}; traced modules imported again: {reimport}"
TRIM_TRACED_WARNING = (
    "- WARNING (--trim traced): paths the trace did not take may fail; dropped, never loaded: {names}"
)
TRIM_TRACED_SHARED_OBJECTS_WARNING = (
    "- WARNING (--trim traced): an import the trace did not take may fail; shared objects never loaded, "
    "left out: {names}"
)
UNUSED_APP_MODULES = "- App modules nothing imports: {names}"


def listed(names: Sequence[str], shown: int = 8, where: str = "report.json") -> str:
    """The first `shown` names, then how many more there are and `where` they all are."""
    more = f" and {len(names) - shown} more ({where})" if len(names) > shown else ""
    return ", ".join(names[:shown]) + more
