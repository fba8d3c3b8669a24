"""The passkey service on known answers: assertions recorded from real authenticators,
published with py_webauthn's own tests (duo-labs/py_webauthn,
tests/test_verify_authentication_response.py; site `localhost`, origin
`http://localhost:5000`). Each is replayed into `sharing.passkeys.use_passkey` with its
challenge set as the sign-in's pending one (webauthn_assertions.json, beside this file)."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from locker import accounts
from locker.models import AuditRecord
from sharing.errors import BadPasskey
from sharing.models import Passkey, PasskeyChallenge
from sharing.passkeys import RelyingParty, use_passkey
from tests.conftest import Actors
from tests.factories import Clock
from tests.soft_authenticator import unb64u

SITE = RelyingParty("localhost", "http://localhost:5000")


# A recorded answer (`credential`, as JSON text), its `challenge` and its `public_key`.
Vector = dict[str, str]


def _vector(name: str) -> Vector:
    found = json.loads((Path(__file__).with_name("webauthn_assertions.json")).read_text())[name]
    return {**found, "credential": json.dumps(found["credential"])}


# RSA (RS256), user verified, signature count 1.
RSA_VERIFIED = _vector("rsa_verified")
# EC2 (ES256), user present but not verified, signature count 33.
EC2_UNVERIFIED = _vector("ec2_unverified")


def _raw_id(vector: Vector) -> bytes:
    return unb64u(json.loads(vector["credential"])["rawId"])


def _signed_in(db: Session, clock: Clock, world: Actors, vector: Vector) -> accounts.SignedIn:
    """Mme Martin past her password, holding the vector's passkey, its challenge pending."""
    pro = db.merge(world.pro)
    if db.scalar(select(Passkey).where(Passkey.credential_id == _raw_id(vector))) is None:
        db.add(
            Passkey(
                professional_id=pro.id,
                credential_id=_raw_id(vector),
                public_key=unb64u(vector["public_key"]),
                sign_count=0,
                transports="",
                name="vecteur",
                created_at=clock(),
            )
        )
    token = accounts.start_session(db, clock, pro, "web", 1)
    signed_in = accounts.resolve_session(db, clock, token, "web")
    assert signed_in is not None
    db.add(
        PasskeyChallenge(
            token_hash=signed_in.auth_session.token_hash,
            purpose="use",
            challenge=unb64u(vector["challenge"]),
            expires_at=clock() + timedelta(minutes=5),
        )
    )
    db.flush()
    return signed_in


def _reasons(db: Session) -> list[str]:
    rows = db.scalars(
        select(AuditRecord.reason)
        .where(AuditRecord.action == "second_factor:use")
        .order_by(AuditRecord.seq)
    )
    return list(rows)


def test_a_recorded_assertion_passes_once_then_its_count_is_spent(
    db_session: Session, clock: Clock, world: Actors
) -> None:
    signed_in = _signed_in(db_session, clock, world, RSA_VERIFIED)
    use_passkey(db_session, clock, signed_in, SITE, RSA_VERIFIED["credential"])
    assert signed_in.auth_session.second_factor_at == clock()
    key = db_session.scalars(select(Passkey)).one()
    assert (key.sign_count, key.last_used_at) == (1, clock())
    # The same signature again, its challenge pending once more: a counter that stands
    # still is an authenticator's copy.
    again = _signed_in(db_session, clock, world, RSA_VERIFIED)
    with pytest.raises(BadPasskey):
        use_passkey(db_session, clock, again, SITE, RSA_VERIFIED["credential"])
    assert again.auth_session.second_factor_at is None
    assert _reasons(db_session) == ["passkey", "sign_count_regression"]


@pytest.mark.parametrize(
    ("vector", "site"),
    [
        (EC2_UNVERIFIED, SITE),  # presence alone is not a second factor
        (RSA_VERIFIED, RelyingParty("localhost", "https://localhost:5000")),
        (RSA_VERIFIED, RelyingParty("example.org", "http://localhost:5000")),
    ],
    ids=["user-not-verified", "another-origin", "another-site"],
)
def test_a_recorded_assertion_elsewhere_is_refused(
    db_session: Session, clock: Clock, world: Actors, vector: Vector, site: RelyingParty
) -> None:
    signed_in = _signed_in(db_session, clock, world, vector)
    with pytest.raises(BadPasskey):
        use_passkey(db_session, clock, signed_in, site, vector["credential"])
    assert signed_in.auth_session.second_factor_at is None
    assert _reasons(db_session) == ["passkey_invalid"]
