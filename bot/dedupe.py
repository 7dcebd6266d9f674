"""Each activity is run once, across replicas, even when the replica running it dies.

Channels retry a POST when the bot is slow to answer, with the same activity id, and a load balancer
may hand the retry to another replica. The ledger keeps one row per activity (keyed by channel,
conversation and activity id) that goes through these states:

- CLAIMED: a replica (`owner`, a random id per app start) runs the turn; its claim holds until
  `lease_until` (`K8OR_DELIVERY_LEASE`, 15 s by default) and is renewed while the turn runs.
- SENT: the turn's last reply has just left for the channel (`done_at` set, the lease still held).
  A redelivery waits while the owner lives: the channel's answer makes it DONE, a refusal CLAIMED
  again. An owner that died there had sent the reply: it counts as DONE.
- DONE: the turn completed, its replies sent (`lease_until` cleared; on SQLite, one replica, the
  owner knows it without that write). A redelivery is dropped.
- LAPSED: the owner stopped renewing (it died, or the turn failed and released the claim). The next
  delivery takes the claim over and runs the turn; the turn knows it was retaken (`Delivery.retaken`),
  so a command that already acted is not run again (`bot.pipeline`).

A redelivery that finds the activity claimed by a live owner polls with backoff for at most the
lease plus a margin, until the turn is done (dropped) or the lease lapses (taken over); an owner
still renewing after that is alive and will answer: the redelivery is dropped.

The claim is one atomic statement on both databases, `INSERT ... ON CONFLICT (key) DO UPDATE ...
WHERE the row is not done and its lease lapsed RETURNING key`: PostgreSQL's row lock on the conflict
makes exactly one of two concurrent claimers win. Claims that arrive together are written together
(one batch in flight, the next gathering meanwhile). On PostgreSQL every ledger write is one
statement committed on its own (`Database.autocommit`): a replica that stalls between two statements
holds no row lock that would stop the other replicas meanwhile.

No channel takes a reply idempotently, so a replica killed between sending a turn's reply and
recording the turn done leaves a turn that its redelivery answers again. The pipeline holds a turn's
replies until its work is done (`bot.context.HeldReplies`), and the done-mark leaves in the very
step in which the last reply's bytes are handed to the network (`Claim.written`, told by the channel
client: `bot.adapter`), before the channel can have read them, on a connection held for it
before the reply's first byte was written (`Claim.ready`, `Database.reserve_commit`): under load the
reply waits for a free ledger connection, the mark never waits behind the reply. Where the channel
client cannot tell that moment (Slack, the console), the mark is written at once when the send
returns (`Database.commit_now`).

Leases compare wall-clock UTC across replicas: keep the nodes' clocks synchronised (NTP), well within
the lease. Rows claimed before the retention window (a day), done or abandoned, are deleted by the
pruning task (`bot.pruning`)."""

from __future__ import annotations

import asyncio
import logging
import secrets
import socket
from contextvars import Token
from datetime import UTC, datetime, timedelta
from enum import Enum
from types import TracebackType
from typing import Any

from sqlalchemy import and_, bindparam, delete, or_, select, update

from bot.db import Database, Reserved
from bot.delivery import Delivery, current_delivery
from bot.schema import processed_activities as processed
from clock import SYSTEM_CLOCK, Clock

log = logging.getLogger(__name__)
RETENTION = timedelta(days=1)
LEASE = 15.0  # seconds; the app passes `K8OR_DELIVERY_LEASE`
POLL_FIRST, POLL_MOST = 0.05, 1.0  # seconds between a waiting redelivery's looks at the claim
MARGIN_MOST = 2.0  # seconds a redelivery waits beyond the lease (poll spacing, clock skew)

