"""On-call alert settings (K8OR_NOTIFY_*): read from flat variables, each bad value named with its fix."""

from __future__ import annotations

import pytest

from bot.settings import SettingsError, load_settings


def test_alert_and_election_settings_are_read(monkeypatch):
    monkeypatch.setenv("K8OR_NOTIFY_COOLDOWN", "600")
    monkeypatch.setenv("K8OR_NOTIFY_BURST", "10")
    monkeypatch.setenv("K8OR_NOTIFY_LEASE_DURATION", "30")
    monkeypatch.setenv("K8OR_NOTIFY_LEASE_NAMESPACE", "ops")
    notify = load_settings(env_file=None).notify
    assert (notify.cooldown, notify.burst, notify.refill, notify.drop_after) == (600.0, 10, 0.5, 5)
    assert (notify.lease_duration, notify.renew_deadline, notify.retry_period) == (30, 10.0, 2.0)
    assert (notify.lease_namespace, notify.lease_name) == ("ops", "k8or-notify")


@pytest.mark.parametrize(
    ("env", "says"),
    [
        ({"K8OR_NOTIFY_COOLDOWN": "0"}, "K8OR_NOTIFY_COOLDOWN: use a number more than 0"),
        ({"K8OR_NOTIFY_EDIT_INTERVAL": "-2"}, "K8OR_NOTIFY_EDIT_INTERVAL: use a number more than 0"),
        ({"K8OR_NOTIFY_BURST": "0"}, "K8OR_NOTIFY_BURST: use a whole number of 1 or more"),
        ({"K8OR_NOTIFY_REFILL": "0"}, "K8OR_NOTIFY_REFILL: use a number more than 0"),
        ({"K8OR_NOTIFY_DROP_AFTER": "none"}, "K8OR_NOTIFY_DROP_AFTER: use a whole number"),
        ({"K8OR_NOTIFY_CLAIM_STALE": "0"}, "K8OR_NOTIFY_CLAIM_STALE: use a number more than 0"),
        ({"K8OR_NOTIFY_RETRY_PERIOD": "0.5"}, "K8OR_NOTIFY_RETRY_PERIOD: use a number of 1 or more"),
        ({"K8OR_NOTIFY_LEASE_NAME": "Alerts_Lease"}, "K8OR_NOTIFY_LEASE_NAME: use lowercase letters"),
        (
            {"K8OR_NOTIFY_LEASE_DURATION": "10"},
            "K8OR_NOTIFY_LEASE_DURATION must be more than K8OR_NOTIFY_RENEW_DEADLINE",
        ),
        (
            {"K8OR_NOTIFY_RETRY_PERIOD": "9"},
            "K8OR_NOTIFY_RENEW_DEADLINE must be more than 1.2 × K8OR_NOTIFY_RETRY_PERIOD",
        ),
    ],
)
def test_a_bad_alert_setting_names_itself_and_the_fix(monkeypatch, env, says):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as raised:
        load_settings(env_file=None)
    assert says in str(raised.value)
