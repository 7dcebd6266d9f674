"""On-call alerting: watch the namespaces conversations subscribed to, and tell them what breaks.

An `AlertDesk` runs one `cluster.watch.NamespaceWatch` per watched cluster and namespace (in worker
threads), folds what they see into an `IncidentBook` per namespace, and turns each change into
messages: one message per incident and subscription, edited in place as the incident evolves and
when it resolves. Behaviour that keeps a channel readable:

- a reopened incident within the cooldown edits its old message again instead of sending a new one;
- edits to one message are at most one per edit interval (the newest state wins; resolution at once);
- new messages per conversation are limited by a token bucket (a burst, then a refill rate);
  an incident over the limit waits for a token rather than being dropped;
- a silenced app (`notify silence`) opens no new message in that conversation;
- a conversation that cannot be reached `drop_after` times in a row loses its subscription.
The figures are settings (`bot.settings.NotifySettings`, K8OR_NOTIFY_*).

One replica watches each cluster: with `elect`, a cluster's namespaces are watched only while this
replica leads that cluster's election (cluster.leader, bot.leadership); without it (SQLite, one
process) every watched cluster is this replica's. Alert state lives in the database
(bot.alert_store), so a new leader, or a restarted replica, edits what was sent instead of sending
it again, and sends what a dead leader had claimed but not sent. Pods, Deployments and Jobs are
listed afresh when watching starts (their state is what matters); Events resume from the stored
resourceVersion, so an Event seen before a failover is not seen again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from botbuilder.schema import Activity

from actions.alert_leaders import Elect, Leaders
from actions.alert_pacing import TokenBucket
from bot.alert_store import AlertRecord, AlertStore, Subscription
from bot.proactive import ProactiveMessages, Undeliverable
from bot.services import ServiceKey
from bot.settings import NotifySettings
from clock import SYSTEM_CLOCK, Clock
from cluster.incidents import OPENED, RESOLVED, Change, Incident, IncidentBook
from cluster.target import ClusterTarget
from cluster.watch import LISTED, NamespaceWatch

log = logging.getLogger(__name__)
# An app turned healthy again: (cluster, namespace, app); e.g. the Toggl entries its rollback started stop.
Healthy = Callable[[str, str, str], Awaitable[None]]

FLUSH_EVERY = 0.25  # seconds between passes over delayed edits and held alerts
REFRESH_EVERY = 30.0  # seconds between reloads of the subscriptions (other replicas change them)

Place = tuple[str, str]  # (cluster, namespace)
TargetFor = Callable[[str, str], Awaitable[ClusterTarget]]
Batch = tuple[Place, str, str, list[dict[str, Any]]]  # (place, kind, event type or LISTED, objects)


@dataclass(frozen=True)
class AlertView:
    """What an alert message shows: the incident, where, and what to offer."""

    incident: Incident
    cluster: str
    channel: str
    rollback_to: int | None = None
    again: bool = False


Render = Callable[[AlertView], Activity]


@dataclass
class _Edit:
    sub: Subscription
    activity_id: str
    view: AlertView
    state: str
    last: float | None = None  # monotonic time of the last edit sent; None: none yet
    due: bool = False

    def may_send(self, now: float, interval: float) -> bool:
        return self.last is None or now - self.last >= interval


class AlertDesk:
    """The watches, the incident books and the alert messages of this replica."""

    def __init__(
        self,
        store: AlertStore,
        sender: ProactiveMessages,
        target_for: TargetFor,
        render: Render,
        settings: NotifySettings | None = None,
        elect: Elect | None = None,
        on_healthy: Healthy | None = None,
        clock: Clock = SYSTEM_CLOCK,
    ):
        self.store, self.sender, self.target_for, self.render = store, sender, target_for, render
        # `on_healthy` is told once per app whose incident resolved; every interval here is on
        # `clock`'s monotonic clock, which reads near 0 just after boot.
        self.on_healthy, self.clock = on_healthy, clock
        self.settings = settings or NotifySettings()
        self.leaders = Leaders(elect, self._gained, self._lost)
        self._refreshing = asyncio.Lock()
        self._subs: list[Subscription] = []
        self._watches: dict[Place, NamespaceWatch] = {}
        self._books: dict[Place, IncidentBook] = {}
        self._queue: asyncio.Queue[Batch] = asyncio.Queue()
        self._waiting: dict[Place, list[Batch]] = {}  # places whose pods are not listed yet
        self._cursors: dict[str, str] = {}
        self._edits: dict[tuple[str, str], _Edit] = {}
        self._held: dict[tuple[str, str], tuple[Subscription, Change, str]] = {}
        self._buckets: dict[str, TokenBucket] = {}
        self._rollback_to: dict[str, int | None] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self.sent = 0  # messages sent (for the bench and the metrics)

    # -- lifetime

    async def start(self) -> AlertDesk:
        self._tasks = [
            asyncio.create_task(self._consume(), name="notify:consume"),
            asyncio.create_task(self._flush_forever(), name="notify:flush"),
        ]
        await self.refresh()
        return self

    async def stop(self, wait: float = 0.0, release: bool = True) -> None:
        """Stop watching and sending; `wait` seconds for the watch threads to end (0: don't wait).
        `release` hands leadership over at once; without it, the others wait for it to lapse (as
        when a replica dies)."""
        await self.leaders.stop(release)
        watches = list(self._watches.values())
        self._watches.clear()
        for watch in watches:
            watch.stop()
        if wait:
            await asyncio.gather(*(asyncio.to_thread(w.stop, wait) for w in watches))
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._save_cursors()

    async def refresh(self) -> None:
        """Reload the subscriptions; start watches for new places of the clusters this replica
        leads, stop those nobody watches (or it no longer leads)."""
        async with self._refreshing:
            self._subs = await self.store.subscriptions()
            wanted = {(s.cluster, s.namespace) for s in self._subs}
            await self.leaders.stand({cluster for cluster, _ in wanted})
            wanted = {place for place in wanted if self.leaders.leads(place[0])}
            for place in list(self._watches):
                if place not in wanted:
                    self._unwatch(place)
            for place in wanted - set(self._watches):
                await self._watch(place)

    def _gained(self, cluster: str) -> None:
        self._tasks.append(asyncio.create_task(self._take_lead(cluster), name="notify:lead"))

    async def _take_lead(self, cluster: str) -> None:
        # The previous leader stopped (lease lapsed or session gone): what it claimed and never
        # sent is this replica's to send now, not after `claim_stale`.
        await self.store.release_claims(f"{cluster}/")
        await self.refresh()

    def _lost(self, cluster: str) -> None:
        """Stop watching and editing for `cluster`: another replica leads it now."""
        for place in [p for p in self._watches if p[0] == cluster]:
            self._unwatch(place)
        prefix = f"{cluster}/"
        for key in [k for k in self._edits if k[1].startswith(prefix)]:
            del self._edits[key]
        for key in [k for k in self._held if k[1].startswith(prefix)]:
            del self._held[key]

    def _unwatch(self, place: Place) -> None:
        self._watches.pop(place).stop()
        self._books.pop(place, None)
        self._waiting.pop(place, None)

    async def _watch(self, place: Place) -> None:
        try:
            target = await self.target_for(*place)
        except Exception:  # noqa: BLE001 - a cluster that is gone must not stop the others
            log.warning("cannot watch %s/%s", *place, exc_info=True)
            return
        loop = asyncio.get_running_loop()

        def sink(kind: str, type_: str, objs: list[dict[str, Any]]) -> None:
            loop.call_soon_threadsafe(self._queue.put_nowait, (place, kind, type_, objs))

        def cursor(kind: str, version: str) -> None:
            if kind == "events":
                self._cursors[_cursor_key(place, kind)] = version

        stored = await self.store.cursors(_cursor_key(place, ""))
        resume = {"events": stored["events"]} if "events" in stored else {}
        self._books[place] = IncidentBook()
        self._waiting[place] = []
        self._watches[place] = NamespaceWatch(target, sink, cursor, resume).start()

    # -- from objects to changes

    async def _consume(self) -> None:
        while True:
            batch = await self._queue.get()
            try:
                for place, kind, type_, objs in self._in_order(batch):
                    book = self._books.get(place)
                    for change in _changes(book, kind, type_, objs) if book else ():
                        await self._tell(place, change)
            except Exception:  # noqa: BLE001 - one bad delivery must not stop the alerts
                log.exception("alerting failed", extra={"cluster": batch[0][0], "namespace": batch[0][1]})
            finally:
                self._queue.task_done()

    def _in_order(self, batch: Batch) -> list[Batch]:
        """Pods first: until a place's pods are listed, what its other watches see waits, so a fresh
        book (at start, or a new leader's) does not take a crash-looping app's stalled rollout for
        an incident of its own and send it as a second message."""
        place, kind, type_, _ = batch
        if kind == "pods" and type_ == LISTED:
            return [batch, *self._waiting.pop(place, [])]
        if place in self._waiting:
            self._waiting[place].append(batch)
            return []
        return [batch]

    async def settled(self) -> None:
        """Return once everything the watches have handed over so far is told (tests, benches)."""
        await self._queue.join()

    def incidents(self, cluster: str, namespace: str) -> list[Incident]:
        """The incidents open in a watched namespace, as this replica sees them."""
        book = self._books.get((cluster, namespace))
        return book.incidents if book else []

    async def _tell(self, place: Place, change: Change) -> None:
        inc = change.incident
        if change.kind == RESOLVED and inc.app and self.on_healthy is not None:
            try:
                await self.on_healthy(place[0], place[1], inc.app)
            except Exception:  # noqa: BLE001 - the tools around the app never stop the alerts
                log.warning("could not tell the tools that an app is healthy again", exc_info=True)
        for sub in self._subs:
            if (sub.cluster, sub.namespace) == place and sub.wants(inc.event, inc.app):
                await self._deliver(sub, change, place[0])

    # -- from changes to messages

    async def _deliver(self, sub: Subscription, change: Change, cluster: str) -> None:
        inc = change.incident
        name = f"{cluster}/{inc.name}"
        record = await self.store.alert(sub.id, name)
        if change.kind == RESOLVED:
            self._held.pop((sub.id, name), None)
            if record is not None and record.activity_id and record.state != "resolved":
                await self._edit(
                    sub, name, record.activity_id, await self._view(sub, inc, cluster), "resolved"
                )
            return
        if (
            record is None
            and change.replaces is not None
            and await self._take_over(sub, change, cluster, name)
        ):
            return
        if record is None or _expired(record, self.settings):
            await self._open(sub, change, cluster, name, record)
        elif record.state != "claimed" and record.activity_id:
            view = await self._view(sub, inc, cluster, again=record.state == "resolved")
            await self._edit(sub, name, record.activity_id, view, "open")

    async def _open(
        self, sub: Subscription, change: Change, cluster: str, name: str, old: AlertRecord | None
    ) -> None:
        if await self.store.silenced_until(sub.conversation, change.incident.app) is not None:
            return
        bucket = TokenBucket(float(self.settings.burst), self.settings.refill)
        if not self._buckets.setdefault(sub.conversation, bucket).take(self.clock.monotonic()):
            self._held[(sub.id, name)] = (sub, change, cluster)
            return
        self._held.pop((sub.id, name), None)
        if old is None and not await self.store.claim(sub.id, name):
            return  # another replica (or an earlier run) sent it: its edits follow from the row
        view = await self._view(sub, change.incident, cluster)
        activity = self.render(view)
        try:
            activity_id = await self.sender.send(sub.reference, activity)
        except Undeliverable as exc:
            await self.store.release(sub.id, name)
            await self._failed(sub, exc)
            return
        self.sent += 1
        await self.store.record(sub.id, name, "open", activity.text or activity.summary or "", activity_id)
        self._edits.pop((sub.id, name), None)
        await self._delivered(sub)

    async def _take_over(self, sub: Subscription, change: Change, cluster: str, name: str) -> bool:
        """Edit the replaced incident's message into this one's; False when it has no message."""
        assert change.replaces is not None
        old_name = f"{cluster}/{change.replaces.name}"
        old = await self.store.alert(sub.id, old_name)
        if old is None or not old.activity_id or old.state not in ("open", "resolved"):
            return False
        self._edits.pop((sub.id, old_name), None)
        if await self.store.claim(sub.id, name):
            await self.store.record(sub.id, name, "open", old.text, old.activity_id)
            await self.store.record(sub.id, old_name, "replaced", old.text)
            await self._edit(
                sub, name, old.activity_id, await self._view(sub, change.incident, cluster), "open"
            )
        return True

    async def _edit(
        self, sub: Subscription, name: str, activity_id: str, view: AlertView, state: str
    ) -> None:
        key = (sub.id, name)
        edit = self._edits.get(key)
        if edit is None or edit.activity_id != activity_id:
            edit = self._edits[key] = _Edit(sub, activity_id, view, state)
        edit.view, edit.state, edit.due = view, state, True
        if state == "resolved" or edit.may_send(self.clock.monotonic(), self.settings.edit_interval):
            await self._send_edit(key, edit)

    async def _send_edit(self, key: tuple[str, str], edit: _Edit) -> None:
        edit.due, edit.last = False, self.clock.monotonic()
        activity = self.render(edit.view)
        try:
            await self.sender.update(edit.sub.reference, edit.activity_id, activity)
        except Undeliverable as exc:
            await self._failed(edit.sub, exc)
            return
        await self.store.record(edit.sub.id, key[1], edit.state, activity.text or activity.summary or "")
        if edit.state == "resolved":
            self._edits.pop(key, None)

    async def _flush_forever(self) -> None:
        last_refresh = self.clock.monotonic()
        while True:
            await asyncio.sleep(FLUSH_EVERY)
            try:
                await self._flush()
                if self.clock.monotonic() - last_refresh >= REFRESH_EVERY:
                    last_refresh = self.clock.monotonic()
                    await self.refresh()
            except Exception:  # noqa: BLE001 - the next pass tries again
                log.exception("alert flush failed")

    async def _flush(self) -> None:
        now = self.clock.monotonic()
        for key, edit in list(self._edits.items()):
            if edit.due and edit.may_send(now, self.settings.edit_interval):
                await self._send_edit(key, edit)
        for sub, change, cluster in list(self._held.values()):
            await self._deliver(sub, change, cluster)
        await self._save_cursors()

    async def _save_cursors(self) -> None:
        cursors, self._cursors = self._cursors, {}
        for key, version in cursors.items():
            await self.store.save_cursor(key, version)

    async def _view(self, sub: Subscription, inc: Incident, cluster: str, again: bool = False) -> AlertView:
        channel = str(sub.reference.get("channelId") or "")
        return AlertView(inc, cluster, channel, await self._previous_revision(cluster, inc), again)

    async def _previous_revision(self, cluster: str, inc: Incident) -> int | None:
        """The revision before the current one, for the Rollback action (Deployments only)."""
        if inc.owner != "Deployment" or inc.resolved:
            return self._rollback_to.get(f"{cluster}/{inc.name}")
        key = f"{cluster}/{inc.name}"
        if key not in self._rollback_to:
            from cluster.rollback import list_revisions  # loads with the first alert that offers one

            try:
                target = await self.target_for(cluster, inc.namespace)
                revisions = await asyncio.to_thread(list_revisions, target, inc.app)
            except Exception:  # noqa: BLE001 - the alert goes out without a Rollback action
                revisions = []
            current = next((r.number for r in revisions if r.current), None)
            older = [r.number for r in revisions if current is not None and r.number < current]
            self._rollback_to[key] = max(older) if older else None
        return self._rollback_to[key]

    async def _failed(self, sub: Subscription, exc: Exception) -> None:
        log.warning("alert not delivered: %s", exc, extra={"subscription": sub.id})
        drop_after = self.settings.drop_after
        count = await self.store.failed(sub.id, str(exc), drop_after)
        if count >= drop_after or count == 0:
            await self.refresh()
        else:
            self._subs = [
                Subscription(**{**s.__dict__, "failures": count, "last_error": str(exc)})
                if s.id == sub.id
                else s
                for s in self._subs
            ]

    async def _delivered(self, sub: Subscription) -> None:
        current = next((s for s in self._subs if s.id == sub.id), sub)
        if current.failures:
            await self.store.delivered(sub.id)
            self._subs = [
                Subscription(**{**s.__dict__, "failures": 0, "last_error": ""}) if s.id == sub.id else s
                for s in self._subs
            ]


def _changes(book: IncidentBook, kind: str, type_: str, objs: list[dict[str, Any]]) -> list[Change]:
    """What one batch from a watch changes in the book. Listed Events are history: skipped."""
    if kind == "pods":
        return book.pods_listed(objs) if type_ == LISTED else [c for o in objs for c in book.pod(type_, o)]
    if kind == "events":
        return [] if type_ in (LISTED, "DELETED") else [c for o in objs for c in book.event(o)]
    handle = book.deployment if kind == "deployments" else book.job
    return [c for o in objs for c in handle("ADDED" if type_ == LISTED else type_, o)]


def _expired(record: AlertRecord, settings: NotifySettings) -> bool:
    """A resolved alert older than the cooldown (a new occurrence gets a new message), a claim
    whose replica died before sending (someone must send it), or an alert another took over."""
    age = datetime.now(UTC) - record.updated_at
    stale = (record.state == "resolved" and age > timedelta(seconds=settings.cooldown)) or (
        record.state == "claimed" and age > timedelta(seconds=settings.claim_stale)
    )
    return stale or record.state == "replaced"


def _cursor_key(place: Place, kind: str) -> str:
    return f"{place[0]}/{place[1]}/{kind}"


NOTIFY: ServiceKey[AlertDesk] = ServiceKey("notify")
__all__ = ["NOTIFY", "OPENED", "AlertDesk", "AlertView", "Render"]
