"""The two long jobs of the fault run: a rollout follower and a k8orize run, started from chat.

The rollout goes to the fake Kubernetes API server (`testing.kube`, served from this process; the
replicas reach it through a kubeconfig), whose controllers are paused while the replica dies, so the
follower is mid-follow. The k8orize run traces a small web app in k8or's workspace (`--run`, an
admin's option), long enough to be killed mid-pipeline. Each job's conversation is watched at the
channel: the messages created for it and every edit, with their times.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import asyncpg
import yaml

from bench.ha.channel import ChannelCall, Recorder
from bench.ha.load import activity
from bench.ha.replicas import PG_DSN
from testing.kube import FakeKube

OPS = "ops"  # the person who starts the jobs: an admin in the RBAC file
DEPLOY, K8ORIZE = "ops-deploy", "ops-k8orize"  # their conversations (watched by the recorder)
APP = {
    "requirements.txt": "# the standard library is enough\n",
    "app.py": (
        '"""A tiny web app: GET / answers a JSON line."""\n'
        "import http.server, json, sys\n\n\n"
        "class Handler(http.server.BaseHTTPRequestHandler):\n"
        "    def do_GET(self):\n"
        "        body = json.dumps({'ok': True}).encode()\n"
        "        self.send_response(200)\n"
        "        self.send_header('Content-Type', 'application/json')\n"
        "        self.end_headers()\n"
        "        self.wfile.write(body)\n\n\n"
        "port = int(sys.argv[sys.argv.index('--port') + 1])\n"
        "http.server.ThreadingHTTPServer(('127.0.0.1', port), Handler).serve_forever()\n"
    ),
}
K8ORIZE_LINE = "k8orize shop --run 'python app.py --port {port}' --probe http://127.0.0.1:{port}/"
DEPLOY_LINE = "deploy web nginx:1.27"


def start_cluster(folder: Path) -> tuple[FakeKube, Path]:
    """The fake API server with a node and the `default` namespace, and a kubeconfig for it."""
    fake = FakeKube().start()
    fake.add_namespace("default")
    fake.add_node("node-1")
    return fake, fake.write_kubeconfig(folder / "kubeconfig", {"fake": "default"})


def job_settings(folder: Path, kubeconfig: Path) -> dict[str, str]:
    """The replicas' settings for the jobs: the cluster, and `ops` as an admin."""
    rbac = folder / "rbac.yaml"
    rbac.write_text(yaml.safe_dump({"roles": {"admin": {"users": [f"emulator:{OPS}"]}}}))
    return {"K8OR_KUBECONFIG": str(kubeconfig), "K8OR_RBAC_FILE": str(rbac)}


def seed_workspace(data_dir: Path) -> None:
    """The app to k8orize, in a replica's workspace (each replica's data folder has its own copy)."""
    folder = data_dir / "workspace" / "shop"
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in APP.items():
        (folder / name).write_text(text)


async def say(
    session: aiohttp.ClientSession, url: str, service_url: str, conversation: str, text: str
) -> str:
    """One turn from `ops`, posted straight to a replica; its activity id."""
    activity_id = f"{conversation}-{time.perf_counter_ns()}"
    body = activity(text, conversation, activity_id, service_url)
    body["from"] = {"id": OPS, "name": "Ops"}
    async with session.post(url, json=body) as answer:
        await answer.read()
        if answer.status >= 300:
            raise RuntimeError(f"`{text}` was answered {answer.status}")
    return activity_id


@dataclass(frozen=True)
class JobReport:
    """What the channel saw of one job, from its command on."""

    name: str
    created: int  # messages created: the progress message and the job's own replies
    edits: int
    edited_other: int  # edits of a message that is not the progress message (should be 0)
    final: str  # the progress message's last text
    finished: bool
    resumed_after: float | None  # seconds from the kill to the first edit after it
    expected_created: int

    @property
    def one_progress_message(self) -> bool:
        return self.created == self.expected_created and self.edited_other == 0


def job_report(
    recorder: Recorder, conversation: str, command_id: str, killed_at: float | None, expected: int
) -> JobReport:
    calls = recorder.calls(conversation)
    start = next((i for i, c in enumerate(calls) if c.reply_to == command_id), len(calls))
    calls = calls[start:]
    progress = calls[0].message_id if calls else ""
    edits = [c for c in calls if not c.created]
    own = [c for c in edits if c.message_id == progress]
    after = [c.at - killed_at for c in own if killed_at is not None and c.at > killed_at]
    final = own[-1].text if own else (calls[0].text if calls else "")
    return JobReport(
        name=conversation.removeprefix("ops-"),
        created=sum(1 for c in calls if c.created),
        edits=len(edits),
        edited_other=len(edits) - len(own),
        final=final,
        finished=_finished(conversation, final, calls),
        resumed_after=min(after) if after else None,
        expected_created=expected,
    )


def _finished(conversation: str, final: str, calls: list[ChannelCall]) -> bool:
    if conversation == DEPLOY:
        return final.startswith("✓ Rollout of `web`")
    headline = final.startswith(("✓ k8orized `shop`", "⚠ k8orized `shop`"))  # ⚠: a check failed
    return headline and any("**k8orized `shop`**" in c.text for c in calls)


async def wait_until(check, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def running_jobs(schema: str) -> int:
    """Jobs a worker is running now (procrastinate's `doing`)."""
    conn = await asyncpg.connect(PG_DSN)
    try:
        query = f"SELECT count(*) FROM \"{schema}\".procrastinate_jobs WHERE status = 'doing'"
        return int(await conn.fetchval(query))
    finally:
        await conn.close()


async def rollout_results_audited(schema: str) -> int:
    """Audit entries for the rollout's outcome (one per rollout, however many runs it took)."""
    conn = await asyncpg.connect(PG_DSN)
    try:
        query = f'SELECT count(*) FROM "{schema}".k8or_cluster_audit WHERE command = $1'
        return int(await conn.fetchval(query, "deploy (rollout result)"))
    finally:
        await conn.close()
