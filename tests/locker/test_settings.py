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


# -- LOCKER_KEY_PROVIDER ------------------------------------------------------------------

MODULE = "/usr/lib/softhsm/libsofthsm2.so"


@pytest.fixture
def pin_file(tmp_path: Path) -> Path:
    path = tmp_path / "pin"
    path.write_text("1234\n")
    return path


@pytest.mark.parametrize("value", [None, "", "file", " file "])
def test_the_key_file_is_the_default_provider(tmp_path: Path, value: str | None) -> None:
    env = {"LOCKER_DATA_DIR": str(tmp_path)}
    if value is not None:
        env["LOCKER_KEY_PROVIDER"] = value
    assert load_settings(env, create=True).pkcs11 is None


def test_a_pkcs11_provider_names_module_token_and_pin_file(tmp_path: Path, pin_file: Path) -> None:
    env = {
        "LOCKER_DATA_DIR": str(tmp_path),
        "LOCKER_KEY_PROVIDER": f"pkcs11:{tmp_path / 'module.so'}?token=locker%20prod",
        "LOCKER_PKCS11_PIN_FILE": str(pin_file),
    }
    (tmp_path / "module.so").write_bytes(b"")
    token = load_settings(env, create=True).pkcs11
    assert token is not None
    assert (token.module, token.token_label, token.pin_file) == (
        tmp_path / "module.so",
        "locker prod",
        pin_file,
    )
    assert str(token) == f"pkcs11:{tmp_path / 'module.so'}?token=locker prod"


@pytest.mark.parametrize(
    ("value", "pin", "named"),
    [
        ("kms:arn", True, "LOCKER_KEY_PROVIDER"),
        ("pkcs11", True, "LOCKER_KEY_PROVIDER"),
        ("pkcs11:?token=x", True, "LOCKER_KEY_PROVIDER"),
        (f"pkcs11:{MODULE}", True, "LOCKER_KEY_PROVIDER"),
        (f"pkcs11:{MODULE}?token=", True, "LOCKER_KEY_PROVIDER"),
        (f"pkcs11:{MODULE}?label=x", True, "LOCKER_KEY_PROVIDER"),
        (f"pkcs11:{MODULE}?token=x&token=y", True, "LOCKER_KEY_PROVIDER"),
        (f"pkcs11:{MODULE}?token=x&pin=1234", True, "LOCKER_KEY_PROVIDER"),
        (f"pkcs11:{MODULE}?token={'x' * 33}", True, "LOCKER_KEY_PROVIDER"),
        ("pkcs11:libsofthsm2.so?token=x", True, "LOCKER_KEY_PROVIDER"),
        ("pkcs11:/no/such/module.so?token=x", True, "LOCKER_KEY_PROVIDER"),
        (f"pkcs11:{MODULE}?token=x", False, "LOCKER_PKCS11_PIN_FILE"),
    ],
)
def test_bad_key_providers_name_the_variable(
    tmp_path: Path, pin_file: Path, value: str, pin: bool, named: str
) -> None:
    env = {"LOCKER_DATA_DIR": str(tmp_path), "LOCKER_KEY_PROVIDER": value}
    if pin:
        env["LOCKER_PKCS11_PIN_FILE"] = str(pin_file)
    if "module.so" not in value and not Path(MODULE).is_file():
        env["LOCKER_KEY_PROVIDER"] = value.replace(MODULE, str(pin_file))  # any existing file
    with pytest.raises(ConfigurationError) as caught:
        load_settings(env, create=True)
    assert named in str(caught.value)


def test_a_missing_pin_file_is_named(tmp_path: Path, pin_file: Path) -> None:
    env = {
        "LOCKER_DATA_DIR": str(tmp_path),
        "LOCKER_KEY_PROVIDER": f"pkcs11:{pin_file}?token=x",
        "LOCKER_PKCS11_PIN_FILE": str(tmp_path / "nowhere"),
    }
    with pytest.raises(ConfigurationError, match=r"LOCKER_PKCS11_PIN_FILE .*nowhere"):
        load_settings(env, create=True)


def test_proconnect_is_off_unless_its_issuer_is_set(tmp_path: Path) -> None:
    base = {"LOCKER_DATA_DIR": str(tmp_path / "var")}
    assert load_settings(base, create=True).proconnect is None
    secret = tmp_path / "proconnect-secret"
    secret.write_text("from-a-file\n")
    on = load_settings(
        {
            **base,
            "LOCKER_PROCONNECT_ISSUER": "https://auth.agentconnect.gouv.fr/api/v2/",
            "LOCKER_PROCONNECT_CLIENT_ID": "locker",
            "LOCKER_PROCONNECT_CLIENT_SECRET_FILE": str(secret),
            "LOCKER_PROCONNECT_ACR": "eidas2, eidas3",
        }
    ).proconnect
    assert on is not None
    assert on.issuer == "https://auth.agentconnect.gouv.fr/api/v2"
    assert on.client_secret == "from-a-file"
    assert on.acr_values == ("eidas2", "eidas3")
    assert on.redirect_uri == ""  # derived from each request


@pytest.mark.parametrize(
    ("extra", "named"),
    [
        ({"LOCKER_PROCONNECT_CLIENT_SECRET": "s"}, "LOCKER_PROCONNECT_CLIENT_ID"),
        ({"LOCKER_PROCONNECT_CLIENT_ID": "locker"}, "LOCKER_PROCONNECT_CLIENT_SECRET"),
        (
            {"LOCKER_PROCONNECT_CLIENT_ID": "c", "LOCKER_PROCONNECT_CLIENT_SECRET_FILE": "/nope"},
            "LOCKER_PROCONNECT_CLIENT_SECRET_FILE",
        ),
        (
            {"LOCKER_PROCONNECT_CLIENT_ID": "c", "LOCKER_PROCONNECT_CLIENT_SECRET": "s"}
            | {"LOCKER_PROCONNECT_REDIRECT_URI": "http://example.org/cb"},
            "LOCKER_PROCONNECT_REDIRECT_URI",
        ),
    ],
)
def test_proconnect_settings_are_complete_or_named(
    tmp_path: Path, extra: dict[str, str], named: str
) -> None:
    env = {
        "LOCKER_DATA_DIR": str(tmp_path / "var"),
        "LOCKER_PROCONNECT_ISSUER": "https://proconnect.example",
        **extra,
    }
    with pytest.raises(ConfigurationError, match=named):
        load_settings(env, create=True)


def test_proconnect_issuer_over_plain_http_only_on_this_machine(tmp_path: Path) -> None:
    env = {
        "LOCKER_DATA_DIR": str(tmp_path / "var"),
        "LOCKER_PROCONNECT_ISSUER": "http://op.example",
    }
    with pytest.raises(ConfigurationError, match="LOCKER_PROCONNECT_ISSUER"):
        load_settings(env, create=True)


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
