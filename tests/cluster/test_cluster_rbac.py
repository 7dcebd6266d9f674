"""Roles from the RBAC file: ordering, identities, per-command roles, two-person namespaces."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pytest

from cluster.rbac import ENV_VAR, RbacFileError, RbacPolicy, load_policy, may_approve, policy_from_env

POLICY = """
roles:
  admin:    {users: [Alice@Example.com]}
  oncall:   {groups: ["slack:S0ONCALL", "6f1c2d3e-aad-group"]}
  deployer: {users: ["aad:8d2e", "msteams:29:bob"]}
  viewer:   {groups: [everyone]}
commands:
  migrate: admin
  status: [oncall, admin]
namespaces:
  prod: {two_person: true}
  dev: {}
impersonate: true
"""


@dataclass(frozen=True)
class Person:
    identifiers: frozenset[str]
    groups: frozenset[str] = field(default_factory=frozenset)


def person(*ids, groups=()):
    return Person(frozenset(ids), frozenset(groups))


@pytest.fixture
def policy(tmp_path):
    path = tmp_path / "rbac.yaml"
    path.write_text(POLICY)
    return load_policy(path)


def test_roles_imply_the_roles_below(policy):
    assert policy.roles_for(person("alice@example.com")) == {"viewer", "deployer", "oncall", "admin"}
    assert policy.roles_for(person("aad:8d2e")) == {"viewer", "deployer"}
    assert policy.roles_for(person("x", groups=["6F1C2D3E-AAD-GROUP"])) == {"viewer", "deployer", "oncall"}
    assert policy.roles_for(person("x", groups=["everyone"])) == {"viewer"}


def test_an_unknown_person_has_no_role(policy):
    decision = policy.check(person("stranger@example.com"), "preflight")
    assert not decision.allowed and decision.held == frozenset()
    assert decision.line == "preflight needs the viewer role; you have no role."


def test_default_and_overridden_command_roles(policy):
    bob = person("msteams:29:bob")
    assert policy.check(bob, "deploy").allowed and policy.check(bob, "rollback").allowed
    assert policy.check(bob, "delete").line == "delete needs the oncall role; you have viewer, deployer."
    assert policy.check(person("x", groups=["slack:S0ONCALL"]), "migrate").needed == "admin"
    assert not policy.check(bob, "status").allowed  # explicit set: oncall or admin only
    assert policy.check(person("alice@example.com"), "audit").allowed
    assert policy.check(person("alice@example.com"), "some future command").allowed
    assert not policy.check(bob, "some future command").allowed  # unknown commands need admin


def test_two_person_rule_per_namespace(policy):
    assert policy.two_person("prod") and not policy.two_person("dev") and policy.impersonate
    assert not may_approve(policy, "prod", "alice", "alice")
    assert may_approve(policy, "prod", "alice", "bob") and may_approve(policy, "dev", "alice", "alice")


def test_json_files_and_the_environment(tmp_path):
    path = tmp_path / "rbac.json"
    path.write_text(json.dumps({"roles": {"viewer": {"users": ["u1"]}}}))
    assert policy_from_env({ENV_VAR: str(path)}).roles_for(person("u1")) == {"viewer"}
    assert policy_from_env({}) == RbacPolicy()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("roles: {superuser: {users: [a]}}", "'superuser' is not a role"),
        ("roles: {admin: {users: {a: 1}}}", "roles.admin.users must be a list"),
        ("commands: {deploy: root}", "commands.deploy: 'root' is not a role"),
        ("roles: [", "not valid YAML"),
        ("- just a list", "the top level must be a mapping"),
    ],
)
def test_mistakes_in_the_file_are_named(tmp_path, text, message):
    path = tmp_path / "rbac.yaml"
    path.write_text(text)
    with pytest.raises(RbacFileError, match=message):
        load_policy(path)


def test_a_missing_file_names_the_variable(tmp_path):
    with pytest.raises(RbacFileError, match=f"{ENV_VAR}=.*cannot read the file"):
        load_policy(tmp_path / "nope.yaml")
