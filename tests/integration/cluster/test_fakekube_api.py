"""The fake API server answers like the real one: Status errors, validation, concurrency, watch, apply."""

from __future__ import annotations

import json
import threading
import time

import pytest
from kubernetes import client, watch
from kubernetes.config import new_client_from_config

from testing.kube.rawhttp import call

CM_PATH = "/api/v1/namespaces/default/configmaps"
DEPLOY_PATH = "/apis/apps/v1/namespaces/default/deployments"


def deployment(name="web", image="nginx:1.27", labels=None, **spec):
    labels = labels or {"app": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": "app", "image": image}]},
            },
            **spec,
        },
    }


@pytest.fixture
def api(kubeconfig):
    return new_client_from_config(config_file=str(kubeconfig), context="fake")


def test_semantic_validation_selector_and_names(fake_kube):
    code, status = call(fake_kube, "POST", DEPLOY_PATH, deployment(labels={"app": "other"}))
    assert code == 422 and "selector" in status["message"]
    code, status = call(fake_kube, "POST", DEPLOY_PATH, deployment(name="Bad_Name"))
    assert code == 422 and status["details"]["causes"][0]["field"] == "metadata.name"


def test_patch_that_makes_an_object_invalid_is_refused(fake_kube, api):
    client.AppsV1Api(api).create_namespaced_deployment("default", deployment())
    code, status = call(
        fake_kube,
        "PATCH",
        DEPLOY_PATH + "/web",
        {"spec": {"replicas": "three"}},
        "application/merge-patch+json",
    )
    assert code == 422 and status["reason"] == "Invalid"


def test_not_found_and_already_exists_statuses(fake_kube, api):
    core = client.CoreV1Api(api)
    with pytest.raises(client.ApiException) as err:
        core.read_namespaced_config_map("nope", "default")
    assert err.value.status == 404 and json.loads(err.value.body)["message"] == 'configmaps "nope" not found'
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"a": "1"}}
    core.create_namespaced_config_map("default", cm)
    with pytest.raises(client.ApiException) as err:
        core.create_namespaced_config_map("default", cm)
    assert err.value.status == 409 and "AlreadyExists" in err.value.body
    code, status = call(fake_kube, "POST", "/api/v1/namespaces/missing/configmaps", cm)
    assert code == 404 and status["message"] == 'namespaces "missing" not found'


def test_stale_resource_version_gets_409_conflict(fake_kube, api):
    core = client.CoreV1Api(api)
    cm = core.create_namespaced_config_map(
        "default", {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"a": "1"}}
    )
    stale = cm.metadata.resource_version
    cm.data = {"a": "2"}
    fresh = core.replace_namespaced_config_map("c", "default", cm)
    assert int(fresh.metadata.resource_version) > int(stale)
    cm.data = {"a": "3"}
    cm.metadata.resource_version = stale
    with pytest.raises(client.ApiException) as err:
        core.replace_namespaced_config_map("c", "default", cm)
    assert err.value.status == 409 and json.loads(err.value.body)["reason"] == "Conflict"


def test_metadata_is_server_owned(fake_kube, api):
    dep = client.AppsV1Api(api).create_namespaced_deployment("default", deployment())
    assert dep.metadata.uid and dep.metadata.creation_timestamp and dep.metadata.generation == 1
    patched = client.AppsV1Api(api).patch_namespaced_deployment("web", "default", {"spec": {"replicas": 3}})
    assert patched.metadata.generation == 2 and patched.spec.strategy.rolling_update.max_surge == "25%"


def test_without_a_token_the_answer_is_401(fake_kube):
    code, status = call(fake_kube, "GET", CM_PATH, token="wrong")
    assert code == 401 and status["reason"] == "Unauthorized"


def test_forbid_hook_and_impersonation_headers_are_recorded(fake_kube, api):
    fake_kube.forbid(verb="delete", plural="deployments", user="mallory")
    api.set_default_header("Impersonate-User", "mallory")
    apps = client.AppsV1Api(api)
    apps.create_namespaced_deployment("default", deployment())
    with pytest.raises(client.ApiException) as err:
        apps.delete_namespaced_deployment("web", "default")
    assert err.value.status == 403 and 'User "mallory" cannot delete' in json.loads(err.value.body)["message"]
    assert {r.impersonate_user for r in fake_kube.api_requests()} == {"mallory"}


def test_toy_rbac_keyed_on_the_impersonated_user(fake_kube, api):
    fake_kube.rbac = {"viewer": {("list", "pods"), ("get", "pods")}}
    api.set_default_header("Impersonate-User", "viewer")
    core = client.CoreV1Api(api)
    assert core.list_namespaced_pod("default").items == []
    with pytest.raises(client.ApiException) as err:
        core.create_namespaced_config_map(
            "default", {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}}
        )
    assert err.value.status == 403


