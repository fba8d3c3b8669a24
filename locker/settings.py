"""One `Settings` object, built from `LOCKER_*` environment variables and validated at start-up."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from locker.errors import ConfigurationError
from locker.sysusers import user_ids
from locker.witness import parse_witness_url

MIB = 1024 * 1024


@dataclass(frozen=True)
class Settings:
    """Validated configuration; every field has a working embedded default."""

    data_dir: Path
    database_url: str
    storage_url: str
    s3_endpoint_url: str | None
    s3_region: str | None
    s3_path_style: bool
    master_key_file: Path
    secret_key: str
    max_upload_bytes: int
    session_hours: int
    token_hours: int
    # A browser session left alone this long ends (shared phones; professionals' desks).
    person_idle_minutes: int
    professional_idle_minutes: int
    cookie_secure: bool
    # Uploads: each person's quota, and what parsing one upload may cost its worker.
    quota_bytes: int = 1024 * MIB
    # A professional's sign-in (browser or token) ends this long after it began, however
    # active (an absolute limit beside the idle one).
    professional_session_hours: int = 10
    # A professional's second factor counts as fresh this long after it passed (at sign-in
    # or confirmed again): issuing a recovery code, a deposit, a mandate, an export need it.
    fresh_factor_minutes: int = 15
    sanitize_memory_mb: int = 768
    sanitize_cpu_seconds: int = 20
    # The audit log's checkpoint origin (also the signing key's name), witness folder and
    # how old the latest checkpoint may grow before the service signs a new one.
    audit_origin: str = "locker.localhost/audit"
    audit_witness_dir: Path = Path("witness")
    audit_checkpoint_minutes: int = 60
    # An S3 bucket with Object Lock (compliance mode) also witnessing every checkpoint,
    # and how long each stays locked there.
    audit_witness_url: str | None = None
    audit_witness_retain_days: int = 3650
    # Failed sign-ins are counted here (memory:// for one process, redis:// for several),
    # and the client address is read this many proxies back.
    throttle_storage_url: str = "memory://"
    proxy_hops: int = 0
    # Who the sanitiser child becomes when the service runs as root (None: the default).
    sandbox_user: str | None = None
    # Who runs the service and how to reach them, as the information and privacy pages
    # tell every person (R.55-1 CPCE, RGPD art. 13); empty: the pages say it is not given.
    operator_name: str = ""
    operator_contact: str = ""
    # Where expiry reminders go ("module:factory"); empty: a log line only (reminders.py).
    notifier: str = ""
    # The bearer token a scraper shows to read /metrics; empty: only a client on this host,
    # connected directly (not through a proxy), may read them.
    metrics_token: str = ""
    # The site passkeys are bound to (WebAuthn relying party id, a host name) and the
    # origin its pages are served from; empty: taken from each request's own host.
    webauthn_rp_id: str = ""
    webauthn_origin: str = ""

    @property
    def embedded(self) -> bool:
        """True when the database is the embedded SQLite default (no server at all)."""
        return self.database_url.startswith("sqlite")


def _int(env: Mapping[str, str], name: str, default: int, minimum: int, maximum: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigurationError(f"{name} must be a whole number, not {raw!r}") from None
    if not minimum <= value <= maximum:
        raise ConfigurationError(f"{name} must be between {minimum} and {maximum}, not {value}")
    return value


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    lowered = raw.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ConfigurationError(f"{name} must be true or false, not {raw!r}")


def _check_database_url(url: str) -> str:
    scheme = urlsplit(url).scheme
    if scheme in {"sqlite", "sqlite+pysqlite"}:
        return url
    if scheme in {"postgresql", "postgresql+psycopg", "postgres"}:
        # psycopg 3 is the one PostgreSQL driver we ship; normalise to it.
        rest = url.split("://", 1)[1]
        return f"postgresql+psycopg://{rest}"
    raise ConfigurationError(
        "LOCKER_DATABASE_URL must start with sqlite:/// or postgresql://, "
        f"not {scheme or 'nothing'}://"
    )


def _check_storage_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme == "s3" and not parts.netloc:
        raise ConfigurationError("LOCKER_STORAGE_URL s3:// needs a bucket name")
    local = parts.netloc in {"", "localhost"} and parts.path.startswith("/")
    if parts.scheme != "s3" and not (parts.scheme == "file" and local):
        raise ConfigurationError(
            "LOCKER_STORAGE_URL must be file:///absolute/path or s3://bucket[/prefix]"
        )
    return url


def _secret_key(env: Mapping[str, str], data_dir: Path, embedded: bool, create: bool) -> str:
    given = env.get("LOCKER_SECRET_KEY", "")
    if given:
        if len(given) < 32:
            raise ConfigurationError("LOCKER_SECRET_KEY must be at least 32 characters long")
        return given
    if not embedded:
        raise ConfigurationError(
            "LOCKER_SECRET_KEY is required when LOCKER_DATABASE_URL is not the embedded SQLite"
        )
    path = data_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    if not create:
        raise ConfigurationError(
            f"LOCKER_SECRET_KEY is not set and {path} does not exist: run `locker init` first"
        )
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    value = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(value + "\n")
    return value


def load_settings(env: Mapping[str, str] | None = None, *, create: bool = False) -> Settings:
    """Read and validate every `LOCKER_*` variable; raise ConfigurationError naming a bad one.

    With `create`, the embedded secret key is generated into the data dir when missing.
    """
    env = os.environ if env is None else env
    data_dir = Path(env.get("LOCKER_DATA_DIR") or "./var").expanduser().resolve()
    database_url = _check_database_url(
        env.get("LOCKER_DATABASE_URL") or f"sqlite:///{data_dir / 'locker.sqlite3'}"
    )
    storage_url = _check_storage_url(
        env.get("LOCKER_STORAGE_URL") or (data_dir / "objects").as_uri()
    )
    master_key_file = Path(
        env.get("LOCKER_MASTER_KEY_FILE") or data_dir / "master.keyring.json"
    ).expanduser()
    if not master_key_file.is_absolute():
        master_key_file = master_key_file.resolve()
    embedded = database_url.startswith("sqlite")
    endpoint = env.get("LOCKER_S3_ENDPOINT_URL") or None
    if endpoint is not None and urlsplit(endpoint).scheme not in {"http", "https"}:
        raise ConfigurationError("LOCKER_S3_ENDPOINT_URL must be an http:// or https:// URL")
    return Settings(
        data_dir=data_dir,
        database_url=database_url,
        storage_url=storage_url,
        s3_endpoint_url=endpoint,
        s3_region=env.get("LOCKER_S3_REGION") or None,
        s3_path_style=_bool(env, "LOCKER_S3_PATH_STYLE", True),
        master_key_file=master_key_file,
        secret_key=_secret_key(env, data_dir, embedded, create),
        max_upload_bytes=_int(env, "LOCKER_MAX_UPLOAD_BYTES", 30 * MIB, 1, 2048 * MIB),
        session_hours=_int(env, "LOCKER_SESSION_HOURS", 12, 1, 24 * 30),
        token_hours=_int(env, "LOCKER_TOKEN_HOURS", 24, 1, 24 * 90),
        person_idle_minutes=_int(env, "LOCKER_PERSON_IDLE_MINUTES", 20, 1, 24 * 60),
        professional_idle_minutes=_int(env, "LOCKER_PROFESSIONAL_IDLE_MINUTES", 30, 1, 24 * 60),
        cookie_secure=_bool(env, "LOCKER_COOKIE_SECURE", not embedded),
        professional_session_hours=_int(env, "LOCKER_PROFESSIONAL_SESSION_HOURS", 10, 1, 24 * 7),
        fresh_factor_minutes=_int(env, "LOCKER_FRESH_FACTOR_MINUTES", 15, 1, 720),
        quota_bytes=_int(env, "LOCKER_QUOTA_BYTES", 1024 * MIB, 1, 2**50),
        sanitize_memory_mb=_int(env, "LOCKER_SANITIZE_MEMORY_MB", 768, 64, 16384),
        sanitize_cpu_seconds=_int(env, "LOCKER_SANITIZE_CPU_SECONDS", 20, 1, 600),
        audit_origin=_audit_origin(env),
        audit_witness_dir=Path(
            # Beside the data dir, not in it: wiping or restoring the data dir (database
            # included) must not take the witness with it. Mount it elsewhere in production.
            env.get("LOCKER_AUDIT_WITNESS_DIR") or data_dir.parent / f"{data_dir.name}-witness"
        ).expanduser(),
        audit_checkpoint_minutes=_int(env, "LOCKER_AUDIT_CHECKPOINT_MINUTES", 60, 1, 24 * 60 * 7),
        audit_witness_url=_witness_url(env),
        audit_witness_retain_days=_int(env, "LOCKER_AUDIT_WITNESS_RETAIN_DAYS", 3650, 1, 36500),
        throttle_storage_url=_throttle_storage_url(env),
        proxy_hops=_int(env, "LOCKER_PROXY_HOPS", 0, 0, 5),
        sandbox_user=_sandbox_user(env),
        operator_name=env.get("LOCKER_OPERATOR_NAME", "").strip()[:200],
        operator_contact=env.get("LOCKER_OPERATOR_CONTACT", "").strip()[:200],
        notifier=env.get("LOCKER_NOTIFIER", "").strip(),
        metrics_token=_metrics_token(env),
        **_webauthn(env),
    )


def _webauthn(env: Mapping[str, str]) -> dict[str, str]:
    origin = (env.get("LOCKER_WEBAUTHN_ORIGIN") or "").strip().rstrip("/")
    rp_id = (env.get("LOCKER_WEBAUTHN_RP_ID") or "").strip().lower()
    host = ""
    if origin:
        parts = urlsplit(origin)
        if parts.scheme not in {"https", "http"} or not parts.hostname or parts.path:
            raise ConfigurationError(
                "LOCKER_WEBAUTHN_ORIGIN must be the service's origin, e.g. https://coffre.example.org"
            )
        host = parts.hostname
    if rp_id and (not rp_id.replace("-", "").replace(".", "").isalnum() or not rp_id.isascii()):
        raise ConfigurationError("LOCKER_WEBAUTHN_RP_ID must be a host name, e.g. example.org")
    # The browser accepts a relying party id equal to the page's host or a parent domain of it.
    if rp_id and host and host != rp_id and not host.endswith("." + rp_id):
        raise ConfigurationError(
            "LOCKER_WEBAUTHN_RP_ID must be the host of LOCKER_WEBAUTHN_ORIGIN or a parent domain"
        )
    return {"webauthn_rp_id": rp_id or host, "webauthn_origin": origin}


def _metrics_token(env: Mapping[str, str]) -> str:
    token = env.get("LOCKER_METRICS_TOKEN", "")
    # A bearer token is sent in a header: printable ASCII without spaces, and long enough
    # that it cannot be guessed (`openssl rand -hex 32` gives 64 characters).
    shaped = token.isascii() and token.isprintable() and " " not in token
    if token and not (32 <= len(token) <= 256 and shaped):
        raise ConfigurationError(
            "LOCKER_METRICS_TOKEN must be 32 to 256 printable ASCII characters without spaces"
        )
    return token


def _sandbox_user(env: Mapping[str, str]) -> str | None:
    user = env.get("LOCKER_SANDBOX_USER") or None
    if user is None:
        return None
    try:
        uid, _ = user_ids(user)
    except (KeyError, ValueError, OverflowError):
        raise ConfigurationError(
            "LOCKER_SANDBOX_USER must name an existing user, or be a uid number"
        ) from None
    if uid == 0 or uid >= 2**32 - 1:
        raise ConfigurationError("LOCKER_SANDBOX_USER must be an unprivileged user, not root")
    return user


def _witness_url(env: Mapping[str, str]) -> str | None:
    url = env.get("LOCKER_AUDIT_WITNESS_URL") or None
    if url is not None:
        parse_witness_url(url)  # a bad value stops the start, naming the variable
    return url


def _throttle_storage_url(env: Mapping[str, str]) -> str:
    url = env.get("LOCKER_THROTTLE_STORAGE_URL") or "memory://"
    if urlsplit(url).scheme not in {"memory", "redis", "rediss"}:
        raise ConfigurationError(
            "LOCKER_THROTTLE_STORAGE_URL must be memory:// or a redis:// (rediss://) URL"
        )
    return url


def _audit_origin(env: Mapping[str, str]) -> str:
    origin = env.get("LOCKER_AUDIT_ORIGIN") or "locker.localhost/audit"
    # A C2SP key name: printable, no space and no "+" (the verifier key's separator).
    if len(origin) > 200 or not origin.isprintable() or any(c in origin for c in " +\u2014"):
        raise ConfigurationError(
            "LOCKER_AUDIT_ORIGIN must be printable, without spaces or '+', e.g. "
            "locker.example.org/audit"
        )
    return origin
