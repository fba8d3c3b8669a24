"""Signed checkpoints of the audit log, in the C2SP tlog-checkpoint signed-note format.

The service signs checkpoints itself, as it goes (`checkpoint_if_due`: every 100 records,
or once 5 minutes have passed since the last one while records came in), and copies each
to a witness the database cannot reach: a folder outside the data dir by default. Someone
who can write the database can still rebuild records and tree after the last checkpoint,
but no longer unseen: what was signed is on the witness, and `locker audit verify` checks
every witnessed checkpoint against the records, so a rewrite or truncation of anything
older than a few minutes (or 100 records) is caught, named, and cannot be re-signed
without the signing key.

A checkpoint is the text "<origin>\\n<tree size>\\n<base64 root hash>\\n", a blank line,
then one signature line "— <key name> <base64(4-byte key hash ‖ Ed25519 signature)>".
The key hash is SHA-256(name ‖ "\\n" ‖ 0x01 ‖ public key)[:4]. Each checkpoint is also
copied to a witness folder outside the database, which a rewritten database cannot
follow: two different checkpoints of the same size are a forked history.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import os
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from sqlalchemy import select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from locker.actors import Clock
from locker.audit_models import AuditCheckpoint
from locker.errors import CheckpointInvalid, ForkDetected
from locker.proofs import tree_head
from locker.witness import S3Witness

ED25519 = b"\x01"
# How often the service signs a checkpoint itself: every so many records, or once so many
# minutes have passed since the last one while records came in.
CHECKPOINT_EVERY_RECORDS = 100
CHECKPOINT_EVERY_MINUTES = 5

log = logging.getLogger(__name__)
SIGNATURE_PREFIX = "\u2014 "


@dataclass(frozen=True)
class SignedTreeHead:
    """What a valid checkpoint says."""

    origin: str
    tree_size: int
    root_hash: bytes


def public_key_bytes(key: Ed25519PublicKey) -> bytes:
    """The raw 32-byte Ed25519 public key."""
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def key_hash(name: str, key: Ed25519PublicKey) -> bytes:
    """The C2SP signed-note key hash: SHA-256(name ‖ "\\n" ‖ 0x01 ‖ key)[:4]."""
    return hashlib.sha256(name.encode() + b"\n" + ED25519 + public_key_bytes(key)).digest()[:4]


def verifier_key(name: str, key: Ed25519PublicKey) -> str:
    """The C2SP verifier key text: <name>+<hex key hash>+<base64(0x01 ‖ key)>."""
    encoded = base64.b64encode(ED25519 + public_key_bytes(key)).decode("ascii")
    return f"{name}+{key_hash(name, key).hex()}+{encoded}"


def sign_checkpoint(origin: str, tree_size: int, root_hash: bytes, key: Ed25519PrivateKey) -> str:
    """The full signed note; the key's name is the origin."""
    body = f"{origin}\n{tree_size}\n{base64.b64encode(root_hash).decode('ascii')}\n"
    signature = key.sign(body.encode())
    blob = base64.b64encode(key_hash(origin, key.public_key()) + signature).decode("ascii")
    return f"{body}\n{SIGNATURE_PREFIX}{origin} {blob}\n"


