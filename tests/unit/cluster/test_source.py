"""The source annotations `deploy --commit --repo` writes, and how they are checked."""

from __future__ import annotations

import pytest

from cluster.errors import InvalidInput
from cluster.names import commit_id, repository_name
from cluster.source import SOURCE_COMMIT, SOURCE_REPO, SourceRef, source_of


def test_a_commit_is_7_to_40_hex_digits_lower_cased() -> None:
    assert commit_id("A1B2C3D") == "a1b2c3d"
    assert commit_id("f" * 40) == "f" * 40
    for bad in ("a1b2c3", "g1b2c3d", "f" * 41, "a1b2c3d;rm"):
        with pytest.raises(InvalidInput, match="is not a Git commit"):
            commit_id(bad)


def test_a_repository_is_owner_slash_name_as_github_spells_it() -> None:
    assert repository_name("acme/shop.web_2") == "acme/shop.web_2"
    for bad in ("acme", "acme/", "/shop", "-acme/shop", "acme--x/shop", "acme/..", "a/b/c", "acme/sh op"):
        with pytest.raises(InvalidInput, match="is not owner/name"):
            repository_name(bad)


def test_annotations_round_trip_and_bad_ones_read_as_unknown() -> None:
    source = SourceRef("acme/shop", "A1B2C3D")
    assert source.annotations() == {SOURCE_REPO: "acme/shop", SOURCE_COMMIT: "a1b2c3d"}
    assert source_of(source.annotations()) == SourceRef("acme/shop", "a1b2c3d")
    assert source_of({SOURCE_REPO: "acme/shop"}) is None
    assert source_of({SOURCE_REPO: "acme/shop", SOURCE_COMMIT: "not-hex"}) is None