_KEY, _MINE = processed.c.key == bindparam("k"), processed.c.owner == bindparam("o")
_KEYS = processed.c.key.in_(bindparam("keys", expanding=True))
_FINISH = update(processed).where(_KEY).values(done_at=bindparam("done"), lease_until=None)
_SENT = update(processed).where(_KEY, _MINE).values(done_at=bindparam("done"))  # the lease still held
_UNSENT = update(processed).where(_KEY, _MINE).values(done_at=None)
_CONFIRM = update(processed).where(_KEYS, _MINE, processed.c.done_at.is_not(None)).values(lease_until=None)
_RELEASE = update(processed).where(_KEY, _MINE).values(lease_until=None, done_at=None)
_STATUS = select(processed.c.key, processed.c.done_at, processed.c.lease_until, processed.c.owner).where(
    _KEYS
)


def new_owner() -> str:
    """This process's name in the ledger: its host (the pod) and a random part, new at each start."""
    return f"{socket.gethostname()[:47]}/{secrets.token_hex(8)}"


class _Status(Enum):
    CLAIMED, RETAKEN, DONE, BUSY = "claimed", "retaken", "done", "busy"


def _claim_statement(sqlite: bool) -> Any:
    """Insert the claim, or take over a row that is not done and whose lease lapsed (or was released)."""
    # The other database's dialect is never loaded: a SQLite bot does not pay for PostgreSQL's.
    if sqlite:
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        stmt: Any = sqlite_insert(processed)
    else:
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        stmt = pg_insert(processed)
    lapsed = and_(
        processed.c.done_at.is_(None),
        or_(processed.c.lease_until.is_(None), processed.c.lease_until < stmt.excluded.seen_at),
    )
    taken = {"owner": stmt.excluded.owner, "lease_until": stmt.excluded.lease_until}
    # seen_at is kept on a take-over: a row returned with an older seen_at was retaken.
    return stmt.on_conflict_do_update(index_elements=["key"], set_=taken, where=lapsed).returning(
        processed.c.key, processed.c.seen_at
    )


def _utc(moment: datetime) -> datetime:
    """SQLite hands datetimes back naive (they are UTC), PostgreSQL aware."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


async def _landed(mark: asyncio.Future[None]) -> bool:
    try:
        await mark
    except Exception:  # noqa: BLE001 - written again, or undone, by the caller
        log.warning("could not mark an activity done as its reply left", exc_info=True)
        return False
    return True


class Claim:
    """This process's claim on one activity: `async with claim as delivery:` runs the turn.

    A clean exit marks the activity done; an exception (or cancellation) releases the claim, so a
    redelivery may run the turn again at once. `written` and `refused` are what the channel client
    says about the turn's last reply (`bot.context.ReplyWatch`)."""

    def __init__(self, ledger: DeliveryLedger, delivery: Delivery):
        self.ledger, self.delivery = ledger, delivery
        self._token: Token[Delivery | None] | None = None

    async def __aenter__(self) -> Delivery:
        self._token = current_delivery.set(self.delivery)
        return self.delivery

    async def ready(self) -> None:
        """The turn's last reply is about to be written: hold a connection for its done-mark now, so
        that the mark leaves with the reply even when every ledger connection is busy."""
        await self.ledger.reserve(self.delivery.key)

    def written(self) -> None:
        """The turn's last reply has just been handed to the network: done, until the channel refuses."""
        self.ledger.sent(self.delivery.key)

    async def refused(self) -> None:
        """The channel refused the reply, or could not be reached: not done after all."""
        await self.ledger.unsent(self.delivery.key)

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._token is not None:
            current_delivery.reset(self._token)
        if exc_type is None:
            await self.ledger.finish(self.delivery.key)
        else:
            await self.ledger.release(self.delivery.key)


