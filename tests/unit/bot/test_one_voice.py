"""One voice (issue 15): sizes and durations read alike everywhere, replica counts during a surge are
explained, an unnumbered revision is said so, and the bad-link page agrees with itself."""

from __future__ import annotations

import pytest

from bot.signin import pages
from clock.units import duration, size
from cluster.rollout import RUNNING, RolloutProgress
from dialogs import cluster_render as render
from k8orize.summary import _mb


@pytest.mark.parametrize(
    ("n", "text"),
    [
        (0, "0 B"),
        (512, "512 B"),
        (37_000, "37 kB"),
        (12_345, "12.3 kB"),
        (1_234_567, "1.23 MB"),
        (456e6, "456 MB"),
    ],
)
def test_sizes_keep_three_significant_digits(n, text):
    assert size(n) == text


def test_a_small_app_layer_is_not_zero_megabytes():
    assert _mb(41_000) == "41 kB"  # was "0.0 MB"


@pytest.mark.parametrize(
    ("s", "text"), [(0.6, "0.6 s"), (0.01, "under 0.1 s"), (42.4, "42 s"), (185, "3 min 5 s")]
)
def test_durations_have_tenths_only_where_they_matter(s, text):
    assert duration(s) == text


def test_a_surge_is_explained_not_counted_past_the_total():
    snapshot = RolloutProgress("web", "2", desired=1, updated=1, ready=2, available=2, state=RUNNING)
    counts = render.progress(snapshot).splitlines()[1]
    assert "2/1" not in counts
    assert counts.endswith("2 pods for 1 wanted: a rollout is replacing them")


def test_an_unnumbered_revision_says_why():
    snapshot = RolloutProgress("web", "", desired=1, updated=0, ready=0, available=0, state=RUNNING)
    head = render.progress(snapshot).splitlines()[0]
    assert "?" not in head and "revision not numbered yet (the controller has not seen it)" in head


def test_the_bad_link_page_agrees_with_its_headline_and_shows_commands_as_commands():
    page = pages.message_page("Sign-in link expired", pages.UNKNOWN, kind="error")
    assert "has expired" in page and "not valid" not in page
    assert "`" not in page and "<kbd>login &lt;service&gt;</kbd>" in page
