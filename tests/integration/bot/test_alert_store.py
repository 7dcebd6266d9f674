"""What on-call alerting keeps, on SQLite and PostgreSQL: subscriptions per conversation, one claim
per alert across replicas, failed deliveries counted then dropped, silences, watch cursors."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from bot.alert_store import AlertStore, Subscription
from bot.db import Database
from tests.support.databases import database, db  # noqa: F401 - fixtures

REFERENCE = {
    "channelId": "msteams",
    "conversation": {"id": "19:abc@thread.tacv2"},
    "serviceUrl": "https://smba/",
}


def subscription(namespace: str = "shop", events: frozenset[str] = frozenset({"crashloop"})) -> Subscription:
    return Subscription(
        "", "msteams|19:abc", REFERENCE, "prod", namespace, events, frozenset({"web"}), "msteams:ann"
    )


async def test_subscribing_again_replaces_what_is_watched(db: Database):  # noqa: F811
    store = AlertStore(db)
    first = await store.subscribe(subscription())
    again = await store.subscribe(subscription(events=frozenset({"crashloop", "oomkilled"})))
    await store.subscribe(subscription("api"))
    assert first.id == again.id
    (shop,) = [s for s in await store.subscriptions("msteams|19:abc") if s.namespace == "shop"]
    assert shop.events == {"crashloop", "oomkilled"} and shop.apps == {"web"} and shop.reference == REFERENCE
    assert shop.wants("oomkilled", "web") and not shop.wants("oomkilled", "api")
    assert await store.unsubscribe("msteams|19:abc", None, ["shop"]) == 1
    assert [s.namespace for s in await store.subscriptions()] == ["api"]
    assert await store.subscriptions("slack|C1") == []


async def test_an_alert_is_claimed_once_across_replicas(db: Database):  # noqa: F811
    sub = await AlertStore(db).subscribe(subscription())
    replicas = [AlertStore(db) for _ in range(4)]
    won = await asyncio.gather(*(r.claim(sub.id, "prod/shop/web/CrashLoopBackOff") for r in replicas))
    assert sorted(won) == [False, False, False, True]
    store = replicas[0]
    await store.record(sub.id, "prod/shop/web/CrashLoopBackOff", "open", "🚨 web", "activity-1")
    alert = await store.alert(sub.id, "prod/shop/web/CrashLoopBackOff")
    assert alert is not None and (alert.activity_id, alert.state, alert.text) == (
        "activity-1",
        "open",
        "🚨 web",
    )
    await store.claim(sub.id, "prod/shop/api/OOMKilled")
    await store.release(sub.id, "prod/shop/api/OOMKilled")  # its message could not be sent
    assert await store.claim(sub.id, "prod/shop/api/OOMKilled")


async def test_failed_deliveries_are_counted_then_the_subscription_is_dropped(db: Database):  # noqa: F811
    store = AlertStore(db)
    sub = await store.subscribe(subscription())
    assert await store.failed(sub.id, "ErrorResponseException: Forbidden", drop_after=3) == 1
    (listed,) = await store.subscriptions()
    assert (listed.failures, listed.last_error) == (1, "ErrorResponseException: Forbidden")
    await store.delivered(sub.id)
    assert (await store.subscriptions())[0].failures == 0
    for expected in (1, 2, 3):
        assert await store.failed(sub.id, "gone", drop_after=3) == expected
    assert await store.subscriptions() == []


async def test_silences_expire_and_cursors_resume(db: Database):  # noqa: F811
    store = AlertStore(db)
    until = datetime.now(UTC) + timedelta(hours=1)
    await store.silence("msteams|19:abc", "web", until, "msteams:ann")
    assert await store.silenced_until("msteams|19:abc", "web") == until
    assert await store.silenced_until("msteams|19:abc", "api") is None
    await store.silence("msteams|19:abc", "web", datetime.now(UTC) - timedelta(seconds=1), "msteams:ann")
    assert await store.silenced_until("msteams|19:abc", "web") is None
    await store.save_cursor("prod/shop/events", "41")
    await store.save_cursor("prod/shop/events", "57")
    await store.save_cursor("prod/shop_x/events", "3")
    assert await store.cursors("prod/shop/") == {"events": "57"}


async def test_a_new_leader_takes_over_what_its_predecessor_claimed_and_never_sent(db: Database):  # noqa: F811
    store = AlertStore(db)
    sub = await store.subscribe(subscription())
    assert await store.claim(sub.id, "prod/shop/Deployment/web/crashloop")  # claimed, then it died
    assert await store.claim(sub.id, "prod/shop/Deployment/api/crashloop")
    await store.record(sub.id, "prod/shop/Deployment/api/crashloop", "open", "🚨 api", "msg-1")  # sent
    assert await store.claim(sub.id, "prod_2/shop/Deployment/web/crashloop")  # another cluster's
    assert await store.release_claims("prod/") == 1
    assert await store.alert(sub.id, "prod/shop/Deployment/web/crashloop") is None  # the new leader sends it
    sent = await store.alert(sub.id, "prod/shop/Deployment/api/crashloop")
    assert sent is not None and sent.activity_id == "msg-1"  # what was sent stays, to be edited
    assert await store.claim(sub.id, "prod_2/shop/Deployment/web/crashloop") is False
