"""Settings: embedded defaults work, bad values stop start-up naming the variable."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from locker.errors import ConfigurationError
from locker.settings import load_settings


def test_embedded_defaults(tmp_path: Path) -> None:
    settings = load_settings({"LOCKER_DATA_DIR": str(tmp_path / "var")}, create=True)
    assert settings.embedded
    assert settings.database_url == f"sqlite:///{tmp_path / 'var' / 'locker.sqlite3'}"
    assert settings.storage_url == (tmp_path / "var" / "objects").as_uri()
    assert settings.master_key_file == tmp_path / "var" / "master.keyring.json"
    secret = tmp_path / "var" / "secret_key"
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    again = load_settings({"LOCKER_DATA_DIR": str(tmp_path / "var")})
    assert again.secret_key == settings.secret_key
    assert not settings.cookie_secure


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("LOCKER_DATABASE_URL", "mysql://x/y"),
        ("LOCKER_STORAGE_URL", "file://relative/path"),
        ("LOCKER_STORAGE_URL", "ftp://bucket"),
        ("LOCKER_STORAGE_URL", "s3://"),
        ("LOCKER_S3_ENDPOINT_URL", "localhost:7480"),
        ("LOCKER_MAX_UPLOAD_BYTES", "lots"),
        ("LOCKER_MAX_UPLOAD_BYTES", "0"),
        ("LOCKER_SESSION_HOURS", "-1"),
        ("LOCKER_COOKIE_SECURE", "maybe"),
        ("LOCKER_SECRET_KEY", "short"),
        ("LOCKER_SANDBOX_USER", "root"),
        ("LOCKER_SANDBOX_USER", "0"),
        ("LOCKER_SANDBOX_USER", "no-such-user-here"),
        ("LOCKER_SANDBOX_USER", "-5"),
        ("LOCKER_FRESH_FACTOR_MINUTES", "0"),
        ("LOCKER_FRESH_FACTOR_MINUTES", "721"),
        ("LOCKER_FRESH_FACTOR_MINUTES", "soon"),
        ("LOCKER_METRICS_TOKEN", "too-short-to-be-a-secret"),
        ("LOCKER_METRICS_TOKEN", "a token with spaces in it, long enough anyway"),
        ("LOCKER_TRUSTED_PROXIES", "10.0.0.2, nginx"),
        ("LOCKER_TRUSTED_PROXIES", "10.0.0.2"),  # without LOCKER_PROXY_HOPS
        ("LOCKER_SECRET_KEY_FILE", "/no/such/secret"),
    ],
)
def test_bad_values_name_the_variable(tmp_path: Path, name: str, value: str) -> None:
    env = {"LOCKER_DATA_DIR": str(tmp_path), name: value}
    with pytest.raises(ConfigurationError) as caught:
        load_settings(env, create=True)
    assert name in str(caught.value)


def test_secret_key_required_off_the_embedded_default(tmp_path: Path) -> None:
    env = {"LOCKER_DATA_DIR": str(tmp_path), "LOCKER_DATABASE_URL": "postgresql://h/db"}
    with pytest.raises(ConfigurationError) as caught:
        load_settings(env, create=True)
    assert "LOCKER_SECRET_KEY" in str(caught.value)
    env["LOCKER_SECRET_KEY"] = "k" * 40
    settings = load_settings(env)
    assert settings.database_url == "postgresql+psycopg://h/db"
    assert settings.cookie_secure


def test_missing_secret_without_init_says_run_init(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError) as caught:
        load_settings({"LOCKER_DATA_DIR": str(tmp_path / "new")})
    assert "locker init" in str(caught.value)


def test_sandbox_user_by_name_or_number(tmp_path: Path) -> None:
    env = {"LOCKER_DATA_DIR": str(tmp_path)}
    assert load_settings(env, create=True).sandbox_user is None
    assert load_settings({**env, "LOCKER_SANDBOX_USER": "nobody"}).sandbox_user == "nobody"
    assert load_settings({**env, "LOCKER_SANDBOX_USER": "40123"}).sandbox_user == "40123"


def _secret_file(folder: Path, name: str, text: str) -> str:
    path = folder / name
    path.write_text(text)
    path.chmod(0o600)
    return str(path)


def test_secrets_read_from_files(tmp_path: Path) -> None:
    key = "k" * 40
    token = "t" * 64
    url = "postgresql://locker:pass-from-file@db:5432/locker"
    env = {
        "LOCKER_DATA_DIR": str(tmp_path),
        # Docker secrets and `echo > file` end with a line break: it is not part of the secret.
        "LOCKER_SECRET_KEY_FILE": _secret_file(tmp_path, "secret_key", key + "\n"),
        "LOCKER_DATABASE_URL_FILE": _secret_file(tmp_path, "database_url", url + "\r\n"),
        "LOCKER_METRICS_TOKEN_FILE": _secret_file(tmp_path, "metrics", token),
        "LOCKER_THROTTLE_STORAGE_URL_FILE": _secret_file(
            tmp_path, "redis", "redis://:pw@redis:6379/0\n"
        ),
        "LOCKER_TRUSTED_PROXIES": "172.30.16.2, 10.1.0.0/16",
        "LOCKER_PROXY_HOPS": "1",
    }
    settings = load_settings(env)
    assert settings.secret_key == key
    assert settings.database_url == "postgresql+psycopg://locker:pass-from-file@db:5432/locker"
    assert settings.metrics_token == token
    assert settings.throttle_storage_url == "redis://:pw@redis:6379/0"
    assert settings.trusted_proxies == ("172.30.16.2/32", "10.1.0.0/16")


@pytest.mark.parametrize("text", ["", "\n"])
def test_an_empty_secret_file_stops_the_start(tmp_path: Path, text: str) -> None:
    env = {
        "LOCKER_DATA_DIR": str(tmp_path),
        "LOCKER_METRICS_TOKEN_FILE": _secret_file(tmp_path, "metrics", text),
    }
    with pytest.raises(ConfigurationError, match="LOCKER_METRICS_TOKEN_FILE"):
        load_settings(env, create=True)


def test_a_secret_set_twice_stops_the_start(tmp_path: Path) -> None:
    env = {
        "LOCKER_DATA_DIR": str(tmp_path),
        "LOCKER_SECRET_KEY": "k" * 40,
        "LOCKER_SECRET_KEY_FILE": _secret_file(tmp_path, "secret_key", "j" * 40),
    }
    with pytest.raises(ConfigurationError, match="not both"):
        load_settings(env, create=True)
