"""Issue 10, item 1: an EKS target made seconds after boot carries a token at once.

The refresher stored 0.0 for "never minted"; with the monotonic clock at 3.0 it judged a token
minted three seconds ago still good, and every EKS request went out unauthenticated for 14 minutes.
"""

from __future__ import annotations

from cluster.target import TOKEN_LIFETIME, from_eks
from testing.clock import FakeClock
from tests.integration.cluster.test_cluster_target import REGION, make_cluster, moto_url, session, unique

__all__ = ["moto_url", "session"]  # the fixtures, shared with the target tests


def test_an_eks_target_made_just_after_boot_is_authenticated(moto_url, session):  # type: ignore[no-untyped-def]
    name = unique("fresh")
    make_cluster(session, moto_url, name)
    clock = FakeClock()
    target = from_eks(
        session, name, REGION, eks_endpoint_url=moto_url, sts_endpoint_url=moto_url, clock=clock
    )
    configuration = target.configuration
    assert configuration.api_key["authorization"].startswith("k8s-aws-v1.")
    assert configuration.get_api_key_with_prefix("authorization").startswith("Bearer k8s-aws-v1.")

    configuration.api_key["authorization"] = "kept"
    clock.advance(TOKEN_LIFETIME - 1)
    assert configuration.get_api_key_with_prefix("authorization") == "Bearer kept"  # reused for 14 minutes
    clock.advance(1)
    assert configuration.get_api_key_with_prefix("authorization").startswith("Bearer k8s-aws-v1.")
