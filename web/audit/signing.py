"""The service's signed checkpoints and its verifier key, as the audit API serves them and
a person's export carries them: one way to ask for either."""

from __future__ import annotations

from locker.audit_models import AuditCheckpoint
from locker.checkpoints import publish_current_checkpoint, verifier_key
from web.context import services


def current_checkpoint(max_age_minutes: int | None = None) -> AuditCheckpoint:
    """The latest checkpoint, signed now if older than `max_age_minutes` (the setting by
    default; 0: always now), and on every witness."""
    found = services()
    return publish_current_checkpoint(
        found.session_factory,
        found.keyring.audit_signing_key(),
        found.clock,
        origin=found.settings.audit_origin,
        witness_dir=found.settings.audit_witness_dir,
        max_age_minutes=(
            found.settings.audit_checkpoint_minutes if max_age_minutes is None else max_age_minutes
        ),
        s3_witness=found.s3_witness,
    )


def service_verifier_key() -> str:
    """The C2SP verifier key line: <name>+<hex key hash>+<base64(0x01 ‖ key)>, newline."""
    found = services()
    key = found.keyring.audit_signing_key().public_key()
    return verifier_key(found.settings.audit_origin, key) + "\n"
