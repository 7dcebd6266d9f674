"""Targets: kubeconfig contexts, EKS through moto (DescribeCluster, the STS token), impersonation."""

from __future__ import annotations

import base64
import os
import urllib.parse
import urllib.request
import uuid

import boto3
import pytest
from moto.server import ThreadedMotoServer

from cluster.preflight import preflight
from cluster.status import namespace_status
from cluster.target import Impersonation, eks_token, from_eks, from_kubeconfig, list_contexts

REGION = "eu-west-1"


def unique(prefix: str) -> str:
    """moto's server keeps its state in this process: names must not collide between tests."""
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def moto_url(monkeypatch):
    for key in list(os.environ):
        if key.startswith("AWS_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test-secret")
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def session():
    return boto3.Session(region_name=REGION)


def make_cluster(session, url, name):
    eks = session.client("eks", endpoint_url=url)
    eks.create_cluster(
        name=name,
        roleArn="arn:aws:iam::123456789012:role/eks",
        resourcesVpcConfig={"subnetIds": ["subnet-1"]},
    )
    eks.create_nodegroup(
        clusterName=name,
        nodegroupName="ng-a",
        nodeRole="arn:aws:iam::123456789012:role/n",
        subnets=["subnet-1"],
    )
    return eks.describe_cluster(name=name)["cluster"]


def decode(token: str) -> str:
    body = token.removeprefix("k8s-aws-v1.")
    return base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)).decode()


