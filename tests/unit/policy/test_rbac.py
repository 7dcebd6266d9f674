"""Roles from the RBAC file: ordering, identities, per-command roles, two-person namespaces."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pytest

from policy.rbac import ENV_VAR, Match, RbacFileError, RbacPolicy, load_policy, policy_from_dict
from policy.roles import DEFAULT_COMMAND_ROLES, ROLES, at_least, authorize


@dataclass(frozen=True)
class Decision:
    """What `check` says; `needed` names the lowest role that would have been enough."""

    allowed: bool
    command: str
    needed: str
    held: frozenset[str]

    @property
    def line(self) -> str:
        if self.allowed:
            return f"{self.command}: allowed"
        held = ", ".join(r for r in ROLES if r in self.held) or "no role"
        return f"{self.command} needs the {self.needed} role; you have {held}."


def check(policy: RbacPolicy, who, command: str) -> Decision:  # type: ignore[no-untyped-def]
    """The one authorization path (policy.roles.authorize) with the cluster commands' default roles,
    and admin for a command nobody declared."""
    declared = at_least(DEFAULT_COMMAND_ROLES.get(command, "admin"))
    held = policy.roles_for(who)
    decision = authorize(held, command, declared, policy.commands)
    return Decision(decision.allowed, command, decision.lowest, held)


def may_approve(policy: RbacPolicy, namespace: str, requester: str, approver: str) -> bool:
    """The two-person rule: where it applies, only someone else may confirm."""
    return not policy.two_person(namespace) or requester != approver


def policy_from_env(environ: dict[str, str]) -> RbacPolicy:
    """The policy K8OR_RBAC_FILE names; without it, nobody has a role."""
    path = environ.get(ENV_VAR)
    return load_policy(path) if path else RbacPolicy()


ONCALL_AAD = "aad-group:6f1c2d3e-0000-4000-8000-000000000001"
EVERYONE = "aad-group:00000000-0000-4000-8000-0000000e0e0e"

POLICY = """
roles:
  admin:    {users: [Alice@Example.com]}
  oncall:   {groups: ["slack:T0TEAM:S0ONCALL", "aad-group:6f1c2d3e-0000-4000-8000-000000000001"]}
  deployer: {users: ["aad:8d2e", "msteams:29:bob"]}
  viewer:   {groups: ["aad-group:00000000-0000-4000-8000-0000000e0e0e"]}
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
    assert policy.roles_for(person("x", groups=[ONCALL_AAD.upper()])) == {"viewer", "deployer", "oncall"}
    assert policy.roles_for(person("x", groups=[EVERYONE])) == {"viewer"}


def test_an_unknown_person_has_no_role(policy):
    decision = check(policy, person("stranger@example.com"), "preflight")
    assert not decision.allowed and decision.held == frozenset()
    assert decision.line == "preflight needs the viewer role; you have no role."


def test_default_and_overridden_command_roles(policy):
    bob = person("msteams:29:bob")
    assert check(policy, bob, "deploy").allowed and check(policy, bob, "rollback").allowed
    assert check(policy, bob, "delete").line == "delete needs the oncall role; you have viewer, deployer."
    assert check(policy, person("x", groups=["slack:T0TEAM:S0ONCALL"]), "migrate").needed == "admin"
    assert not check(policy, bob, "status").allowed  # explicit set: oncall or admin only
    assert check(policy, person("alice@example.com"), "audit").allowed
    assert check(policy, person("alice@example.com"), "some future command").allowed
    assert not check(policy, bob, "some future command").allowed  # unknown commands need admin


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
        ("roles: {admin: {groups: [sre-admins]}}", "'sre-admins' is not a group key.*never a handle"),
        ("roles: {admin: {groups: ['slack:S0ONCALL']}}", "slack:<team id>:<group id>"),
        ("roles: {admin: {groups: ['6f1c2d3e-0000-4000-8000-000000000001']}}", "aad-group:<object id>"),
        ("roles: {admin: {groups: ['slack:T1:@sre-admins']}}", "is not a group key"),
        ("roles: {admin: {users: ['aad-group:6f1c2d3e-0000-4000-8000-000000000001']}}", "not a person"),
        ("roles: {admin: {users: ['Ana Lima']}}", "'Ana Lima' is not a person"),
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


def test_group_keys_of_one_channel_never_match_another(policy):
    # The same id under another team or another channel's prefix is another group.
    assert policy.roles_for(person("x", groups=["slack:T0OTHER:S0ONCALL"])) == frozenset()
    assert policy.roles_for(person("x", groups=["aad-group:S0ONCALL", "S0ONCALL"])) == frozenset()
    assert policy.roles_for(person("x", groups=[ONCALL_AAD.removeprefix("aad-group:")])) == frozenset()


def test_matches_say_which_entry_gave_each_role(policy):
    ana = person("aad:8d2e", "alice@example.com", groups=[EVERYONE, "slack:T9:S9"])
    assert policy.matches(ana) == [
        Match("users", "aad:8d2e", "deployer"),
        Match("users", "alice@example.com", "admin"),
        Match("groups", EVERYONE, "viewer"),
    ]
    assert policy.matches(person("stranger")) == []


def test_a_bare_login_name_is_a_terminal_user():
    policy = policy_from_dict({"roles": {"deployer": {"users": ["dave"]}}})
    assert policy.roles_for(person("dave")) == {"viewer", "deployer"}
