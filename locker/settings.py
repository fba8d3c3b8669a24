"""One `Settings` object, built from `LOCKER_*` environment variables and validated at start-up."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from ipaddress import ip_network
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from crypto.hsm import TokenLocation
from locker.errors import ConfigurationError
from locker.sysusers import user_ids
from locker.witness import parse_witness_url

MIB = 1024 * 1024

# Settings that hold a secret may instead name a file holding it (`NAME_FILE`, e.g. a
# Docker or Kubernetes secret mounted under /run/secrets): an environment is readable by
# whoever can inspect the container, and is copied into every child process.
SECRET_SETTINGS = (
    "LOCKER_SECRET_KEY",
    "LOCKER_DATABASE_URL",
    "LOCKER_METRICS_TOKEN",
    "LOCKER_THROTTLE_STORAGE_URL",
)


@dataclass(frozen=True)
class ProConnectSettings:
    """How the service signs professionals in through ProConnect (OpenID Connect)."""

    issuer: str
    client_id: str
    client_secret: str
    # The `acr` values the service accepts (any one of them), the first one asked for.
    acr_values: tuple[str, ...]
    # Where the provider sends the browser back; empty: derived from the request.
    redirect_uri: str = ""
    # Where the provider sends the browser after signing out there; empty: derived too.
    post_logout_redirect_uri: str = ""


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
    # The addresses (or networks) of those proxies: a request from any other peer keeps its
    # own address, whatever X-Forwarded-For says. Empty: any peer is believed.
    trusted_proxies: tuple[str, ...] = ()
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
    # LOCKER_KEY_PROVIDER: None for the local key file (the default), else the PKCS#11
    # token holding the master keys.
    pkcs11: TokenLocation | None = None
    # ProConnect (docs/proconnect.md): off while the issuer is empty.
    proconnect: ProConnectSettings | None = None
    # The site passkeys are bound to (WebAuthn relying party id, a host name) and the
    # origin its pages are served from; empty: taken from each request's own host.
    webauthn_rp_id: str = ""
    webauthn_origin: str = ""

    @property
    def embedded(self) -> bool:
        """True when the database is the embedded SQLite default (no server at all)."""
        return self.database_url.startswith("sqlite")

    @property
    def pkcs11_sidecar_file(self) -> Path:
        """Beside a token: the audit key's sealed seed (erasure keys in a file next to it)."""
        return self.data_dir / "pkcs11.keyring.json"


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
    env = with_secret_files(os.environ if env is None else env)
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
        trusted_proxies=_trusted_proxies(env, _int(env, "LOCKER_PROXY_HOPS", 0, 0, 5)),
        sandbox_user=_sandbox_user(env),
        operator_name=env.get("LOCKER_OPERATOR_NAME", "").strip()[:200],
        operator_contact=env.get("LOCKER_OPERATOR_CONTACT", "").strip()[:200],
        notifier=env.get("LOCKER_NOTIFIER", "").strip(),
        metrics_token=_metrics_token(env),
        pkcs11=parse_key_provider(
            env.get("LOCKER_KEY_PROVIDER", ""), env.get("LOCKER_PKCS11_PIN_FILE", "")
        ),
        proconnect=_proconnect(env),
        **_webauthn(env),
    )


def _http_url(env: Mapping[str, str], name: str) -> str:
    url = env.get(name, "").strip()
    parts = urlsplit(url)
    # Plain HTTP only to this machine (a test provider); anything else goes over TLS.
    local = parts.hostname in {"127.0.0.1", "localhost", "::1"}
    if url and not (parts.scheme == "https" or (parts.scheme == "http" and local)):
        raise ConfigurationError(f"{name} must be an https:// URL")
    return url.rstrip("/") if name == "LOCKER_PROCONNECT_ISSUER" else url


