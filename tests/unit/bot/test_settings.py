"""One typed settings object: Bot Framework names, K8OR_ prefix, .env, errors naming the setting."""

from __future__ import annotations

import pytest

from bot.settings import Settings, SettingsError, load_settings


def test_bot_framework_settings_use_their_standard_names(monkeypatch):
    monkeypatch.setenv("MicrosoftAppId", "app-id")
    monkeypatch.setenv("MicrosoftAppPassword", "pw-123456")
    monkeypatch.setenv("MicrosoftAppType", "SingleTenant")
    monkeypatch.setenv("MicrosoftAppTenantId", "tenant-1")
    settings = load_settings(env_file=None)
    assert (settings.microsoft_app_id, settings.microsoft_app_tenant_id) == ("app-id", "tenant-1")
    assert not settings.emulator_mode


def test_connector_sections_read_flat_variables(monkeypatch):
    monkeypatch.setenv("K8OR_GITHUB_API_URL", "https://ghe.example/api/v3")
    monkeypatch.setenv("K8OR_TOGGL_API_URL", "http://127.0.0.1:9/")
    monkeypatch.setenv("K8OR_DOCKER_REGISTRY_URL", "https://registry.example")
    settings = load_settings(env_file=None)
    assert settings.github.api_url == "https://ghe.example/api/v3"
    assert settings.toggl.api_url == "http://127.0.0.1:9/"
    assert settings.dockerhub.registry_url == "https://registry.example"


def test_dot_env_file_is_read(tmp_path):
    env = tmp_path / ".env"
    env.write_text("K8OR_PORT=4000\nK8OR_LOG_FORMAT=text\n")
    settings = load_settings(env_file=env)
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
        load_settings(env_file=None)
    assert named in str(error.value)


def test_emulator_mode_binds_only_to_loopback():
    assert Settings(host="127.0.0.1").bind_is_safe()
    assert not Settings(host="0.0.0.0").bind_is_safe()
    assert Settings(host="0.0.0.0", insecure=True).bind_is_safe()
    secured = Settings(host="0.0.0.0", microsoft_app_id="a", microsoft_app_password="p")
    assert secured.bind_is_safe()


def test_a_bad_keyword_value_names_the_variable_and_the_fix():
    with pytest.raises(SettingsError) as error:
        Settings(port=0)
    assert str(error.value) == "invalid setting K8OR_PORT: use a whole number from 1 to 65535"


def test_every_bad_setting_is_named_at_once(monkeypatch):
    monkeypatch.setenv("K8OR_TURN_TIMEOUT", "soon")
    monkeypatch.setenv("K8OR_INSECURE", "maybe")
    monkeypatch.setenv("K8OR_LOG_FORMAT", "xml")
    with pytest.raises(SettingsError) as error:
        load_settings(env_file=None)
    assert str(error.value).splitlines() == [
        "invalid settings:",
        "  K8OR_INSECURE: use true or false",
        "  K8OR_LOG_FORMAT: use json or text",
        "  K8OR_TURN_TIMEOUT: use a number more than 0",
    ]


def test_names_are_read_in_any_case(monkeypatch):
    monkeypatch.setenv("k8or_port", "4001")
    monkeypatch.setenv("microsoftappid", "app-id")
    monkeypatch.setenv("MICROSOFTAPPPASSWORD", "pw-123456")
    settings = load_settings(env_file=None)
    assert (settings.port, settings.microsoft_app_id) == (4001, "app-id")


def test_a_section_may_be_one_json_variable_its_flat_variables_override(monkeypatch):
    monkeypatch.setenv("K8OR_GRAPH", '{"tenant_id": "t-json", "client_id": "c-json"}')
    monkeypatch.setenv("K8OR_GRAPH_TENANT_ID", "t-flat")
    graph = load_settings(env_file=None).graph
    assert (graph.tenant_id, graph.client_id) == ("t-flat", "c-json")
    monkeypatch.setenv("K8OR_GRAPH", "tenant=t")
    with pytest.raises(SettingsError, match="K8OR_GRAPH: use a JSON object, .*K8OR_GRAPH_<FIELD>"):
        load_settings(env_file=None)


def test_the_environment_overrides_the_dot_env_file_which_may_quote_and_comment(monkeypatch, tmp_path):
    env = tmp_path / ".env"
    env.write_text(
        "# local overrides\nexport K8OR_PORT=4000\nK8OR_HOST='0.0.0.0'\n"
        'K8OR_PUBLIC_URL="https://k8or.example/"  # behind the proxy\nK8OR_KUBECONFIG=a#b\n'
    )
    monkeypatch.setenv("K8OR_PORT", "4002")
    settings = load_settings(env_file=env)
    assert (settings.port, settings.host) == (4002, "0.0.0.0")
    assert (settings.public_url, settings.kubeconfig) == ("https://k8or.example", "a#b")


def test_an_empty_file_setting_means_none(monkeypatch):
    monkeypatch.setenv("K8OR_RBAC_FILE", "")
    monkeypatch.setenv("K8OR_VAULT_KEY_FILE", " ")
    settings = load_settings(env_file=None)
    assert (settings.rbac_file, settings.vault_key_file) == (None, None)


def test_secrets_never_show_in_a_repr(monkeypatch):
    monkeypatch.setenv("MicrosoftAppId", "app-id")
    monkeypatch.setenv("MicrosoftAppPassword", "pw-123456")
    monkeypatch.setenv("K8OR_GRAPH_CLIENT_SECRET", "graph-secret")
    settings = load_settings(env_file=None)
    shown = repr(settings) + str(settings)
    assert "pw-123456" not in shown and "graph-secret" not in shown and "**********" in shown
    assert settings.microsoft_app_password.get_secret_value() == "pw-123456"