def test_list_with_label_and_field_selectors(fake_kube, api):
    core = client.CoreV1Api(api)
    for name, tier in (("a", "web"), ("b", "db"), ("c", "web")):
        core.create_namespaced_config_map(
            "default",
            {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "labels": {"tier": tier}}},
        )
    names = lambda items: [i.metadata.name for i in items]  # noqa: E731
    assert names(core.list_namespaced_config_map("default", label_selector="tier=web").items) == ["a", "c"]
    assert names(core.list_namespaced_config_map("default", label_selector="tier in (db),!x").items) == ["b"]
    assert names(core.list_namespaced_config_map("default", field_selector="metadata.name!=a").items) == [
        "b",
        "c",
    ]


def test_watch_streams_added_modified_deleted_and_resumes(fake_kube, api):
    core = client.CoreV1Api(api)
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "w"}, "data": {"v": "1"}}
    start_rv = core.list_namespaced_config_map("default").metadata.resource_version

    def churn():
        time.sleep(0.2)
        core.create_namespaced_config_map("default", body)
        core.patch_namespaced_config_map("w", "default", {"data": {"v": "2"}})
        core.delete_namespaced_config_map("w", "default")

    threading.Thread(target=churn).start()
    seen = []
    w = watch.Watch()
    for event in w.stream(core.list_namespaced_config_map, "default", timeout_seconds=5):
        seen.append((event["type"], event["object"].data))
        if event["type"] == "DELETED":
            w.stop()
    assert [t for t, _ in seen] == ["ADDED", "MODIFIED", "DELETED"] and seen[1][1] == {"v": "2"}
    replay = list(
        watch.Watch().stream(
            core.list_namespaced_config_map, "default", resource_version=start_rv, timeout_seconds=1
        )
    )
    assert [e["type"] for e in replay] == ["ADDED", "MODIFIED", "DELETED"]


APPLY = "application/apply-patch+yaml"


def test_server_side_apply_creates_owns_and_prunes(fake_kube, api):
    apps = client.AppsV1Api(api)
    first = deployment()
    first["metadata"]["labels"] = {"team": "a"}
    dep = apps.patch_namespaced_deployment("web", "default", first, field_manager="k8or", _content_type=APPLY)
    assert (
        dep.metadata.managed_fields[0].manager == "k8or"
        and dep.metadata.managed_fields[0].operation == "Apply"
    )
    second = deployment(image="nginx:1.28")  # the label is no longer applied: it goes away
    dep = apps.patch_namespaced_deployment(
        "web", "default", second, field_manager="k8or", _content_type=APPLY
    )
    assert dep.metadata.labels is None and dep.spec.template.spec.containers[0].image == "nginx:1.28"
    assert dep.metadata.generation == 2


def test_server_side_apply_conflicts_without_force(fake_kube, api):
    apps = client.AppsV1Api(api)
    apps.patch_namespaced_deployment(
        "web", "default", deployment(), field_manager="k8or", _content_type=APPLY
    )
    apps.patch_namespaced_deployment(
        "web",
        "default",
        {"spec": {"replicas": 5}},
        field_manager="kubectl-scale",
        _content_type="application/merge-patch+json",
    )
    with pytest.raises(client.ApiException) as err:
        apps.patch_namespaced_deployment(
            "web", "default", deployment(), field_manager="k8or", _content_type=APPLY
        )
    assert (
        err.value.status == 409 and "kubectl-scale" in err.value.body and ".spec.replicas" in err.value.body
    )
    dep = apps.patch_namespaced_deployment(
        "web", "default", deployment(), field_manager="k8or", force=True, _content_type=APPLY
    )
    assert dep.spec.replicas == 1


def test_apply_needs_a_field_manager(fake_kube):
    code, status = call(fake_kube, "PATCH", DEPLOY_PATH + "/web", deployment(), APPLY)
    assert code == 400 and "fieldManager" in status["message"]


def test_strategic_merge_patch_merges_containers_by_name(fake_kube, api):
    apps = client.AppsV1Api(api)
    dep = deployment()
    dep["spec"]["template"]["spec"]["containers"].append({"name": "sidecar", "image": "busybox:1"})
    apps.create_namespaced_deployment("default", dep)
    patch = {"spec": {"template": {"spec": {"containers": [{"name": "sidecar", "image": "busybox:2"}]}}}}
    out = apps.patch_namespaced_deployment("web", "default", patch)
    assert [(c.name, c.image) for c in out.spec.template.spec.containers] == [
        ("app", "nginx:1.27"),
        ("sidecar", "busybox:2"),
    ]
    merge = apps.patch_namespaced_deployment(
        "web", "default", patch, _content_type="application/merge-patch+json"
    )
    assert [c.name for c in merge.spec.template.spec.containers] == ["sidecar"]


def test_discovery_and_version(fake_kube, api):
    assert client.VersionApi(api).get_code().git_version.startswith("v1.")
    groups = {g.name for g in client.ApisApi(api).get_api_versions().groups}
    assert {"apps", "batch", "storage.k8s.io"} <= groups
