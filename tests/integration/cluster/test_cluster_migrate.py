"""Migrate reports a Job that never ran or ran out of time, with the reason the cluster gives
(the Job's DeadlineExceeded condition, admission's refusal, the kubelet's waiting reason)."""

from __future__ import annotations

import pytest

from cluster.deploy import deploy
from cluster.migrate import migrate
from cluster.rollout import COMPLETE, RolloutWatcher
from cluster.volumes import StorageClassSpec, create_claim, create_storage_class

DEADLINE = "DeadlineExceeded: Job was active longer than specified deadline"


def follow(target, app):
    return list(RolloutWatcher(target, app, timeout=20))


@pytest.fixture
def claim(target):
    create_storage_class(target, StorageClassSpec("gp3"))
    assert create_claim(target, "data", "1Gi", "gp3", timeout=10).bound
    return "data"


def test_a_job_admission_refuses_never_starts_and_says_why(fake_kube, target, claim):
    deploy(target, "web", "nginx:1.27")
    assert follow(target, "web")[-1].state == COMPLETE
    quota = {
        "apiVersion": "v1",
        "kind": "ResourceQuota",
        "metadata": {"name": "compute", "namespace": "default"},
    }
    fake_kube.add({**quota, "spec": {"hard": {"limits.cpu": "2"}}})
    result = migrate(target, "web", claim=claim)
    assert not result.succeeded and not result.match and result.failure == DEADLINE
    assert result.not_started.startswith(f'pods "{result.job}-') and result.not_started.endswith(
        " is forbidden: failed quota: compute: must specify limits.cpu for: web"
    )
    assert (
        result.line
        == f"migration job {result.job} failed: {DEADLINE}; it never started: {result.not_started}"
    )


def test_a_job_whose_image_cannot_be_pulled_says_so(target, claim):
    deploy(target, "web", "registry.example.com/doesnotexist:1")
    result = migrate(target, "web", claim=claim)
    assert not result.succeeded and result.failure == DEADLINE
    assert "pull" in result.not_started, result.not_started  # the kubelet's words, or its pod's events'


def test_a_job_that_cannot_be_scheduled_says_why(target):
    deploy(target, "web", "nginx:1.27")
    result = migrate(target, "web", claim="missing")
    assert not result.succeeded and result.failure == DEADLINE
    assert result.not_started == '0/1 nodes are available: persistentvolumeclaim "missing" not found.'
