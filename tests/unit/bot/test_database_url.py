"""Issue 10, item 4: K8OR_DATABASE_URL as people write it, and one line for what cannot work."""

from __future__ import annotations

import pytest

from bot.database_url import DatabaseUrlError, libpq_url, normalise_database_url
from bot.settings import SettingsError, load_settings


@pytest.mark.parametrize(
    ("written", "opened"),
    [
        ("postgresql://k8or:pw@db:5432/k8or", "postgresql+asyncpg://k8or:pw@db:5432/k8or"),
        ("postgres://k8or:pw@db/k8or", "postgresql+asyncpg://k8or:pw@db/k8or"),
        ("postgresql+psycopg://db/k8or", "postgresql+asyncpg://db/k8or"),
        ("postgresql+psycopg2://db/k8or", "postgresql+asyncpg://db/k8or"),
        ("postgresql+asyncpg://db/k8or", "postgresql+asyncpg://db/k8or"),
        ("POSTGRES://db/k8or", "postgresql+asyncpg://db/k8or"),
        (
            "postgresql://u:p%40ss@db/k8or?sslmode=require",
            "postgresql+asyncpg://u:p%40ss@db/k8or?ssl=require",
        ),
        (
            "postgres://db/k8or?connect_timeout=5&dbname=other",
            "postgresql+asyncpg://db/k8or?timeout=5&database=other",
        ),
        (
            "postgresql://a:5432,b:5432/k8or?target_session_attrs=read-write&application_name=k8or",
            "postgresql+asyncpg://a:5432,b:5432/k8or?target_session_attrs=read-write&application_name=k8or",
        ),
        ("sqlite:///data/k8or.db", "sqlite+pysqlite:///data/k8or.db"),
        ("sqlite:////var/lib/k8or/k8or.db", "sqlite+pysqlite:////var/lib/k8or/k8or.db"),
        ("sqlite+pysqlite:///k8or.db", "sqlite+pysqlite:///k8or.db"),
        ("sqlite+aiosqlite:///k8or.db", "sqlite+pysqlite:///k8or.db"),
    ],
)
def test_the_forms_people_write_open_the_one_engine(written, opened):
    assert normalise_database_url(written) == opened
    assert normalise_database_url(opened) == opened  # idempotent: settings and Database both apply it


@pytest.mark.parametrize(
    ("written", "said"),
    [
        ("mysql://root:hunter2@db/k8or", "mysql:// is not supported; use postgresql://"),
        ("mongodb+srv://root:hunter2@db", "mongodb+srv:// is not supported"),
        ("hunter2", "not a database URL; use postgresql://"),
        ("db.example.com:5432/k8or", "not a database URL"),
        ("postgresql://u:hunter2@db/k8or?sslmode=sometimes", "sslmode must be one of allow, disable"),
        ("postgresql://u:hunter2@db/k8or?sslrootcert=/ca.pem", "set PGSSLROOTCERT instead"),
        ("postgresql://u:hunter2@db/k8or?keepalives=1", "unknown parameter 'keepalives'"),
        (
            "postgresql://u:hunter2@db/k8or?connect_timeout=soon",
            "connect_timeout must be a number of seconds",
        ),
        ("postgresql://u:hunter2@db/k8or?ssl=require&sslmode=disable", "sslmode is given twice"),
    ],
)
def test_what_cannot_work_is_refused_without_repeating_the_url(written, said):
    with pytest.raises(DatabaseUrlError) as refused:
        normalise_database_url(written)
    assert said in str(refused.value)
    assert "hunter2" not in str(refused.value)


def test_a_bad_database_url_is_one_settings_line_naming_the_variable(monkeypatch):
    monkeypatch.setenv("K8OR_DATABASE_URL", "mysql://root:hunter2@db/k8or")
    with pytest.raises(SettingsError) as refused:
        load_settings(env_file=None)
    message = str(refused.value)
    assert message.startswith(
        "invalid setting K8OR_DATABASE_URL: mysql:// is not supported; use postgresql://"
    )
    assert "sqlite:///" in message and "\n" not in message and "hunter2" not in message


def test_settings_hold_the_url_k8or_opens(monkeypatch, tmp_path):
    monkeypatch.setenv("K8OR_DATABASE_URL", "postgres://k8or@db/k8or?sslmode=verify-full")
    assert (
        load_settings(env_file=None).effective_database_url
        == "postgresql+asyncpg://k8or@db/k8or?ssl=verify-full"
    )
    monkeypatch.delenv("K8OR_DATABASE_URL")
    default = load_settings(env_file=None, data_dir=tmp_path).effective_database_url
    assert default == f"sqlite+pysqlite:///{tmp_path.resolve() / 'k8or.db'}"


def test_libpq_clients_get_the_same_database_under_libpq_names():
    written = "postgres://k8or:p%40ss@db/k8or?sslmode=require&connect_timeout=5&command_timeout=30"
    assert libpq_url(written) == "postgresql://k8or:p%40ss@db/k8or?sslmode=require&connect_timeout=5"
    assert libpq_url(normalise_database_url(written)) == libpq_url(written)
    with pytest.raises(DatabaseUrlError):
        libpq_url("sqlite:///k8or.db")