def _proconnect(env: Mapping[str, str]) -> ProConnectSettings | None:
    issuer = _http_url(env, "LOCKER_PROCONNECT_ISSUER")
    if not issuer:
        return None
    client_id = env.get("LOCKER_PROCONNECT_CLIENT_ID", "").strip()
    secret = env.get("LOCKER_PROCONNECT_CLIENT_SECRET", "").strip()
    secret_file = env.get("LOCKER_PROCONNECT_CLIENT_SECRET_FILE", "").strip()
    if secret_file and not secret:
        try:
            secret = Path(secret_file).read_text().strip()
        except OSError as error:
            raise ConfigurationError(
                f"LOCKER_PROCONNECT_CLIENT_SECRET_FILE cannot be read: {error.strerror}"
            ) from None
    if not client_id or not secret:
        raise ConfigurationError(
            "LOCKER_PROCONNECT_ISSUER is set: LOCKER_PROCONNECT_CLIENT_ID and "
            "LOCKER_PROCONNECT_CLIENT_SECRET (or _FILE) are required too"
        )
    acr = tuple(env.get("LOCKER_PROCONNECT_ACR", "eidas1").replace(",", " ").split())
    if not acr:
        raise ConfigurationError("LOCKER_PROCONNECT_ACR must name at least one acr value")
    return ProConnectSettings(
        issuer=issuer,
        client_id=client_id,
        client_secret=secret,
        acr_values=acr,
        redirect_uri=_http_url(env, "LOCKER_PROCONNECT_REDIRECT_URI"),
        post_logout_redirect_uri=_http_url(env, "LOCKER_PROCONNECT_POST_LOGOUT_REDIRECT_URI"),
    )


# A PKCS#11 token label is 32 bytes at most (CK_TOKEN_INFO.label).
_TOKEN_LABEL_BYTES = 32


def parse_key_provider(value: str, pin_file: str) -> TokenLocation | None:
    """`file` (or nothing): None, the local key file; `pkcs11:<module>?token=<label>`: that
    token, its user PIN in the file `pin_file` names. ConfigurationError naming the variable."""
    value = value.strip()
    if value in {"", "file"}:
        return None
    usage = "LOCKER_KEY_PROVIDER must be `file` or `pkcs11:/path/to/module.so?token=LABEL`"
    scheme, _, rest = value.partition(":")
    module, _, query = rest.rpartition("?")
    if scheme != "pkcs11" or not module:
        raise ConfigurationError(f"{usage}, not {value!r}")
    try:
        fields = parse_qs(query, strict_parsing=True)
    except ValueError:
        fields = {}
    labels = fields.pop("token", [])
    if fields or len(labels) != 1 or not 1 <= len(labels[0].encode()) <= _TOKEN_LABEL_BYTES:
        raise ConfigurationError(
            f"{usage}: the query must be exactly token=LABEL (1 to 32 bytes), not {query!r}"
        )
    module_path = Path(module)
    if not module_path.is_absolute() or not module_path.is_file():
        raise ConfigurationError(
            f"LOCKER_KEY_PROVIDER: the PKCS#11 module {module} is not an existing file "
            "(an absolute path, e.g. /usr/lib/softhsm/libsofthsm2.so)"
        )
    if not pin_file:
        raise ConfigurationError(
            "LOCKER_PKCS11_PIN_FILE must name the file holding the token's user PIN"
        )
    if not Path(pin_file).is_file():
        raise ConfigurationError(f"LOCKER_PKCS11_PIN_FILE {pin_file} is not an existing file")
    return TokenLocation(module_path, labels[0], Path(pin_file))


def with_secret_files(env: Mapping[str, str]) -> Mapping[str, str]:
    """`env` with each `NAME_FILE` of SECRET_SETTINGS replaced by `NAME` and the file's text
    (one trailing line break dropped); a file set beside its variable, or unreadable, stops."""
    resolved = dict(env)
    for name in SECRET_SETTINGS:
        path = resolved.pop(f"{name}_FILE", "")
        if not path:
            continue
        if resolved.get(name):
            raise ConfigurationError(f"set {name} or {name}_FILE, not both")
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigurationError(
                f"{name}_FILE: {path} cannot be read ({type(exc).__name__})"
            ) from None
        value = text.removesuffix("\n").removesuffix("\r")
        if not value:
            raise ConfigurationError(f"{name}_FILE: {path} is empty")
        resolved[name] = value
    return resolved


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


def _trusted_proxies(env: Mapping[str, str], hops: int) -> tuple[str, ...]:
    raw = env.get("LOCKER_TRUSTED_PROXIES", "")
    try:
        found = tuple(
            str(ip_network(part.strip(), strict=False)) for part in raw.split(",") if part.strip()
        )
    except ValueError:
        raise ConfigurationError(
            "LOCKER_TRUSTED_PROXIES must be IP addresses or networks separated by commas, "
            f"not {raw!r}"
        ) from None
    if found and not hops:
        # Listing proxies while reading no forwarded header would protect nothing.
        raise ConfigurationError("LOCKER_TRUSTED_PROXIES needs LOCKER_PROXY_HOPS of 1 or more")
    return found


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
