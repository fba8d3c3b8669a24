"""Every key the keyring wraps, rewrapped in one call: the master-key rotation and the move
from the key file to a token both go through here, so a new kind of wrapped key is added
once, in `rewrap_every_key`."""

from __future__ import annotations

from sqlalchemy.orm import Session

from crypto.keyring import Keyring
from locker.rotation import rewrap_person_keys
from sharing.second_factor import rewrap_factor_keys


def rewrap_every_key(
    session: Session, keyring: Keyring, source: Keyring | None = None
) -> dict[str, int]:
    """Rewrap under `keyring`'s current master key every wrapped key not yet under it
    (`source` unwraps; default `keyring`); how many of each kind. The caller commits."""
    return {
        "person_keys_rewrapped": rewrap_person_keys(session, keyring, source),
        "second_factor_keys_rewrapped": rewrap_factor_keys(session, keyring, source),
    }
