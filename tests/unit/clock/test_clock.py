"""The clock seam: `fresh()` never counts a missing reading as recent, whatever the clock reads."""

from __future__ import annotations

import datetime as dt
import time

from clock import SYSTEM_CLOCK, expired, fresh
from testing.clock import JUST_BOOTED, FakeClock


def test_nothing_fetched_is_never_fresh_even_right_after_boot():
    clock = FakeClock()
    assert clock.monotonic() == JUST_BOOTED
    assert not fresh(clock, None, 300)
    assert not fresh(FakeClock(monotonic=0.0), None, 300)


def test_a_reading_is_fresh_for_exactly_its_ttl():
    clock = FakeClock()
    fetched = clock.monotonic()
    clock.advance(299.9)
    assert fresh(clock, fetched, 300)
    clock.advance(0.1)
    assert not fresh(clock, fetched, 300)


def test_a_deadline_expires_when_the_clock_reaches_it():
    clock = FakeClock()
    deadline = clock.monotonic() + 10
    assert not expired(clock, deadline)
    clock.advance(10)
    assert expired(clock, deadline)


def test_advance_moves_the_wall_clock_with_the_monotonic_one():
    clock = FakeClock()
    before = clock.now()
    clock.advance(90)
    assert clock.now() - before == dt.timedelta(seconds=90) and clock.now().tzinfo is dt.UTC


def test_the_system_clock_reads_the_real_clocks():
    assert abs(SYSTEM_CLOCK.monotonic() - time.monotonic()) < 1
    assert abs((SYSTEM_CLOCK.now() - dt.datetime.now(dt.UTC)).total_seconds()) < 1
