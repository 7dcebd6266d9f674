"""`k8or cluster …` runs the library from a terminal."""

from __future__ import annotations

import argparse
import json

from cluster import cli
from cluster.deploy import deploy
from cluster.rollout import RolloutWatcher


def run(argv, capsys):
    parser = argparse.ArgumentParser()
    cli.register(parser.add_subparsers(dest="command"))
    code = cli.run(parser.parse_args(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_preflight_status_and_revisions(fake_kube, kubeconfig, target, capsys):
    deploy(target, "web", "nginx:1.27")
    list(RolloutWatcher(target, "web", timeout=20))
    base = ["cluster", "--kubeconfig", str(kubeconfig), "--context", "fake"]
    code, out, _ = run(base + ["preflight"], capsys)
    assert code == 0 and "✓ Cluster reachable" in out
    code, out, _ = run(base + ["status"], capsys)
    assert out.startswith("web\t1/1\trev 1\tnginx:1.27")
    code, out, _ = run(base + ["revisions", "web"], capsys)
    assert out.strip().endswith("current")
    code, _, err = run(base + ["status", "ghost"], capsys)
    assert code == 1 and 'deployments.apps "ghost" not found' in err


def test_render_prints_the_hardened_deployment(capsys):
    code, out, _ = run(["cluster", "render", "web", "nginx:1.27", "--volume", "data:/mnt"], capsys)
    manifest = json.loads(out)
    container = manifest["spec"]["template"]["spec"]["containers"][0]
    assert code == 0 and container["securityContext"]["readOnlyRootFilesystem"] is True
    assert {"name": "vol-data", "mountPath": "/mnt"} in container["volumeMounts"]
