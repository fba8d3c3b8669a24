"""A backup's manifest and checksums: what it holds, and the SHA-256 of every file in it.

Layout of a backup folder:

    manifest.json          format, time, migration revision, counts, digests (below)
    SHA256SUMS             one `<sha256>  <path>` line per file (`sha256sum -c` reads it)
    database.pgdump        pg_dump's custom format, or database.sqlite3 (SQLite's backup API)
    objects/ab/ab12…       every object documents name, as stored: ciphertext only
    witness/checkpoint-…   (optional) the audit witness folder's signed checkpoints

`manifest.json` carries the SHA-256 of SHA256SUMS and a digest of its own content, and
`create_backup` prints that digest so an operator can pin it elsewhere. Checksums catch
a damaged or incomplete backup; a deliberately forged one is caught later by the
objects' authenticated encryption and by the audit log's witnessed checkpoints.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from locker.errors import BackupInvalid
from locker.storage import READ_CHUNK_BYTES, is_object_key

FORMAT = "locker-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
SUMS = "SHA256SUMS"
DATABASE_FILES = {"postgresql": "database.pgdump", "sqlite": "database.sqlite3"}
WITNESS_NAME = re.compile(r"checkpoint-(\d{12})\.txt")
_SUM_LINE = re.compile(r"([0-9a-f]{64})  (\S+)")


def object_path(key: str) -> str:
    """Where an object lives in a backup: two-character folders keep each one small."""
    return f"objects/{key[:2]}/{key}"


def hash_chunks(chunks: Iterable[bytes], digest: Any) -> Iterator[bytes]:
    """Pass `chunks` through unchanged, feeding each to `digest` on the way."""
    for chunk in chunks:
        digest.update(chunk)
        yield chunk


def read_file(path: Path) -> Iterator[bytes]:
    """A file's bytes in chunks of about 1 MiB."""
    with path.open("rb") as handle:
        while chunk := handle.read(READ_CHUNK_BYTES):
            yield chunk


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    for _ in hash_chunks(read_file(path), digest):
        pass
    return digest.hexdigest()


@dataclass(frozen=True)
class Manifest:
    """What a backup holds; every field is checked against the files before a restore."""

    created_at: str
    dialect: str
    migration_revision: str
    database_sha256: str
    database_bytes: int
    object_count: int
    object_bytes: int
    # Keys documents named whose object the store did not have at backup time.
    missing_objects: tuple[str, ...]
    audit_tree_size: int
    audit_checkpoint_size: int | None
    witness_files: int
    sums_sha256: str

    @property
    def database_file(self) -> str:
        """The dump's file name in the backup."""
        return DATABASE_FILES[self.dialect]


def _digest(body: dict[str, Any]) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode("ascii")).hexdigest()


def write_manifest(folder: Path, manifest: Manifest) -> str:
    """Write manifest.json (last, so that its presence means the backup is whole);
    return its digest."""
    body: dict[str, Any] = {"format": FORMAT, "format_version": FORMAT_VERSION}
    body.update(asdict(manifest))
    body["missing_objects"] = list(manifest.missing_objects)
    digest = _digest(body)
    text = json.dumps({**body, "digest": digest}, indent=2, sort_keys=True) + "\n"
    staging = folder / f"{MANIFEST}.partial"
    staging.write_text(text, encoding="ascii")
    staging.replace(folder / MANIFEST)
    return digest


_FIELD_TYPES: dict[str, type | tuple[type, ...]] = {
    "created_at": str,
    "dialect": str,
    "migration_revision": str,
    "database_sha256": str,
    "database_bytes": int,
    "object_count": int,
    "object_bytes": int,
    "missing_objects": list,
    "audit_tree_size": int,
    "audit_checkpoint_size": (int, type(None)),
    "witness_files": int,
    "sums_sha256": str,
}


