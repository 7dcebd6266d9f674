"""The pruning task: rows that have served their purpose leave the database on a schedule.

What goes: delivery-ledger rows done (or claims abandoned) longer ago than the ledger's retention
(channels do not redeliver that late), sign-in links and OAuth states past their expiry, pending
sign-ins past theirs. The destructive actions waiting for confirmation live in conversation state
and expire there (`bot.confirm`).

The task is started and cancelled by the app's lifetime (`pruning_extension`). Its schedule runs on
`time.monotonic` (wall-clock jumps do not bunch or skip sweeps) and starts from the clock's reading at
start, so the first sweep runs at once even seconds after the machine booted, when the monotonic clock
is still small. Row ages are judged by wall-clock UTC, which is what the rows store.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import suppress
from dataclasses import dataclass
from functools import partial

from aiohttp import web

from bot.db import Database
from bot.dedupe import DeliveryLedger
from bot.services import Services
from bot.signin.links import SignInLinkStore
from bot.signin.pending import prune_expired

log = logging.getLogger(__name__)
PRUNE_INTERVAL = 600.0  # seconds between sweeps


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class Sweep:
    """One kind of row to prune: `prune(now)` deletes what is stale at `now` and says how many."""

    name: str
    prune: Callable[[dt.datetime], Awaitable[int]]


def sweeps_for(db: Database, ledger: DeliveryLedger) -> list[Sweep]:
    """Every sweep k8or runs: the delivery ledger, sign-in links and states, pending sign-ins."""
    return [
        Sweep("delivery ledger", ledger.forget_old),
        Sweep("sign-in links", SignInLinkStore(db).prune),
        Sweep("pending sign-ins", partial(prune_expired, db)),
    ]


class Pruner:
    """Runs the sweeps now and then every `interval` seconds until cancelled."""

    def __init__(
        self,
        sweeps: Sequence[Sweep],
        interval: float = PRUNE_INTERVAL,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        now: Callable[[], dt.datetime] = _utcnow,
    ):
        self.sweeps, self.interval = list(sweeps), interval
        self._monotonic, self._now = monotonic, now

    async def prune_once(self) -> dict[str, int]:
        """One pass over every sweep; rows removed by each. A failing sweep is logged and skipped."""
        now, removed = self._now(), {}
        for sweep in self.sweeps:
            try:
                removed[sweep.name] = await sweep.prune(now)
            except Exception:  # noqa: BLE001 - a database hiccup must not end the task
                log.warning("pruning %s failed; trying again next sweep", sweep.name, exc_info=True)
        if any(removed.values()):
            log.info("pruned stale rows", extra={"removed": removed})
        return removed

    async def run(self) -> None:
        """Sweep at once, then every `interval` seconds of the monotonic clock."""
        due = self._monotonic()
        while True:
            await asyncio.sleep(max(0.0, due - self._monotonic()))
            await self.prune_once()
            due = max(due + self.interval, self._monotonic())


async def pruning_extension(_app: web.Application, services: Services) -> AsyncIterator[None]:
    """An app extension: the pruning task lives exactly as long as the app."""
    task = asyncio.create_task(Pruner(sweeps_for(services.db, services.ledger)).run(), name="k8or-pruning")
    try:
        yield
    finally:
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task
