"""The PKCS#11 keyring on a real token (SoftHSM2): wraps computed inside the token in the
local keyring's layout, tampering refused, master keys that never leave the token,
rotation across versions, and a token that stops answering."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pkcs11
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pkcs11 import Attribute, KeyType, Mechanism, ObjectClass
from pkcs11 import exceptions as p11

from crypto.errors import IntegrityError, KeyFileError, KeyNotFound, KeyProviderUnavailable
from crypto.hsm import Pkcs11Keyring, TokenLocation, _TokenAead
from crypto.keyring import LocalKeyring
from crypto.keys import KEY_SIZE, generate_key
from tests.softhsm import MODULE, new_token

AAD = b"locker/person-key/v1:7a01"
# AES-256-GCM, McGrew & Viega test case 14: zero key, zero 96-bit IV, one zero block.
GCM_KEY, GCM_IV, GCM_PLAIN = bytes(32), bytes(12), bytes(16)
GCM_SEALED = bytes.fromhex("cea7403d4d606b6e074ec5d3baf39d18d0d1c8a799996bf0265b98b5d48ab919")


@pytest.fixture
def keyring(hsm_token: TokenLocation, tmp_path: Path) -> Pkcs11Keyring:
    ring = Pkcs11Keyring(hsm_token, tmp_path / "sidecar.json")
    ring.add_master_key(1)
    ring.write_sidecar(Ed25519PrivateKey.generate())
    return Pkcs11Keyring.open(hsm_token, tmp_path / "sidecar.json")


def session_on(location: TokenLocation) -> pkcs11.Session:
    token = pkcs11.lib(str(MODULE)).get_token(token_label=location.token_label)
    try:
        return token.open(user_pin=location.pin_file.read_text().strip(), rw=True)
    except p11.UserAlreadyLoggedIn:
        return token.open(rw=True)


def master_key_object(location: TokenLocation, version: int) -> pkcs11.SecretKey:
    session = session_on(location)
    return session.get_key(
        object_class=ObjectClass.SECRET_KEY, key_type=KeyType.AES, label=f"locker-master-v{version}"
    )


def test_wrap_round_trips_in_the_local_keyrings_layout(keyring: Pkcs11Keyring) -> None:
    key = generate_key()
    wrapped = keyring.wrap(key, AAD)
    # version ‖ format ‖ nonce ‖ ciphertext ‖ tag, as crypto/keyring.py writes it.
    assert wrapped[:4] == (1).to_bytes(4, "big") and wrapped[4:5] == b"\x01"
    assert len(wrapped) == 4 + 1 + 12 + KEY_SIZE + 16
    assert keyring.unwrap(wrapped, AAD) == key
    assert keyring.wrapped_version(wrapped) == keyring.current_version() == 1
    assert keyring.wrap(key, AAD) != wrapped  # a fresh nonce each time


def test_the_tokens_aes_gcm_gives_the_known_answer(hsm_token: TokenLocation) -> None:
    assert AESGCM(GCM_KEY).encrypt(GCM_IV, GCM_PLAIN, None) == GCM_SEALED
    # A known key put into the token (test only: real master keys are generated there).
    known = session_on(hsm_token).create_object(
        {
            Attribute.CLASS: ObjectClass.SECRET_KEY,
            Attribute.KEY_TYPE: KeyType.AES,
            Attribute.VALUE: GCM_KEY,
            Attribute.LABEL: "locker-master-v9",
            Attribute.TOKEN: True,
            Attribute.ENCRYPT: True,
            Attribute.DECRYPT: True,
            Attribute.SENSITIVE: True,
        }
    )
    aead = _TokenAead(known)  # type: ignore[arg-type]
    assert aead.encrypt(GCM_IV, GCM_PLAIN, None) == GCM_SEALED
    assert aead.decrypt(GCM_IV, GCM_SEALED, None) == GCM_PLAIN


def test_a_known_master_key_wraps_what_the_local_keyring_opens_and_back(
    hsm_token: TokenLocation, tmp_path: Path
) -> None:
    master = generate_key()
    session_on(hsm_token).create_object(
        {
            Attribute.CLASS: ObjectClass.SECRET_KEY,
            Attribute.KEY_TYPE: KeyType.AES,
            Attribute.VALUE: master,
            Attribute.LABEL: "locker-master-v3",
            Attribute.TOKEN: True,
            Attribute.ENCRYPT: True,
            Attribute.DECRYPT: True,
        }
    )
    token = Pkcs11Keyring(hsm_token, tmp_path / "sidecar.json")
    local = LocalKeyring({3: master}, Ed25519PrivateKey.generate())
    key = generate_key()
    assert local.unwrap(token.wrap(key, AAD), AAD) == key
    assert token.unwrap(local.wrap(key, AAD), AAD) == key


def test_every_flipped_byte_wrong_aad_or_version_is_refused(keyring: Pkcs11Keyring) -> None:
    wrapped = keyring.wrap(generate_key(), AAD)
    for position in range(len(wrapped)):
        flipped = bytearray(wrapped)
        flipped[position] ^= 0x01
        # A flipped version byte names a version the token does not hold.
        expected = KeyNotFound if position < 4 else IntegrityError
        with pytest.raises(expected):
            keyring.unwrap(bytes(flipped), AAD)
    with pytest.raises(IntegrityError):
        keyring.unwrap(wrapped, b"locker/person-key/v1:7a02")
    with pytest.raises(IntegrityError):
        keyring.unwrap(wrapped[:-1], AAD)
    with pytest.raises(IntegrityError):
        keyring.unwrap(wrapped[:3], AAD)
    with pytest.raises(KeyNotFound):
        keyring.unwrap((7).to_bytes(4, "big") + wrapped[4:], AAD)
    # Pointed at another version the token holds: the bound version fails the tag.
    keyring.add_master_key(2)
    with pytest.raises(IntegrityError):
        keyring.unwrap((2).to_bytes(4, "big") + wrapped[4:], AAD)
    assert keyring.unwrap(wrapped, AAD)  # the untouched blob still opens


def test_the_master_key_never_leaves_the_token(keyring: Pkcs11Keyring) -> None:
    master = master_key_object(keyring._token.location, 1)
    assert master[Attribute.SENSITIVE] and master[Attribute.ALWAYS_SENSITIVE]
    assert not master[Attribute.EXTRACTABLE] and master[Attribute.NEVER_EXTRACTABLE]
    with pytest.raises(p11.AttributeSensitive):
        master[Attribute.VALUE]
    with pytest.raises((p11.AttributeReadOnly, p11.AttributeValueInvalid)):
        master[Attribute.EXTRACTABLE] = True
    with pytest.raises((p11.AttributeReadOnly, p11.AttributeValueInvalid)):
        master[Attribute.SENSITIVE] = False
    # Wrapped out under a key of the attacker's choosing: refused as well.
    session = session_on(keyring._token.location)
    wrapping = session.generate_key(KeyType.AES, 256, template={Attribute.WRAP: True})
    with pytest.raises(p11.KeyUnextractable):
        wrapping.wrap_key(master, mechanism=Mechanism.AES_KEY_WRAP_PAD)
    # Nor used for anything but AES-GCM wraps here (no key wrapping, no derivation).
    assert not master[Attribute.WRAP] and not master[Attribute.DERIVE]


def test_rotation_keeps_old_wraps_and_wraps_new_ones_under_the_new_version(
    keyring: Pkcs11Keyring, hsm_token: TokenLocation, tmp_path: Path
) -> None:
    old_key = generate_key()
    old = keyring.wrap(old_key, AAD)
    audit = keyring.audit_signing_key().public_key()
    # Another process rotates (locker rotate-master-key): a keyring opened before it
    # still opens what is wrapped under the new version.
    other = Pkcs11Keyring.open(hsm_token, tmp_path / "sidecar.json")
    other.add_master_key(2)
    other.write_sidecar()
    new = other.wrap(old_key, AAD)
    assert other.wrapped_version(new) == 2
    assert keyring.unwrap(new, AAD) == old_key
    assert other.unwrap(old, AAD) == old_key
    reopened = Pkcs11Keyring.open(hsm_token, tmp_path / "sidecar.json")
    assert reopened.current_version() == 2 and reopened.master_versions() == [1, 2]
    assert reopened.audit_signing_key().public_key() == audit
    with pytest.raises(KeyFileError):
        reopened.add_master_key(2)


def test_a_token_without_master_key_or_sidecar_is_refused(
    hsm_token: TokenLocation, tmp_path: Path
) -> None:
    with pytest.raises(KeyFileError, match="no master key"):
        Pkcs11Keyring.open(hsm_token, tmp_path / "sidecar.json")
    Pkcs11Keyring(hsm_token, tmp_path / "sidecar.json").add_master_key(1)
    with pytest.raises(KeyFileError, match="does not exist"):
        Pkcs11Keyring.open(hsm_token, tmp_path / "sidecar.json")


def test_a_sidecar_from_elsewhere_does_not_open(keyring: Pkcs11Keyring, tmp_path: Path) -> None:
    sidecar = tmp_path / "sidecar.json"
    text = sidecar.read_text()
    # The audit seed of another token's sidecar: not this token's wrap.
    sidecar.write_text(text.replace(text.split('"audit_signing_key": "')[1][:8], "AAAAAQEB"))
    with pytest.raises((IntegrityError, KeyNotFound)):
        Pkcs11Keyring.open(keyring._token.location, sidecar)


def test_a_wrong_pin_is_refused_once_and_not_tried_again(
    hsm_token: TokenLocation, tmp_path: Path
) -> None:
    wrong = tmp_path / "wrong.pin"
    wrong.write_text("0000\n")
    ring = Pkcs11Keyring(
        TokenLocation(hsm_token.module, hsm_token.token_label, wrong), tmp_path / "s.json"
    )
    with pytest.raises(KeyProviderUnavailable, match="PinIncorrect"):
        ring.master_versions()
    with pytest.raises(KeyProviderUnavailable, match="PinIncorrect"):
        ring.master_versions()
    shown = subprocess.run(
        ["softhsm2-util", "--show-slots"], capture_output=True, text=True, check=True
    ).stdout
    assert hsm_token.token_label in shown  # the token itself is fine


# python-pkcs11 ends a token search abandoned with the dead session when the search object
# is collected, and says so on stderr: expected once the token is gone.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_a_token_that_is_gone_is_unavailable_not_damage(
    keyring: Pkcs11Keyring, hsm_token: TokenLocation, softhsm_conf: Path, tmp_path: Path
) -> None:
    wrapped = keyring.wrap(generate_key(), AAD)
    subprocess.run(
        ["softhsm2-util", "--delete-token", "--token", hsm_token.token_label],
        capture_output=True,
        check=True,
    )
    new_token(softhsm_conf, tmp_path)  # the module initialised again: the old one is gone
    with pytest.raises(KeyProviderUnavailable):
        keyring.wrap(generate_key(), AAD)
    with pytest.raises(KeyProviderUnavailable):
        keyring.unwrap(wrapped, AAD)
