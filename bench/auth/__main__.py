"""Benchmark `auth status`: concurrent checks of all seven services versus the slowest one alone.

Every fake service answers after an injected 250 ms. Each round first checks the services one by one
(the sequential baseline, which also gives each service's time alone) and then all at once with
`check_all`. Target: the concurrent total is at most 1.25× the slowest service alone.

Run from the repository root: `.venv/bin/python -m bench.auth [--rounds N]`.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import tempfile
import time
from pathlib import Path

from cryptography.fernet import Fernet

from bench.results import median, percentile, record
from bot.db import Database
from connectors.base import ConnectorRegistry
from connectors.status import check_all, check_one
from connectors.vault import CredentialVault, parse_keys
from testing.services.wiring import SERVICES, build, close, start_moto

DELAY = 0.25
TARGET = 1.25
PERSON = "bench:person"
COMMAND = ".venv/bin/python -m bench.auth"


async def _round(registry: ConnectorRegistry, vault: CredentialVault) -> tuple[float, float, float]:
    """(concurrent total, slowest alone, sequential sum) for one round."""
    alone = []
    for connector in registry:
        started = time.perf_counter()
        status = await check_one(connector, PERSON, vault, timeout=10)
        alone.append(time.perf_counter() - started)
        assert status.ok, (status.service, status.error)
    started = time.perf_counter()
    statuses = await check_all(PERSON, registry, vault, timeout=10)
    total = time.perf_counter() - started
    assert all(s.ok for s in statuses), [(s.service, s.error) for s in statuses if not s.ok]
    return total, max(alone), sum(alone)


async def run(rounds: int) -> str:
    """Run the benchmark; the Markdown body for RESULTS.md."""
    moto, moto_url = start_moto()
    opened = [await build(name, moto_url) for name in SERVICES]
    with tempfile.TemporaryDirectory() as scratch:
        db = Database(f"sqlite+aiosqlite:///{Path(scratch) / 'bench.db'}")
        await db.upgrade()
        vault = CredentialVault(db, parse_keys(Fernet.generate_key().decode(), "bench"))
        for harness, _server in opened:
            harness.connector.timeout = 10  # type: ignore[attr-defined]
            harness.switch.delay = DELAY
            await vault.put(PERSON, harness.name, harness.credentials)
        registry = ConnectorRegistry(harness.connector for harness, _server in opened)
        await _round(registry, vault)  # warm-up: imports, model loading, connection pools
        results = [await _round(registry, vault) for _ in range(rounds)]
        await db.dispose()
    for harness, server in opened:
        await close(harness, server)
    moto.stop()
    return _report(results, rounds)


def _report(results: list[tuple[float, float, float]], rounds: int) -> str:
    totals, slowest, sums = ([r[i] for r in results] for i in range(3))
    ratios = [total / slow for total, slow, _sum in results]
    ratio = median(ratios)
    verdict = "meets" if ratio <= TARGET else "misses"
    return f"""
Seven fake services (AWS via moto, Docker Hub, GitHub, Google, Jira, Miro, Toggl), each answering after an
injected {DELAY * 1000:.0f} ms; one person signed in to all seven; {rounds} rounds after one warm-up round.

| measure | median | p90 |
| --- | --- | --- |
| `check_all`, concurrent (total) | {_ms(totals)} |
| slowest service alone | {_ms(slowest)} |
| baseline: the same checks one after another (sum) | {_ms(sums)} |
| ratio total / slowest (target ≤ {TARGET}) | {ratio:.2f} | {percentile(ratios, 90):.2f} |

Result: the concurrent total is {ratio:.2f}× the slowest service, which {verdict} the {TARGET}× target,
and {median(sums) / median(totals):.1f}× faster than checking the services one after another.
"""


def _ms(values: list[float]) -> str:
    return f"{median(values) * 1000:.0f} ms | {percentile(values, 90) * 1000:.0f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--no-record", action="store_true", help="print only; leave bench/RESULTS.md alone")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto logs every request at INFO
    body = asyncio.run(run(args.rounds))
    print(body)
    if not args.no_record:
        record("auth", body, COMMAND)


if __name__ == "__main__":
    main()
