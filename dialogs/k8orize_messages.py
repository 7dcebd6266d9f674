"""What `k8orize` and `k8orize repo` say: every user-facing line of the two commands, in one place."""

OUTSIDE_WORKSPACE = (
    "`{path}` is outside k8or's workspace, so I won't k8orize it. I only k8orize folders inside the "
    "workspace: copy the app there, or use `k8orize repo owner/repo`."
)
WORKSPACE_ITSELF = "Name a folder inside k8or's workspace, not the workspace itself.{known}"
NO_SUCH_FOLDER = "There is no folder `{path}` in k8or's workspace.{known}"
KNOWN_FOLDERS = " Folders there: {names}."
EMPTY_WORKSPACE = " The workspace has no folders yet."
MAYBE_REPOSITORY = " For a GitHub repository, say `k8orize repo {path}`."
RUN_NEEDS_ADMIN = (
    "`--run` starts your app on the k8or host (under strace), so it needs the `admin` role; you have: "
    "{held}. Leave out `--run` to k8orize without running the app, or ask an admin."
)
BASE_WITHOUT_PR = "`--base` names the pull request's target branch; add `--pr` to open one."
STARTED_FOLDER = "⏳ k8orizing `{name}` from the workspace folder `{source}`…"
STARTED_REPOSITORY = "⏳ k8orizing `{name}` from GitHub `{source}`…"
BOARD_TITLE = "k8orize: {name}"
FINISHED = "✓ k8orized `{name}` in {duration}."
FINISHED_WITH_FAILURES = "⚠ k8orized `{name}` in {duration}; some checks failed (see the summary)."
STOPPED = "✗ k8orizing `{name}` stopped: {reason}"
OUTPUT_AT = "Output: `{folder}` in k8or's data folder."
PR_OPENED = "Pull request: {url}"
PR_NOT_OPENED = "✗ The pull request was not opened: {reason}"
PR_TITLE = "k8orize {name}: Dockerfile, manifests and seccomp profile"
PR_MESSAGE = "k8orize {name}: add the k8or/ output"
PR_NOTE = (
    "Opened by k8or for {person} (`k8orize repo {source}`).\n\n"
    "Your CI builds the image from the app's folder: `docker build -f k8or/repository/Dockerfile .` "
    "installs the app's requirements at the verified versions, then keeps exactly the distributions and "
    "files k8orize verified (`k8or/repository/keep-list.txt`, `keep-files.txt`). Not included: `image/` "
    "(the trimmed tree, which that build makes again), `pipeline.png`, and the Secret with any `--env` "
    "value that looked secret (create it in the cluster: `k8or/README.md` says how)."
)
