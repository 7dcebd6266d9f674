"""Alert pacing reads the monotonic clock, which counts from boot: seconds after a node boots, the
first edit of an alert goes out at once and a conversation's burst of new alerts is full."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from actions.alert_pacing import TokenBucket
from actions.alerting import AlertDesk
from bot.settings import NotifySettings
from testing.clock import FakeClock


class _Sender:
    def __init__(self) -> None:
        self.updates: list[str] = []

    async def update(self, reference: Any, activity_id: str, activity: Any) -> None:
        self.updates.append(activity_id)


class _Store:
    async def record(self, *args: Any) -> None:
        return None


async def test_the_first_edit_goes_out_at_once_seconds_after_boot() -> None:
    clock = FakeClock(monotonic=0.5)  # booted half a second ago
    sender = _Sender()
    render = lambda view: SimpleNamespace(text="alert")  # noqa: E731 - the view's rendering is not under test
    none: Any = None
    desk = AlertDesk(_Store(), sender, none, render, NotifySettings(edit_interval=2), clock=clock)  # type: ignore[arg-type]
    sub = SimpleNamespace(id="s1", reference=None)
    await desk._edit(sub, "fake/web", "msg-1", none, "open")  # type: ignore[arg-type]
    assert sender.updates == ["msg-1"]
    await desk._edit(sub, "fake/web", "msg-1", none, "open")  # type: ignore[arg-type]
    assert sender.updates == ["msg-1"]  # the next one waits for the interval
    clock.advance(2)
    await desk._flush()
    assert sender.updates == ["msg-1", "msg-1"]


def test_a_conversation_burst_is_full_seconds_after_boot() -> None:
    bucket = TokenBucket(burst=3, refill=0.5)
    assert [bucket.take(0.2) for _ in range(4)] == [True, True, True, False]
    assert bucket.take(2.2)  # one more after 2 s at 0.5 per second
