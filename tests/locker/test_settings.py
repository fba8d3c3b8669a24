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
        ("LOCKER_WEBAUTHN_ORIGIN", "coffre.example.org"),
        ("LOCKER_WEBAUTHN_ORIGIN", "https://coffre.example.org/login"),
        ("LOCKER_WEBAUTHN_ORIGIN", "ftp://coffre.example.org"),
        ("LOCKER_WEBAUTHN_RP_ID", "example org"),
        ("LOCKER_WEBAUTHN_RP_ID", "exämple.org"),
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


def test_the_passkeys_site_and_origin(tmp_path: Path) -> None:
    env = {"LOCKER_DATA_DIR": str(tmp_path)}
    default = load_settings(env, create=True)
    # Unset: each request's own origin and host decide (web/accounts/passkeys.py).
    assert (default.webauthn_rp_id, default.webauthn_origin) == ("", "")
    origin = {**env, "LOCKER_WEBAUTHN_ORIGIN": "https://coffre.example.org/"}
    made = load_settings(origin)
    assert (made.webauthn_rp_id, made.webauthn_origin) == (
        "coffre.example.org",
        "https://coffre.example.org",
    )
    parent = load_settings({**origin, "LOCKER_WEBAUTHN_RP_ID": "Example.org"})
    assert parent.webauthn_rp_id == "example.org"
    # A site the origin's host is not part of: the browser would refuse every passkey.
    with pytest.raises(ConfigurationError, match="LOCKER_WEBAUTHN_RP_ID"):
        load_settings({**origin, "LOCKER_WEBAUTHN_RP_ID": "ample.org"})