def open_checkpoint(note: str, origin: str, key: Ed25519PublicKey) -> SignedTreeHead:
    """The tree head of a note signed by (origin, key); CheckpointInvalid otherwise."""
    body, sep, signatures = note.rpartition("\n\n")
    if not sep or not signatures.endswith("\n"):
        raise CheckpointInvalid("not a signed note")
    body += "\n"
    lines = body.split("\n")
    if len(lines) < 4 or lines[0] != origin:
        raise CheckpointInvalid("wrong origin")
    size_text, root_text = lines[1], lines[2]
    if not size_text.isdigit() or (size_text != "0" and size_text.startswith("0")):
        raise CheckpointInvalid("bad tree size")
    try:
        root = base64.b64decode(root_text, validate=True)
    except binascii.Error:
        raise CheckpointInvalid("bad root hash") from None
    if len(root) != 32:
        raise CheckpointInvalid("bad root hash")
    wanted = key_hash(origin, key)
    for line in signatures[:-1].split("\n"):
        if not line.startswith(SIGNATURE_PREFIX):
            raise CheckpointInvalid("bad signature line")
        name, _, blob = line[len(SIGNATURE_PREFIX) :].partition(" ")
        try:
            raw = base64.b64decode(blob, validate=True)
        except binascii.Error:
            raise CheckpointInvalid("bad signature encoding") from None
        if name != origin or raw[:4] != wanted:
            continue  # another signer (a witness's cosignature): not ours to judge
        try:
            key.verify(raw[4:], body.encode())
        except InvalidSignature:
            raise CheckpointInvalid("signature does not verify") from None
        return SignedTreeHead(origin=origin, tree_size=int(size_text), root_hash=root)
    raise CheckpointInvalid("no signature by the log's key")


def as_utc(value: object) -> datetime | None:
    """A time read by a raw query, made aware (UTC); None when it is not a time."""
    if isinstance(value, str):  # SQLite hands raw column text back to a text() query
        value = datetime.fromisoformat(value)
    if not isinstance(value, datetime):
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def latest_checkpoint(session: Session) -> AuditCheckpoint | None:
    """The checkpoint with the largest tree size, if any."""
    return session.scalar(
        select(AuditCheckpoint).order_by(AuditCheckpoint.tree_size.desc()).limit(1)
    )


@dataclass(frozen=True)
class CheckpointLag:
    """How far the signed checkpoints trail the log: the newest one's age in seconds
    (None when none is signed yet) and the records it does not cover."""

    age_seconds: float | None
    unsigned_records: int


def checkpoint_lag(session: Session, clock: Clock) -> CheckpointLag:
    """Read the checkpoint lag (two small reads, as `checkpoint_if_due` makes)."""
    size = session.execute(text("SELECT size FROM audit_log_state WHERE id = 1")).scalar() or 0
    latest = latest_checkpoint(session)
    if latest is None:
        return CheckpointLag(None, int(size))
    signed_at = as_utc(latest.created_at)
    age = (clock() - signed_at).total_seconds() if signed_at is not None else None
    return CheckpointLag(age, max(0, int(size) - latest.tree_size))


def make_checkpoint(
    session: Session, key: Ed25519PrivateKey, clock: Clock, origin: str
) -> AuditCheckpoint:
    """Sign the current tree head (or return the existing checkpoint of that size).

    The caller commits, then publishes to the witness. Complete subtrees never change
    once written, so the head is consistent even while appends go on.
    """
    size, root = tree_head(session)
    existing = session.get(AuditCheckpoint, size)
    if existing is not None:
        return existing
    values = {
        "tree_size": size,
        "root_hash": root,
        "note": sign_checkpoint(origin, size, root, key),
        "created_at": clock(),
    }
    # Another process may sign this very size at this moment: it signs the same note
    # (same tree, deterministic Ed25519), so whichever insert lands first is kept, and
    # the other waits for it instead of failing on the duplicate key.
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    session.execute(
        dialect.insert(AuditCheckpoint)
        .values(values)
        .on_conflict_do_nothing(index_elements=["tree_size"])
    )
    checkpoint = session.get(AuditCheckpoint, size)
    if checkpoint is None:
        raise CheckpointInvalid("the checkpoint just signed cannot be read back")
    return checkpoint


