"""The key provider the settings name: the local key file, or a PKCS#11 token (crypto/hsm.py).

Opening it, provisioning it at `locker init`, adding a master key version at rotation, and
preparing a token to take over from the key file (`locker migrate-key-provider`).
"""

from __future__ import annotations

from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from crypto.hsm import Pkcs11Keyring, TokenLocation
from crypto.keyring import Keyring, LocalKeyring, create_keyfile, rotate_master_key
from locker.errors import ConfigurationError
from locker.settings import Settings


def open_keyring(settings: Settings) -> Keyring:
    """The keyring named by the settings (a local key file on the embedded default)."""
    if settings.pkcs11 is not None:
        return Pkcs11Keyring.open(settings.pkcs11, settings.pkcs11_sidecar_file)
    return open_key_file(settings)


def open_key_file(settings: Settings) -> LocalKeyring:
    """The local key file's keyring, whatever the provider (the source of a migration)."""
    if not settings.master_key_file.exists():
        raise ConfigurationError(
            f"LOCKER_MASTER_KEY_FILE {settings.master_key_file} does not exist: "
            "run `locker init` first"
        )
    return LocalKeyring.load(settings.master_key_file)


def provision_key_provider(settings: Settings) -> bool:
    """Create what the provider lacks (key file; or master key 1 in the token and the
    sidecar with a new audit key); False if nothing was missing. Idempotent."""
    if settings.pkcs11 is None:
        return create_keyfile(settings.master_key_file)
    return _provision_token(settings, settings.pkcs11, Ed25519PrivateKey.generate(), 1)


def add_master_key_version(settings: Settings) -> int:
    """A new master key version (in the key file, or generated inside the token); returns
    it. With a token, the sidecar's audit seed is rewrapped under it too."""
    if settings.pkcs11 is None:
        return rotate_master_key(settings.master_key_file)
    keyring = Pkcs11Keyring.open(settings.pkcs11, settings.pkcs11_sidecar_file)
    version = keyring.current_version() + 1
    keyring.add_master_key(version)
    keyring.write_sidecar()
    return version


@dataclass(frozen=True)
class Handover:
    """A key file and the token taking over from it, both open."""

    source: LocalKeyring
    target: Pkcs11Keyring
    erasure_keys_copied: int


def prepare_token_from_key_file(settings: Settings, location: TokenLocation) -> Handover:
    """Make the token ready to take over from the key file: a master key of a version above
    every key file version (so a wrapped key's version says which provider sealed it), the
    key file's audit key in the sidecar, and every erasure key copied. Resumable."""
    if settings.pkcs11 is not None:
        raise ConfigurationError(
            "LOCKER_KEY_PROVIDER must still be `file` (unset) while migrating from the key file"
        )
    source = open_key_file(settings)
    probe = Pkcs11Keyring(location, settings.pkcs11_sidecar_file)
    held = probe.master_versions()
    if held and min(held) <= source.current_version():
        raise ConfigurationError(
            f"the token {location} already holds master key version {min(held)}, not above "
            f"the key file's {source.current_version()}: use a fresh token"
        )
    _provision_token(settings, location, source.audit_signing_key(), source.current_version() + 1)
    target = Pkcs11Keyring.open(location, settings.pkcs11_sidecar_file)
    if _seed(target.audit_signing_key()) != _seed(source.audit_signing_key()):
        raise ConfigurationError(
            f"{settings.pkcs11_sidecar_file} holds another audit key than the key file: "
            "it belongs to another locker"
        )
    copied = 0
    erasure = source.erasure_keys()
    for owner in erasure.owners():
        copied += target.erasure_keys().adopt(owner, erasure.get(owner))
    return Handover(source, target, copied)


def _provision_token(
    settings: Settings, location: TokenLocation, audit_key: Ed25519PrivateKey, first: int
) -> bool:
    keyring = Pkcs11Keyring(location, settings.pkcs11_sidecar_file)
    created = False
    if not keyring.master_versions():
        keyring.add_master_key(first)
        created = True
    if not settings.pkcs11_sidecar_file.exists():
        settings.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        keyring.write_sidecar(audit_key)
        created = True
    return created


def _seed(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes_raw()