def test_eks_token_is_a_presigned_get_caller_identity_url(moto_url, session):
    token = eks_token(session, "prod", REGION, sts_endpoint_url=moto_url)
    assert token.startswith("k8s-aws-v1.") and "=" not in token
    url = decode(token)
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
    assert query["Action"] == ["GetCallerIdentity"] and query["X-Amz-Expires"] == ["60"]
    assert "x-k8s-aws-id" in query["X-Amz-SignedHeaders"][0].split(";")
    assert query["X-Amz-Credential"][0].startswith("AKIAIOSFODNN7EXAMPLE/")
    # What EKS does with the token: GET the URL with the cluster header and read the identity back.
    # moto's server routes a request by the credential scope of its Authorization header; a presigned
    # URL carries that scope in X-Amz-Credential, so hand the same scope over the way moto reads it.
    scope = query["X-Amz-Credential"][0]
    assert scope.split("/")[2:] == [REGION, "sts", "aws4_request"]
    request = urllib.request.Request(
        url, headers={"x-k8s-aws-id": "prod", "Authorization": f"AWS4-HMAC-SHA256 Credential={scope}, x"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200 and b"GetCallerIdentityResponse" in response.read()


def test_eks_target_from_describe_cluster(moto_url, session):
    name = unique("prod")
    info = make_cluster(session, moto_url, name)
    target = from_eks(session, name, REGION, "apps", eks_endpoint_url=moto_url, sts_endpoint_url=moto_url)
    assert target.name == f"eks:{name}" and target.namespace == "apps"
    assert target.configuration.host == info["endpoint"]
    with open(target.configuration.ssl_ca_cert, "rb") as ca:
        assert ca.read() == base64.b64decode(info["certificateAuthority"]["data"])
    assert target.configuration.api_key["authorization"].startswith("k8s-aws-v1.")
    assert target.configuration.api_key_prefix["authorization"] == "Bearer"


def test_eks_preflight_checks_identity_and_node_groups(moto_url, session, fake_kube, kubeconfig):
    name = unique("prod")
    make_cluster(session, moto_url, name)
    eks_target = from_eks(session, name, REGION, eks_endpoint_url=moto_url, sts_endpoint_url=moto_url)
    # Reach the fake instead of moto's made-up endpoint; everything else stays EKS.
    local = from_kubeconfig(str(kubeconfig), "fake")
    import dataclasses

    target = dataclasses.replace(eks_target, configuration=local.configuration)
    lines = [c.line for c in preflight(target, sts_endpoint_url=moto_url)]
    assert lines[0].startswith("✓ AWS identity: arn:aws:") and "123456789012" in lines[0]
    assert lines[1].startswith(f"✓ Cluster reachable: eks:{name} answers, Kubernetes v1.35.0")
    assert "✓ Node groups ACTIVE: 1/1 ACTIVE" in lines and "✓ Nodes Ready: 1/1 Ready" in lines


def test_contexts_and_namespaces_from_kubeconfig(kubeconfig):
    assert list_contexts(str(kubeconfig)) == ["fake", "fake-apps", "down"]
    assert from_kubeconfig(str(kubeconfig), "fake-apps").namespace == "apps"
    assert from_kubeconfig(str(kubeconfig)).name == "fake"
    assert from_kubeconfig(str(kubeconfig), "fake", "prod").namespace == "prod"


def test_impersonation_headers_reach_the_cluster(fake_kube, target):
    acting = target.impersonating(Impersonation("alice@example.com", ("oncall", "aad:1234")))
    namespace_status(acting)
    seen = fake_kube.api_requests()
    assert seen and all(r.impersonate_user == "alice@example.com" for r in seen)
    assert all(r.impersonate_groups == ["oncall", "aad:1234"] for r in seen)


def test_cluster_rbac_applies_to_the_impersonated_person(fake_kube, target):
    fake_kube.rbac = {"alice": {("list", "deployments"), ("list", "pods"), ("list", "events")}}
    assert namespace_status(target.impersonating(Impersonation("alice"))).apps == ()
    from cluster.errors import Forbidden

    with pytest.raises(Forbidden, match='User "bob" cannot list resource "deployments"'):
        namespace_status(target.impersonating(Impersonation("bob")))


def test_impersonation_needs_the_impersonate_verb_and_its_refusal_is_one_clear_line(fake_kube, target):
    """The API server checks that k8or's own account may impersonate the person, and each group,
    before anything else (apiserver endpoints/filters/impersonation.go)."""
    from cluster.errors import Forbidden

    reads = {("list", "deployments"), ("list", "pods"), ("list", "events")}
    fake_kube.rbac = {"k8or-test": set(), "alice": reads}
    with pytest.raises(Forbidden) as err:
        namespace_status(target.impersonating(Impersonation("alice")))
    assert str(err.value) == (
        'status of namespace default: the cluster does not let k8or act as user "alice": its account '
        "(k8or-test) may not impersonate users (403). An administrator grants that with the ClusterRole "
        "k8or-impersonate (the impersonate overlay)."
    )
    fake_kube.rbac["k8or-test"] = {("impersonate", "users")}
    assert namespace_status(target.impersonating(Impersonation("alice"))).apps == ()
    with pytest.raises(Forbidden, match='act as group "oncall".* may not impersonate groups'):
        namespace_status(target.impersonating(Impersonation("alice", ("oncall",))))


def test_the_toy_rbac_grants_to_groups_too(fake_kube, target):
    fake_kube.rbac = {}  # k8or-test, not named, stays cluster-admin and may impersonate anyone
    fake_kube.group_rbac = {"oncall": {("list", "deployments"), ("list", "pods"), ("list", "events")}}
    from cluster.errors import Forbidden

    assert namespace_status(target.impersonating(Impersonation("bob", ("oncall",)))).apps == ()
    with pytest.raises(Forbidden, match='User "bob" cannot list resource "deployments"'):
        namespace_status(target.impersonating(Impersonation("bob")))


def test_preflight_says_what_the_person_may_do(fake_kube, target):
    """Answered by SelfSubjectAccessReviews, so with impersonation it is the person's own RBAC."""
    reads = {("list", "deployments"), ("list", "pods"), ("list", "events"), ("get", "namespaces")}
    fake_kube.rbac = {"vic": reads | {("list", "nodes"), ("list", "storageclasses")}}
    lines = [c.line for c in preflight(target.impersonating(Impersonation("vic")))]
    assert lines[-1] == (
        "✗ Permissions: may status; may not deploy, rollback, delete, volume create, migrate, storage create"
    )
    assert [c.line for c in preflight(target)][-1].startswith("✓ Permissions: may status, deploy, rollback")
