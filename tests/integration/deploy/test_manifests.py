"""What each build of manifests/ gives the person who applies it (kubectl kustomize, real output)."""

from __future__ import annotations

from urllib.parse import urlsplit

from tests.support.manifests import built, container, env, granted_rules, one, pod_spec

DATA_DIR = "/var/lib/k8or"


def _mounts(documents):
    return {m["name"]: m["mountPath"] for m in container(documents)["volumeMounts"]}


def _volumes(documents):
    return {v["name"]: v for v in pod_spec(documents)["volumes"]}


def test_base_is_one_replica_with_sqlite_on_a_claim_and_the_vault_key_from_a_secret():
    documents = built("base")
    deployment = one(documents, "Deployment")
    assert deployment["spec"]["replicas"] == 1
    assert deployment["spec"]["strategy"] == {"type": "Recreate"}
    claim = one(documents, "PersistentVolumeClaim", "k8or-data")
    assert claim["spec"]["accessModes"] == ["ReadWriteOnce"]
    assert env(documents)["K8OR_DATA_DIR"] == DATA_DIR == _mounts(documents)["data"]
    assert _volumes(documents)["data"] == {
        "name": "data",
        "persistentVolumeClaim": {"claimName": "k8or-data"},
    }
    key_file = env(documents)["K8OR_VAULT_KEY_FILE"]
    vault = _volumes(documents)["vault-key"]["secret"]
    assert vault["secretName"] == "k8or-vault" and vault.get("optional") is not True
    assert key_file == f"{_mounts(documents)['vault-key']}/{vault['items'][0]['path']}"
    assert "K8OR_DATABASE_URL" not in env(documents)
    assert "emptyDir" not in str(_volumes(documents)["data"])


def test_no_build_commits_a_secret():
    for variant in ("base", "ha", "ingress", "servicemonitor", "in-cluster", "impersonate"):
        assert not [d for d in built(variant) if d["kind"] == "Secret"], variant


def test_base_mounts_no_token_and_grants_nothing():
    documents = built("base")
    assert pod_spec(documents)["automountServiceAccountToken"] is False
    assert one(documents, "ServiceAccount")["automountServiceAccountToken"] is False
    assert not {d["kind"] for d in documents} & {"Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding"}
    assert "PodDisruptionBudget" not in {d["kind"] for d in documents}  # one replica: it would block drains


def test_ha_runs_several_replicas_on_postgresql_spread_and_protected():
    documents = built("ha")
    deployment = one(documents, "Deployment")
    assert deployment["spec"]["replicas"] >= 2
    assert deployment["spec"]["strategy"]["type"] == "RollingUpdate"
    assert env(documents)["K8OR_DATABASE_URL"] == {
        "secretKeyRef": {"name": "k8or-database", "key": "url", "optional": False}
    }
    assert "PersistentVolumeClaim" not in {d["kind"] for d in documents}
    assert _volumes(documents)["data"] == {"name": "data", "emptyDir": {}}
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    pdb = one(documents, "PodDisruptionBudget")
    assert pdb["spec"]["minAvailable"] == 1
    assert pdb["spec"]["selector"]["matchLabels"].items() <= labels.items()
    spread = {c["topologyKey"]: c for c in pod_spec(documents)["topologySpreadConstraints"]}
    assert spread["kubernetes.io/hostname"]["whenUnsatisfiable"] == "DoNotSchedule"
    assert spread["kubernetes.io/hostname"]["labelSelector"]["matchLabels"].items() <= labels.items()
    assert "topology.kubernetes.io/zone" in spread


def test_ingress_publishes_the_sign_in_pages_on_the_public_url_over_tls():
    documents = built("ingress")
    ingress = one(documents, "Ingress")
    public = urlsplit(env(documents)["K8OR_PUBLIC_URL"])
    (rule,) = ingress["spec"]["rules"]
    assert public.scheme == "https" and public.hostname == rule["host"]
    assert rule["host"] in ingress["spec"]["tls"][0]["hosts"]
    paths = {p["path"]: p["backend"]["service"] for p in rule["http"]["paths"]}
    assert {"/api/messages", "/slack", "/signin"} == set(paths)  # not /metrics, /healthz, /readyz
    service = one(documents, "Service")
    ports = {p["name"] for p in service["spec"]["ports"]}
    assert all(s["name"] == "k8or" and s["port"]["name"] in ports for s in paths.values())


def test_servicemonitor_scrapes_metrics_through_the_service():
    documents = built("servicemonitor")
    monitor = one(documents, "ServiceMonitor")
    service = one(documents, "Service")
    assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
    assert monitor["spec"]["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    assert monitor["spec"]["namespaceSelector"]["matchNames"] == [service["metadata"]["namespace"]]
    (endpoint,) = monitor["spec"]["endpoints"]
    assert endpoint["path"] == "/metrics"
    assert endpoint["port"] in {p["name"] for p in service["spec"]["ports"]}


def test_in_cluster_mounts_the_token_and_grants_no_secrets_no_wildcards_no_impersonation():
    documents = built("in-cluster")
    assert pod_spec(documents)["automountServiceAccountToken"] is True
    assert one(documents, "ServiceAccount")["automountServiceAccountToken"] is False  # this pod only
    granted = granted_rules(documents)
    assert granted
    assert not {r for v, r in granted if "*" in (v, r) or r in {"secrets", "users", "groups"}}
    assert not {v for v, r in granted if v in {"impersonate", "escalate", "bind"}}


def test_impersonate_grants_only_impersonating_people():
    documents = built("impersonate")
    assert pod_spec(documents)["automountServiceAccountToken"] is True
    assert granted_rules(documents) == {("impersonate", "users"), ("impersonate", "groups")}