def read_manifest(folder: Path, expect_digest: str | None = None) -> tuple[Manifest, str]:
    """The manifest and its digest; BackupInvalid if absent, altered or of another format."""
    path = folder / MANIFEST
    if not path.is_file():
        raise BackupInvalid(f"{folder} holds no {MANIFEST}: not a backup, or an unfinished one")
    try:
        body = json.loads(path.read_text(encoding="ascii"))
    except (ValueError, UnicodeError) as exc:
        raise BackupInvalid(f"{MANIFEST} is not valid JSON") from exc
    if not isinstance(body, dict) or body.get("format") != FORMAT:
        raise BackupInvalid(f"{MANIFEST} is not a locker backup's manifest")
    if body.get("format_version") != FORMAT_VERSION:
        raise BackupInvalid(
            f"backup format {body.get('format_version')!r} is not {FORMAT_VERSION}: "
            "restore it with the version of the locker that made it"
        )
    stated = body.pop("digest", None)
    digest = _digest(body)
    if stated != digest:
        raise BackupInvalid(f"{MANIFEST} was altered: its content no longer gives its digest")
    if expect_digest is not None and expect_digest.lower() != digest:
        raise BackupInvalid(f"{MANIFEST}'s digest is {digest}, not the one expected")
    fields: dict[str, Any] = {name: body.get(name) for name in _FIELD_TYPES}
    for name, kind in _FIELD_TYPES.items():
        value = fields[name]
        if not isinstance(value, kind) or isinstance(value, bool):
            raise BackupInvalid(f"{MANIFEST}: field {name} is missing or of the wrong type")
    if fields["dialect"] not in DATABASE_FILES:
        raise BackupInvalid(f"{MANIFEST}: unknown database kind")
    fields["missing_objects"] = tuple(str(key) for key in fields["missing_objects"])
    return Manifest(**fields), digest


@dataclass(frozen=True)
class Contents:
    """The files SHA256SUMS lists, by kind, with their expected SHA-256."""

    objects: dict[str, str]
    witness: dict[str, str]


def write_sums(folder: Path, lines: Iterable[tuple[str, str]]) -> str:
    """Write SHA256SUMS from (path, sha256) pairs; return the file's own SHA-256."""
    text = "".join(f"{sha}  {path}\n" for path, sha in sorted(lines))
    (folder / SUMS).write_text(text, encoding="ascii")
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def _kind_of(path: str, database_file: str) -> tuple[str, str]:
    """("database" | "objects" | "witness", name) for a listed path; BackupInvalid for any
    other shape (a hostile list must not name a path outside the backup)."""
    parts = path.split("/")
    if path == database_file:
        return "database", path
    is_object = len(parts) == 3 and parts[0] == "objects" and is_object_key(parts[2])
    if is_object and parts[1] == parts[2][:2]:
        return "objects", parts[2]
    if len(parts) == 2 and parts[0] == "witness" and WITNESS_NAME.fullmatch(parts[1]):
        return "witness", parts[1]
    raise BackupInvalid(f"{SUMS} lists a path a backup never holds")


def verify_backup(folder: Path, manifest: Manifest) -> Contents:
    """Check every file against SHA256SUMS and the manifest, and that nothing is missing
    or extra; BackupInvalid naming the first file that does not match."""
    sums = folder / SUMS
    if not sums.is_file() or file_sha256(sums) != manifest.sums_sha256:
        raise BackupInvalid(f"{SUMS} is missing or altered (its SHA-256 is not the manifest's)")
    listed: dict[str, str] = {}
    contents = Contents(objects={}, witness={})
    for line in sums.read_text(encoding="ascii").splitlines():
        found = _SUM_LINE.fullmatch(line)
        if found is None:
            raise BackupInvalid(f"{SUMS} has a line that is not `<sha256>  <path>`")
        sha, path = found.groups()
        kind, name = _kind_of(path, manifest.database_file)
        listed[path] = sha
        if kind != "database":
            getattr(contents, kind)[name] = sha
    if listed.get(manifest.database_file) != manifest.database_sha256:
        raise BackupInvalid("the database dump's SHA-256 differs between the manifest and sums")
    if len(contents.objects) != manifest.object_count:
        raise BackupInvalid(
            f"the manifest counts {manifest.object_count} objects, {SUMS} lists "
            f"{len(contents.objects)}"
        )
    if len(contents.witness) != manifest.witness_files:
        raise BackupInvalid("the witness files listed differ from the manifest's count")
    _check_files(folder, listed, manifest)
    return contents


def _check_files(folder: Path, listed: dict[str, str], manifest: Manifest) -> None:
    present = {path.relative_to(folder).as_posix() for path in folder.rglob("*") if path.is_file()}
    present -= {MANIFEST, SUMS}
    extra = present - listed.keys()
    if extra:
        raise BackupInvalid(
            f"{len(extra)} file(s) in the backup are not in {SUMS}, e.g. {min(extra)}"
        )
    total = 0
    for path, sha in sorted(listed.items()):
        target = folder / path
        if not target.is_file():
            raise BackupInvalid(f"{path} is missing from the backup")
        if file_sha256(target) != sha:
            raise BackupInvalid(f"{path} was altered or damaged: its SHA-256 does not match")
        if path.startswith("objects/"):
            total += target.stat().st_size
    if total != manifest.object_bytes:
        raise BackupInvalid("the objects' total size differs from the manifest's")