def publish_checkpoint(witness_dir: Path, tree_size: int, note: str) -> Path:
    """Copy a checkpoint to the witness folder; ForkDetected if a different one is there.

    Files are created exclusively and never overwritten: the witness only grows.
    """
    witness_dir.mkdir(parents=True, exist_ok=True)
    path = witness_dir / f"checkpoint-{tree_size:012d}.txt"
    # Written whole under a private name, then linked in: link() never replaces, and
    # another process (or a crash) never sees a half-written checkpoint under the name.
    fd, staged = tempfile.mkstemp(prefix=".staged-", suffix=".tmp", dir=witness_dir)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            os.fchmod(handle.fileno(), 0o644)
            handle.write(note)
            handle.flush()
            os.fsync(handle.fileno())
        os.link(staged, path)
    except FileExistsError:
        if path.read_text(encoding="utf-8") != note:
            raise ForkDetected(
                f"the witness holds a different checkpoint of size {tree_size}"
            ) from None
    finally:
        os.unlink(staged)
    return path


def witness_notes(witness_dir: Path) -> list[tuple[Path, str]]:
    """Every checkpoint the witness folder holds, in file-name order."""
    if not witness_dir.is_dir():
        return []
    return [
        (path, path.read_text(encoding="utf-8"))
        for path in sorted(witness_dir.glob("checkpoint-*.txt"))
    ]


def publish_current_checkpoint(
    session_factory: sessionmaker[Session],
    key: Ed25519PrivateKey,
    clock: Clock,
    *,
    origin: str,
    witness_dir: Path,
    max_age_minutes: int,
    s3_witness: S3Witness | None = None,
) -> AuditCheckpoint:
    """The latest signed checkpoint, made now if stale (0: always now), on the witness too.

    Commits on its own: a checkpoint is part of the log, like a record. Publishing again
    an existing checkpoint is harmless, and catches a witness that disagrees.
    """
    with session_factory() as session, session.begin():
        checkpoint = latest_checkpoint(session) if max_age_minutes > 0 else None
        # A stale checkpoint is signed anew only if the log grew since.
        if checkpoint is None or (
            checkpoint.created_at <= clock() - timedelta(minutes=max_age_minutes)
            and tree_head(session)[0] != checkpoint.tree_size
        ):
            checkpoint = make_checkpoint(session, key, clock, origin)
    publish_checkpoint(witness_dir, checkpoint.tree_size, checkpoint.note)
    if s3_witness is not None:
        s3_witness.publish(checkpoint.tree_size, checkpoint.note)
    return checkpoint


def checkpoint_if_due(
    session_factory: sessionmaker[Session],
    key: Ed25519PrivateKey,
    clock: Clock,
    *,
    origin: str,
    witness_dir: Path,
    s3_witness: S3Witness | None = None,
) -> AuditCheckpoint | None:
    """Sign and witness a checkpoint when 100 records or 5 minutes have gone unsigned.

    Cheap when nothing is due (two small reads). Safe with several processes: the tree is
    the same for all, so two of them signing one size sign the same root; the second
    insert is refused and that is fine. Never raises: a failure is logged, and the next
    call (the next request) tries again, since the records stay unsigned until then.
    """
    try:
        with session_factory() as session:
            size = session.execute(text("SELECT size FROM audit_log_state WHERE id = 1")).scalar()
            latest = latest_checkpoint(session)
            signed = latest.tree_size if latest is not None else 0
            if not size or size <= signed:
                return None
            # The oldest unsigned record's age (the first record's, when none is signed).
            since = (
                latest.created_at
                if latest is not None
                else session.execute(text("SELECT at FROM audit_records WHERE seq = 0")).scalar()
            )
        since = as_utc(since)
        stale = since is None or since <= clock() - timedelta(minutes=CHECKPOINT_EVERY_MINUTES)
        if size - signed < CHECKPOINT_EVERY_RECORDS and not stale:
            return None
        return publish_current_checkpoint(
            session_factory,
            key,
            clock,
            origin=origin,
            witness_dir=witness_dir,
            max_age_minutes=0,
            s3_witness=s3_witness,
        )
    except IntegrityError:
        return None  # another process signed this very size a moment ago
    except Exception:  # the request it follows must not fail for it: logged, tried again
        log.exception("the audit checkpoint could not be signed or witnessed")
        return None
