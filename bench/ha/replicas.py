"""k8or replicas as real processes (`python -m k8or.cli serve --port N`) on one PostgreSQL schema.

Each replica has its own data directory and log file (JSON lines); they share the database, the
schema (fresh per run), the vault key and whatever settings the caller adds. A replica can be
killed with SIGKILL (no hand-back, no drain: what an OOM kill or a lost node does), stopped with
SIGTERM (the clean path), frozen and thawed (SIGSTOP/SIGCONT), and started again on its port.
"""

from __future__ import annotations

import asyncio
import functools
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import asyncpg
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[2]
PG_DSN = "postgresql://postgres@127.0.0.1:5432/test"
READY_WITHIN = 60.0  # seconds a replica may take to answer /readyz


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def new_schema(dsn: str = PG_DSN) -> str:
    """A fresh, empty schema: each run starts from nothing (the replicas migrate it)."""
    name = f"bench_ha_{uuid.uuid4().hex[:10]}"
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(f'CREATE SCHEMA "{name}"')
    finally:
        await conn.close()
    return name


async def drop_schema(name: str, dsn: str = PG_DSN) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
    finally:
        await conn.close()


@functools.cache
def shared_vault_key() -> str:
    """One vault key for every replica this process starts, as the `ha` overlay's Secret gives them."""
    return Fernet.generate_key().decode()


def base_env(schema: str, extra: dict[str, str]) -> dict[str, str]:
    """The environment every replica shares: no K8OR_* leaking in from the shell, one database."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("K8OR_", "Microsoft"))}
    env.update(
        K8OR_DATABASE_URL=PG_DSN,
        K8OR_DATABASE_SCHEMA=schema,
        K8OR_VAULT_KEY=shared_vault_key(),  # replicas share it: credentials and job records open anywhere
        K8OR_LOG_FORMAT="json",
        K8OR_LOG_LEVEL="INFO",
    )
    env.update(extra)
    return env


@dataclass
class Replica:
    """One `k8or serve` process; `start()` returns once /readyz answers 200."""

    name: str
    data_dir: Path
    env: dict[str, str]
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None
    starts: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/messages"

    @property
    def log(self) -> Path:
        return self.data_dir.with_suffix(".log")

    async def start(self, session: aiohttp.ClientSession) -> float:
        """Spawn the process; seconds until it was ready."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        env = {**self.env, "K8OR_DATA_DIR": str(self.data_dir)}
        argv = [sys.executable, "-m", "k8or.cli", "serve", "--port", str(self.port)]
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(argv, env=env, cwd=ROOT, stdout=log, stderr=log)
        self.starts += 1
        await self._ready(session, started)
        return time.perf_counter() - started

    async def _ready(self, session: aiohttp.ClientSession, started: float) -> None:
        url = f"http://127.0.0.1:{self.port}/readyz"
        while time.perf_counter() - started < READY_WITHIN:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise RuntimeError(f"replica {self.name} exited with {self.proc.returncode}; see {self.log}")
            try:
                async with session.get(url) as answer:
                    if answer.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.05)
        raise RuntimeError(f"replica {self.name} was not ready within {READY_WITHIN:.0f} s; see {self.log}")

    def kill(self) -> None:
        """SIGKILL: the process ends at once; nothing is handed back or drained."""
        self._signal(signal.SIGKILL)
        self.wait(10)

    def terminate(self, timeout: float = 40.0) -> None:
        """SIGTERM: drain the turns in flight, hand the running jobs back, exit."""
        self._signal(signal.SIGTERM)
        self.wait(timeout)

    def freeze(self) -> None:
        self._signal(signal.SIGSTOP)

    def thaw(self) -> None:
        self._signal(signal.SIGCONT)

    def wait(self, timeout: float) -> None:
        if self.proc is None:
            return
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)

    def _signal(self, signum: int) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signum)

    def log_lines(self) -> Iterator[dict]:
        """The replica's JSON log lines (every start of it, in order)."""
        if not self.log.exists():
            return
        for line in self.log.read_text(errors="replace").splitlines():
            if line.startswith("{"):
                try:
                    yield json.loads(line)
                except ValueError:
                    continue
