"""`--env` as it ships: which values are secrets (by name or by shape), and `{port}` in what ships."""

from __future__ import annotations

from pathlib import Path

import pytest

from k8orize.app_env import looks_secret, shipped_env
from k8orize.request import K8orizeRequest

RANDOM_KEY = "q7Vx2LmP9sKd4RtY8wZb3NcF6hJ1aE5u"  # what `secrets.token_urlsafe(24)` looks like


@pytest.mark.parametrize(
    "name",
    [
        "API_KEY",
        "STRIPE_SECRET_KEY",
        "GITHUB_TOKEN",
        "GITHUBTOKEN",
        "SLACK_BOT_TOKEN",
        "DB_PASSWORD",
        "DB_PASS",
        "MYSQL_PWD",
        "CLIENT_SECRET",
        "GOOGLE_APPLICATION_CREDENTIALS",
        "SENTRY_DSN",
        "PRIVATE_KEY_PEM",
        "secret_key",
    ],
)
def test_a_secret_name_makes_any_value_secret(name: str) -> None:
    assert looks_secret(name, "x")


@pytest.mark.parametrize(
    "value",
    [
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl",  # a JWT
        "AKIAIOSFODNN7EXAMPLE",  # an AWS access key id
        "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjE=\n-----END OPENSSH PRIVATE KEY-----",
        "postgresql://shop:hunter2@db.internal:5432/shop",  # DATABASE_URL with a password
        "redis://:hunter2@cache:6379/0",
        "https://x-access-token@github.com/octo/shop.git",  # userinfo without a password
        "https://api.example.com/v1/items?api_key=abc",  # a credential in the query
        "https://hooks.example.com/services/T00000000/B00000000/" + RANDOM_KEY,  # a webhook's token
        "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8",
        "xoxb-1234567890-abcdefghijkl",
        RANDOM_KEY,
        "3f9a1c7e5b2d8f4a6c0e9b1d3f5a7c9e",  # 32 hex digits
    ],
)
def test_a_secret_shape_makes_any_name_secret(value: str) -> None:
    assert looks_secret("SETTING", value)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("PORT", "8080"),
        ("LOG_LEVEL", "info"),
        ("GREETING", "hello world"),
        ("DJANGO_SETTINGS_MODULE", "mysite.settings.production"),
        ("TZ", "Europe/Amsterdam"),
        ("DATABASE_URL", "sqlite:///data/app.db"),
        ("REDIS_URL", "redis://cache:6379/0"),
        ("API_BASE_URL", "https://api.example.com/v1/items"),
        ("DATA_DIR", "/var/lib/app/uploads/2024"),
        ("FEATURE_FLAGS", "search,checkout,new-cart"),
        ("PWD", "/home/app"),
    ],
)
def test_plain_settings_stay_plain(name: str, value: str) -> None:
    assert not looks_secret(name, value)


def test_port_placeholder_is_the_container_port_and_secrets_are_set_apart() -> None:
    env = {"PORT": "{port}", "BIND": "0.0.0.0:{port}", "API_KEY": "k-{port}", "GREETING": "hi"}
    shipped = shipped_env(env, 8080)
    assert shipped.plain == {"PORT": "8080", "BIND": "0.0.0.0:8080", "GREETING": "hi"}
    assert shipped.secret == {"API_KEY": "k-8080"} and shipped.secret_names == ("API_KEY",)
    assert shipped.container_env() == {**shipped.plain, "API_KEY": "k-8080"}


def test_the_image_env_holds_only_printable_plain_values() -> None:
    shipped = shipped_env({"BANNER": "two\nlines", "MODE": "fast", "TOKEN": "t0k3n"}, 80)
    assert shipped.image_env() == {"MODE": "fast"}


def test_no_repr_shows_a_secret_value(tmp_path: Path) -> None:
    env = {"API_KEY": RANDOM_KEY, "PORT": "{port}"}
    assert RANDOM_KEY not in repr(shipped_env(env, 80))
    assert RANDOM_KEY not in repr(K8orizeRequest(app_dir=tmp_path, out=tmp_path / "out", env=env))
