"""One typed settings object: Bot Framework names, K8OR_ prefix, .env, errors naming the setting."""

from __future__ import annotations

import pytest

from bot.settings import Settings, SettingsError, load_settings


def test_bot_framework_settings_use_their_standard_names(monkeypatch):
    monkeypatch.setenv("MicrosoftAppId", "app-id")
    monkeypatch.setenv("MicrosoftAppPassword", "pw-123456")
    monkeypatch.setenv("MicrosoftAppType", "SingleTenant")
    monkeypatch.setenv("MicrosoftAppTenantId", "tenant-1")
    settings = load_settings(_env_file=None)
    assert (settings.microsoft_app_id, settings.microsoft_app_tenant_id) == ("app-id", "tenant-1")
    assert not settings.emulator_mode


def test_connector_sections_read_flat_variables(monkeypatch):
    monkeypatch.setenv("K8OR_GITHUB_API_URL", "https://ghe.example/api/v3")
    monkeypatch.setenv("K8OR_TOGGL_API_URL", "http://127.0.0.1:9/")
    monkeypatch.setenv("K8OR_DOCKER_REGISTRY_URL", "https://registry.example")
    settings = load_settings(_env_file=None)
    assert settings.github.api_url == "https://ghe.example/api/v3"
    assert settings.toggl.api_url == "http://127.0.0.1:9/"
    assert settings.dockerhub.registry_url == "https://registry.example"


def test_dot_env_file_is_read(tmp_path):
    env = tmp_path / ".env"
    env.write_text("K8OR_PORT=4000\nK8OR_LOG_FORMAT=text\n")
    settings = Settings(_env_file=str(env))
    assert settings.port == 4000 and settings.log_format.value == "text"


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"K8OR_PORT": "eighty"}, "K8OR_PORT"),
        ({"K8OR_PORT": "70000"}, "K8OR_PORT"),
        ({"K8OR_LOG_LEVEL": "LOUD"}, "K8OR_LOG_LEVEL"),
        ({"K8OR_PUBLIC_URL": "k8or.example"}, "K8OR_PUBLIC_URL"),
        ({"K8OR_GITHUB_API_URL": "x", "K8OR_TURN_TIMEOUT": "-1"}, "K8OR_TURN_TIMEOUT"),
        ({"MicrosoftAppId": "id"}, "MicrosoftAppPassword"),
        ({"MicrosoftAppType": "SingleTenant"}, "MicrosoftAppTenantId"),
        ({"MicrosoftAppType": "Nonsense"}, "MicrosoftAppType"),
    ],
)
def test_a_bad_setting_names_itself(monkeypatch, env, named):
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(SettingsError) as error:
        load_settings(_env_file=None)
    assert named in str(error.value)


def test_emulator_mode_binds_only_to_loopback():
    assert Settings(_env_file=None, host="127.0.0.1").bind_is_safe()
    assert not Settings(_env_file=None, host="0.0.0.0").bind_is_safe()
    assert Settings(_env_file=None, host="0.0.0.0", insecure=True).bind_is_safe()
    secured = Settings(_env_file=None, host="0.0.0.0", microsoft_app_id="a", microsoft_app_password="p")
    assert secured.bind_is_safe()