class DeliveryLedger:
    """Claims activities for this process, renews the claims of running turns, marks them done."""

    def __init__(
        self,
        db: Database,
        retention: timedelta = RETENTION,
        *,
        lease: float = LEASE,
        owner: str = "",
        clock: Clock = SYSTEM_CLOCK,
    ):
        self._db, self._retention, self._clock = db, retention, clock
        self.lease, self.owner = lease, owner or new_owner()
        self._claim = _claim_statement(db.is_sqlite)
        self._pending: list[tuple[str, asyncio.Future[_Status | None]]] = []  # the next batch's claims
        self._soon = False  # a flush is scheduled for the next loop iteration
        self._flushes: set[asyncio.Task[None]] = set()  # the batch in flight (one at a time)
        self._running: set[str] = set()  # keys this process holds: renewed until done or released
        self._renewer: asyncio.Task[None] | None = None
        # Done-marks begun as replies left, until their outcome is written: a redelivery here waits.
        self._sent: dict[str, asyncio.Future[None]] = {}
        self._reserved: dict[str, Reserved] = {}  # connections held for marks about to leave
        self._confirms: set[str] = set()  # done-marks to confirm (their replies were accepted)
        self._confirming: asyncio.Task[None] | None = None
        self._opening: asyncio.Task[None] | None = None  # `_prepare`, before the first claim

    @staticmethod
    def key(channel: str, conversation: str, activity_id: str) -> str:
        """The ledger key of an activity: ids are unique within a conversation of a channel."""
        return f"{channel}|{conversation}|{activity_id}"[:512]

    async def claim(self, channel: str, conversation: str, activity_id: str) -> Claim | None:
        """A claim to run this activity's turn, or None when it is done or being run elsewhere."""
        key = self.key(channel, conversation, activity_id)
        if self._opening is None:
            self._opening = asyncio.get_running_loop().create_task(self._prepare())
        margin = min(MARGIN_MOST, self.lease)
        deadline, pause = self._clock.monotonic() + self.lease + margin, min(POLL_FIRST, self.lease / 4)
        while True:
            status = await self._submit(key)
            if status in (_Status.CLAIMED, _Status.RETAKEN):
                if not self._opening.done():  # the first turns: their marks can leave with their replies
                    await asyncio.wait([self._opening])
                return self._hold(key, retaken=status is _Status.RETAKEN)
            if status is _Status.DONE:
                return None
            left = deadline - self._clock.monotonic()
            if left <= 0:
                log.info("redelivery dropped: the activity is still claimed by a live replica")
                return None
            await asyncio.sleep(min(pause, left))
            pause = min(pause * 2, POLL_MOST, self.lease / 4)

    def _hold(self, key: str, *, retaken: bool) -> Claim:
        if retaken:
            log.warning("took over an activity whose replica stopped renewing its claim")
        self._running.add(key)
        if self._renewer is None or self._renewer.done():
            self._renewer = asyncio.get_running_loop().create_task(self._renew(), name="k8or-ledger-leases")
        return Claim(self, Delivery(key, retaken))

    async def _prepare(self) -> None:
        """Open and prepare the connections the done-marks go out on, so that none waits for that."""
        never = {"k": "", "o": "", "done": self._clock.now()}
        try:
            await self._db.open_at_once([(_SENT, never), (_FINISH, never), (_UNSENT, never)])
        except Exception:  # noqa: BLE001 - they open at first use instead
            log.warning("could not open the delivery ledger's connections", exc_info=True)

    async def reserve(self, key: str) -> None:
        """Hold a ledger connection for `key`'s done-mark (`sent`); given back if the mark never comes."""
        if key in self._running and key not in self._sent and key not in self._reserved:
            reserved = await self._db.reserve_commit()
            if reserved is not None:
                if key in self._running and key not in self._reserved:
                    self._reserved[key] = reserved
                else:  # the turn ended while waiting for a connection
                    self._db.unreserve(reserved)

    def _unreserve(self, key: str) -> None:
        reserved = self._reserved.pop(key, None)
        if reserved is not None:
            self._db.unreserve(reserved)

    def sent(self, key: str) -> None:
        """The turn's last reply has just left: mark the activity done in this very step, before the
        channel can have read the reply (`Database.start_commit`, on the connection `reserve` held),
        the claim still held."""
        reserved = self._reserved.pop(key, None)
        if key in self._running and key not in self._sent:
            mark = {"k": key, "o": self.owner, "done": self._clock.now()}
            self._sent[key] = self._db.start_commit(_SENT, mark, reserved=reserved)
        elif reserved is not None:
            self._db.unreserve(reserved)

    async def unsent(self, key: str) -> None:
        """The channel refused that reply: claimed, not done (a retry may send it again)."""
        self._unreserve(key)
        mark = self._sent.get(key)
        try:
            if mark is not None and await _landed(mark):
                await self._db.commit_now(_UNSENT, {"k": key, "o": self.owner})
        except Exception:  # noqa: BLE001 - `release` undoes it, if the turn fails
            log.warning("could not undo an activity's done-mark", exc_info=True)
        finally:
            self._sent.pop(key, None)

    async def finish(self, key: str) -> None:
        """The turn completed, its replies sent: a redelivery is dropped from now on.

        Marked as the last reply left (`sent`, then confirmed in a batch), or else now, on its own
        (`Database.commit_now`): until it is, a replica killed now leaves a claim that lapses and a
        turn that runs again on its redelivery (which finds the command's audit entry,
        `acted_before`, and does not act again)."""
        self._running.discard(key)
        self._unreserve(key)
        mark = self._sent.get(key)
        try:
            if mark is not None and await _landed(mark):
                if not self._db.is_sqlite:  # one replica there: this process knows the mark is final
                    self._confirm(key)
                return
            await self._db.commit_now(_FINISH, {"k": key, "done": self._clock.now()})
        except Exception:  # noqa: BLE001 - the turn has answered; a redelivery waits out the lease
            log.warning("could not mark an activity done", exc_info=True)
        finally:
            self._sent.pop(key, None)

    async def release(self, key: str) -> None:
        """The turn failed or was cancelled: give the claim up (undoing a done-mark its reply made),
        so a redelivery runs it at once."""
        self._running.discard(key)
        self._unreserve(key)
        mark = self._sent.get(key)
        try:
            if mark is not None:
                await _landed(mark)  # undone after it is written, not before
            async with self._db.autocommit() as conn:
                await conn.execute(_RELEASE, {"k": key, "o": self.owner})
        except Exception:  # noqa: BLE001 - the lease lapses on its own
            log.warning("could not release an activity's claim", exc_info=True)
        finally:
            self._sent.pop(key, None)

    def _confirm(self, key: str) -> None:
        self._confirms.add(key)
        if self._confirming is None:
            self._confirming = asyncio.get_running_loop().create_task(self._write_confirms())

    async def _write_confirms(self) -> None:
        """Clear the leases of the marks whose replies were accepted, a batch at a time: a redelivery
        waiting on one is dropped at once (unconfirmed, a mark counts once its lease lapses)."""
        try:
            while self._confirms:
                keys, self._confirms = sorted(self._confirms), set()
                try:
                    async with self._db.autocommit() as conn:
                        await conn.execute(_CONFIRM, {"keys": keys, "o": self.owner})
                except Exception:  # noqa: BLE001 - the leases lapse on their own
                    log.warning("could not confirm done-marks", exc_info=True)
        finally:
            self._confirming = None

    async def _renew(self) -> None:
        """Every third of the lease, extend the leases of the turns this process is running."""
        while True:
            await asyncio.sleep(self.lease / 3)
            keys = sorted(self._running)
            if not keys:
                continue
            mine = and_(processed.c.key.in_(keys), processed.c.owner == self.owner)
            until = self._clock.now() + timedelta(seconds=self.lease)
            try:
                async with self._db.autocommit() as conn:
                    result = await conn.execute(update(processed).where(mine).values(lease_until=until))
            except Exception:  # noqa: BLE001 - try again at the next renewal
                log.warning("could not renew delivery leases", exc_info=True)
                continue
            if (result.rowcount or 0) < len(self._running.intersection(keys)):  # not those done since
                log.warning("a running turn lost its claim: its lease lapsed before it was renewed")

    async def _submit(self, key: str) -> _Status | None:
        future: asyncio.Future[_Status | None] = asyncio.get_running_loop().create_future()
        self._pending.append((key, future))
        if not self._soon and not self._flushes:
            self._soon = True
            asyncio.get_running_loop().call_soon(self._flush_soon)
        return await future

    def _flush_soon(self) -> None:
        self._soon = False
        if not self._pending or self._flushes:
            return  # recorded already (close), or gathering behind the batch in flight
        batch, self._pending = self._pending, []
        # The loop keeps only a weak reference to a task: hold it until it is done.
        task = asyncio.get_running_loop().create_task(self._flush(batch))
        self._flushes.add(task)
        task.add_done_callback(self._flushed)

    def _flushed(self, task: asyncio.Task[None]) -> None:
        self._flushes.discard(task)
        if self._pending:
            self._flush_soon()  # the batch that gathered while this one was recorded

    async def _flush(self, batch: list[tuple[str, asyncio.Future[_Status | None]]]) -> None:
        """Claim the batch's activities in one statement, in key order (one lock order for all
        replicas: two replicas' batches cannot deadlock), and tell each waiter its status."""
        try:
            async with self._db.autocommit() as conn:
                statuses = await self._claim_all(conn, sorted({key for key, _ in batch}), self._clock.now())
        except Exception as exc:  # noqa: BLE001 - every waiter must hear about the failure
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        except asyncio.CancelledError:  # closed while recording: the waiters are cancelled too
            for _, future in batch:
                future.cancel()
            raise
        for key, future in batch:
            status = statuses.get(key)
            if status in (_Status.CLAIMED, _Status.RETAKEN):
                statuses[key] = _Status.BUSY  # the same id twice in one batch: only the first runs
            if not future.done():
                future.set_result(status)

    async def _claim_all(self, conn: Any, claims: list[str], now: datetime) -> dict[str, _Status]:
        statuses: dict[str, _Status] = {}
        until = now + timedelta(seconds=self.lease)
        rows = [{"key": k, "seen_at": now, "owner": self.owner, "lease_until": until} for k in claims]
        for key, seen_at in await conn.execute(self._claim, rows):
            statuses[key] = _Status.CLAIMED if _utc(seen_at) == now else _Status.RETAKEN
        others = [key for key in claims if key not in statuses]
        if others:
            for key, done_at, lease_until, owner in await conn.execute(_STATUS, {"keys": others}):
                answered = owner == self.owner and key not in self._sent  # this process knows
                awaited = lease_until is not None and _utc(lease_until) >= now and not answered
                statuses[key] = _Status.BUSY if done_at is None or awaited else _Status.DONE
        return statuses

    async def close(self, timeout: float = 5.0) -> None:
        """Stop renewing; record the claims waiting and let the batches in flight finish (cancelled
        after `timeout`)."""
        if self._opening is not None:
            await asyncio.wait([self._opening], timeout=timeout)
        for task in (self._renewer, self._opening):
            if task is not None:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        self._flush_soon()
        deadline = asyncio.get_running_loop().time() + timeout
        while self._flushes or self._confirming:  # a batch that ends starts the one gathered behind it
            left = deadline - asyncio.get_running_loop().time()
            pending = [*self._flushes, *([self._confirming] if self._confirming else [])]
            _done, late = await asyncio.wait(pending, timeout=max(left, 0))
            if late and left <= 0:
                for task in late:
                    task.cancel()
                await asyncio.gather(*late, return_exceptions=True)
                return

    async def forget_old(self, now: datetime | None = None) -> int:
        """Drop activities claimed before the retention window, unless a live claim still holds one.

        By `seen_at` (indexed): a turn is done within its timeout of being claimed, so the done rows
        among these are a day old too; no channel redelivers that late."""
        cutoff = (now or self._clock.now()) - self._retention
        settled = or_(
            processed.c.done_at.is_not(None),
            processed.c.lease_until.is_(None),
            processed.c.lease_until < cutoff,
        )
        stale = delete(processed).where(processed.c.seen_at < cutoff, settled)
        async with self._db.autocommit() as conn:
            result = await conn.execute(stale)
        return result.rowcount or 0
