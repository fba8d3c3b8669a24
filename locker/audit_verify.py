"""Verify the whole audit log: records, tree, signed checkpoints and the witness copies.

One streaming pass in leaf order: each record's canonical bytes must decode to its own
columns and sequence number and hash to its stored leaf hash and to the tree's copy;
the tree is recomputed from the records and every stored subtree compared; the roots
at every checkpointed size are compared with the signed ones, from the database and
from the witness folder. Memory stays O(log n) whatever the log's length.

A clean log is proven by `_scan_clean`, which does every one of those checks block by
block at close to the cost of reading the rows; at its first disagreement the
record-by-record pass (`_recompute`) runs instead, to name what is wrong, and the report
says so (`record_by_record`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Connection, select, text

from locker.access_log import EXPORT_COLUMNS
from locker.audit_models import AuditCheckpoint
from locker.checkpoints import as_utc, open_checkpoint, witness_notes
from locker.errors import CheckpointInvalid
from locker.merkle import EMPTY_ROOT, edge_levels, edge_root

MAX_PROBLEMS = 20

# The clean-log pass works on blocks of 2**BLOCK_LEVEL aligned leaves: every complete
# subtree inside a block is computed level by level in list comprehensions and compared
# with the stored level as a whole list, so the per-record work is one hash and a few
# C-level comparisons. Higher levels (one node per block and up) use the right edge.
BLOCK_LEVEL = 14
_BATCH = 10_000
# A record's stored fields after its sequence number and time, as the export names them.
_COLUMNS = EXPORT_COLUMNS[2:]


@dataclass
class VerifyReport:
    """What verification found; `first_bad_record` names the earliest record at fault."""

    tree_size: int = 0
    checkpoints_checked: int = 0
    witness_checked: int = 0
    problems: list[str] = field(default_factory=list)
    first_bad_record: int | None = None
    # The block-wise pass met a disagreement: the record-by-record pass ran to name it.
    record_by_record: bool = False

    @property
    def ok(self) -> bool:
        """True when nothing at all was found wrong."""
        return not self.problems

    def record_problem(self, seq: int, what: str) -> None:
        """Note a faulty record (the first one is the one to name)."""
        if self.first_bad_record is None or seq < self.first_bad_record:
            self.first_bad_record = seq
        self.problem(f"record {seq}: {what}")

    def problem(self, what: str) -> None:
        """Note anything wrong (the list stays short; the first entries matter most)."""
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(what)


def _cursor(conn: Connection, sql: str, name: str, binary: bool = False) -> Any:
    """A raw driver cursor streaming `sql` (server-side on PostgreSQL): verification reads
    every row once, so the per-row cost is kept to the driver's own."""
    driver: Any = conn.connection.driver_connection
    if conn.dialect.name == "postgresql":
        # Binary results: bytea arrives as bytes with no hex decoding.
        cursor = driver.cursor(name=name, binary=binary)
        cursor.itersize = _BATCH
    else:
        cursor = driver.cursor()
    cursor.execute(sql)
    return cursor


def _rows(conn: Connection, sql: str, name: str) -> Iterator[Any]:
    """Rows in batches: plain list iteration, no per-row driver call."""
    cursor = _cursor(conn, sql, name)
    while batch := cursor.fetchmany(_BATCH):
        yield from batch


class _StoredLevels:
    """One ordered cursor per tree level, advanced in step with the recomputation."""

    def __init__(self, conn: Connection, prefix: str = "audit_level") -> None:
        self.conn = conn
        self.prefix = prefix
        self.cursors: dict[int, Iterator[Any]] = {}

    def next(self, level: int) -> Any:
        cursor = self.cursors.get(level)
        if cursor is None:
            sql = _LEVEL_SQL.format(level=int(level))
            cursor = iter(_rows(self.conn, sql, f"{self.prefix}_{int(level)}"))
            self.cursors[level] = cursor
        return next(cursor, None)


def _as_utc(value: Any) -> datetime:
    stamp = as_utc(value)
    if stamp is None:
        raise TypeError("not a time")
    return stamp


# What a hostile value in a row can raise while it is judged: verify names the record
# instead of stopping with a traceback, whatever the database hands back.
_BAD_VALUE = (ValueError, TypeError, KeyError, AttributeError, OverflowError, UnicodeError)
WRONG_TYPE = "a column holds a value of the wrong type"


def _as_bytes(value: Any) -> bytes | None:
    """A binary column's value, or None when the row holds something else there."""
    if isinstance(value, bytes):
        return value
    if isinstance(value, memoryview | bytearray):
        return bytes(value)
    return None


def _content_mismatch(row: Any, seq: int) -> str | None:
    """Why a record's columns disagree with its canonical bytes (None if they agree)."""
    try:
        return _columns_mismatch(row, seq)
    except _BAD_VALUE:
        return WRONG_TYPE


def _columns_mismatch(row: Any, seq: int) -> str | None:
    try:
        decoded = json.loads(row[10])
        if not isinstance(decoded, dict):
            raise ValueError("not an object")
        stamp = datetime.fromisoformat(decoded["at"])
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        return "its canonical bytes are not a record"
    if decoded.get("seq") != seq:
        return f"its content belongs at position {decoded.get('seq')} (moved or reordered)"
    if tuple(map(decoded.get, _COLUMNS)) != tuple(row[2:10]):
        for name, value in zip(_COLUMNS, row[2:10], strict=True):
            if decoded.get(name) != value:
                return f"its {name} column was altered"
    if stamp != _as_utc(row[1]):
        return "its time column was altered"
    return None


_RECORD_COLUMNS_SQL = (
    "SELECT r.seq, r.at, r.action, r.outcome, r.reason, r.actor_kind, r.actor_id, "
    "r.on_behalf_of, r.person_id, r.document_id, r.canonical, r.leaf_hash, n.hash, {check} "
    "FROM audit_records r LEFT JOIN audit_tree_nodes n ON n.level = 0 AND n.position = r.seq "
    "ORDER BY r.seq"
)
# PostgreSQL rebuilds each record's canonical bytes from its columns, in C, row by row.
# Sound only without escapes: no backslash in the bytes and no quote in any value, so
# each value is its own JSON text. Anything else is judged by _content_mismatch.
_PG_COLUMNS_MATCH = (
    "(position('\\x5c'::bytea in r.canonical) = 0 "
    "AND strpos(concat(r.action, r.outcome, r.reason, r.actor_kind, r.actor_id, "
    "r.on_behalf_of, r.person_id, r.document_id), '\"') = 0 "
    "AND r.canonical = convert_to("
    '\'{"action":"\' || r.action || \'","actor_id":\' '
    "|| coalesce('\"' || r.actor_id || '\"', 'null') "
    '|| \',"actor_kind":"\' || r.actor_kind || \'","at":"\' '
    "|| to_char(r.at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') "
    "|| '\",\"document_id\":' || coalesce('\"' || r.document_id || '\"', 'null') "
    "|| ',\"on_behalf_of\":' || coalesce('\"' || r.on_behalf_of || '\"', 'null') "
    '|| \',"outcome":"\' || r.outcome || \'","person_id":\' '
    "|| coalesce('\"' || r.person_id || '\"', 'null') "
    "|| ',\"reason\":\"' || r.reason || '\",\"seq\":' || r.seq || ',\"v\":1}', 'UTF8'))"
)


def verify_log(
    conn: Connection,
    public_key: Ed25519PublicKey,
    origin: str,
    witness_dir: Path | None,
    more_witness_dirs: tuple[Path, ...] = (),
    more_witness_notes: Sequence[tuple[str, str]] = (),
    *,
    block_level: int = BLOCK_LEVEL,
) -> VerifyReport:
    """Check everything; the report names the first record that does not match.

    Every checkpoint on every witness (`witness_dir` and any older folder still kept)
    must agree with the records. The clean-log pass reads blocks of 2**`block_level`
    records (tests make them small, so that a few records cross blocks).
    """
    report = VerifyReport()
    wanted: dict[int, list[tuple[str, bytes]]] = {}
    checkpoints = select(
        AuditCheckpoint.tree_size, AuditCheckpoint.root_hash, AuditCheckpoint.note
    ).order_by(AuditCheckpoint.tree_size)
    for tree_size, root_hash, note in conn.execute(checkpoints):
        where = f"checkpoint {tree_size!r} (database)"
        try:
            head = open_checkpoint(note, origin, public_key)
        except (CheckpointInvalid, *_BAD_VALUE) as exc:
            report.problem(f"{where}: {exc if isinstance(exc, CheckpointInvalid) else WRONG_TYPE}")
            continue
        if head.tree_size != tree_size or head.root_hash != _as_bytes(root_hash):
            report.problem(f"{where}: its columns differ from its signed note")
        wanted.setdefault(head.tree_size, []).append((where, head.root_hash))
    folders = [witness_dir, *more_witness_dirs] if witness_dir is not None else []
    in_folders = [(path.name, note) for folder in folders for path, note in witness_notes(folder)]
    for name, note in [*in_folders, *more_witness_notes]:
        where = f"checkpoint {name} (witness)"
        try:
            head = open_checkpoint(note, origin, public_key)
        except CheckpointInvalid as exc:
            report.problem(f"{where}: {exc}")
            continue
        report.witness_checked += 1
        wanted.setdefault(head.tree_size, []).append((where, head.root_hash))
    for size, claims in wanted.items():
        if len({root for _, root in claims}) > 1:
            report.problem(f"forked history: two different signed roots for tree size {size}")

    try:
        fast = _scan_clean(conn, set(wanted), block_level)
    except _BAD_VALUE:
        fast = None  # a value of the wrong type somewhere: the careful pass names it
    if fast is not None:
        report.tree_size, roots = fast
    else:  # something is wrong: the record-by-record pass names it
        report.record_by_record = True
        roots = _recompute(conn, report, set(wanted))
    for size, claims in sorted(wanted.items()):
        for where, root in claims:
            if where.endswith("(database)"):
                report.checkpoints_checked += 1
            if size > report.tree_size:
                report.problem(
                    f"{where}: signed {size} records but the log holds {report.tree_size} "
                    f"(records {report.tree_size} and after were removed)"
                )
                if report.first_bad_record is None or report.first_bad_record > report.tree_size:
                    report.first_bad_record = report.tree_size
            elif roots.get(size) != root:
                report.problem(f"{where}: the records up to {size} do not give its root")
    return report


def _recompute(conn: Connection, report: VerifyReport, sizes: set[int]) -> dict[int, bytes]:
    """Stream records (with the tree's copy of each leaf) and the stored subtrees together;
    return the recomputed roots at `sizes`."""
    stored = _StoredLevels(conn)
    # The tree's right edge, built inline (this loop runs once per record).
    edge: list[tuple[int, bytes]] = []
    roots: dict[int, bytes] = {0: EMPTY_ROOT}
    tree_ok = True

    def node_mismatch(level: int, position: int) -> None:
        nonlocal tree_ok
        tree_ok = False
        first = position << level
        report.problem(
            f"tree node ({level}, {position}) over records {first}.."
            f"{first + (1 << level) - 1} does not match them"
        )

    sha256 = hashlib.sha256
    expected = 0
    check = _PG_COLUMNS_MATCH if conn.dialect.name == "postgresql" else "0"
    records_sql = _RECORD_COLUMNS_SQL.format(check=check)
    for row in _rows(conn, records_sql, "audit_records_verify"):
        well_typed = type(row[0]) is int
        seq = row[0] if well_typed else expected
        if seq != expected:
            report.record_problem(expected, "missing (deleted from the log)")
            expected = seq
        canonical, stored_leaf, tree_leaf = map(_as_bytes, row[10:13])
        if canonical is None or stored_leaf is None or (row[12] is not None and not tree_leaf):
            well_typed = False
        if not well_typed:
            report.record_problem(seq, WRONG_TYPE)
            # Keep the tree going with what can be read: the roots will not match anyway.
            leaf = tree_leaf or stored_leaf or sha256(b"\x00" + (canonical or b"")).digest()
        else:
            assert canonical is not None
            leaf = sha256(b"\x00" + canonical).digest()
        if well_typed and leaf != stored_leaf:
            report.record_problem(seq, "its canonical bytes were altered (leaf hash differs)")
        elif well_typed and not row[13]:
            mismatch = _content_mismatch(row, seq)
            if mismatch is not None:
                report.record_problem(seq, mismatch)
        if row[12] is None:
            report.record_problem(seq, "not in the Merkle tree (inserted outside the log)")
        elif tree_leaf != leaf:
            report.record_problem(seq, "does not match the tree's copy of its leaf")
        level, current = 0, leaf
        while edge and edge[-1][0] == level:
            current = sha256(b"\x01" + edge.pop()[1] + current).digest()
            level += 1
            found = stored.next(level)
            position = ((expected + 1) >> level) - 1
            if tree_ok and (found is None or found[1] != current or found[0] != position):
                node_mismatch(level, position)
        edge.append((level, current))
        expected += 1
        if expected in sizes:
            roots[expected] = edge_root([digest for _, digest in edge])
    leaves_end, state_agrees = _tail_agrees(conn, expected, edge)
    if not leaves_end:
        report.record_problem(expected, "missing (deleted from the log)")
    if not state_agrees:
        report.problem("the log's state row does not match the records (appends would fork)")
    report.tree_size = expected
    return roots


_FAST_RECORDS_SQL = (
    "SELECT r.seq, r.canonical, r.leaf_hash, {check} FROM audit_records r ORDER BY r.seq"
)
_LEVEL_SQL = "SELECT position, hash FROM audit_tree_nodes WHERE level = {level} ORDER BY position"
_BLOCK_ROWS_SQL = (
    "SELECT r.seq, r.at, r.action, r.outcome, r.reason, r.actor_kind, r.actor_id, "
    "r.on_behalf_of, r.person_id, r.document_id, r.canonical "
    "FROM audit_records r WHERE r.seq BETWEEN {first} AND {last} ORDER BY r.seq"
)


def _tail_agrees(conn: Connection, size: int, edge: list[tuple[int, bytes]]) -> tuple[bool, bool]:
    """Whether the tree has no leaf past `size` records, and whether the log's state row
    holds that size and the right edge `edge`."""
    last = conn.execute(
        text("SELECT max(position) FROM audit_tree_nodes WHERE level = 0")
    ).scalar_one_or_none()
    state = conn.execute(text("SELECT size, frontier FROM audit_log_state WHERE id = 1")).first()
    frontier = b"".join(digest for _, digest in edge)
    state_agrees = state is not None and (state[0], _as_bytes(state[1])) == (size, frontier)
    return last is None or last < size, state_agrees


def _columns_agree(conn: Connection, first: int, last: int, unchecked: set[int]) -> bool:
    """Judge in Python the records the database could not (escapes, or SQLite)."""
    sql = _BLOCK_ROWS_SQL.format(first=int(first), last=int(last))
    cursor = _cursor(conn, sql, "audit_block_columns")
    try:
        while batch := cursor.fetchmany(_BATCH):
            for row in batch:
                if row[0] in unchecked and _content_mismatch(row, row[0]) is not None:
                    return False
        return True
    finally:
        cursor.close()


def _stored_levels_match(stored: list[Any], start: int, levels: list[list[bytes]]) -> bool:
    """Compare a block's subtrees with the stored ones, read level by level in order."""
    for level, current in enumerate(levels):
        found = stored[level].fetchmany(len(current)) if current else []
        first = start >> level
        if [row[1] for row in found] != current:
            return False
        if [row[0] for row in found] != list(range(first, first + len(current))):
            return False
    return True


def _scan_clean(
    conn: Connection, sizes: set[int], block_level: int
) -> tuple[int, dict[int, bytes]] | None:
    """Check a log that is presumably intact, at little more than the cost of reading it.

    Returns the tree size and the recomputed roots at `sizes`, or None at the first
    disagreement of any kind (then the record-by-record pass runs to name it). Checks
    exactly what that pass checks: gapless sequence numbers, each leaf hash recomputed
    from the canonical bytes, the columns against those bytes, the tree's copy of every
    leaf and every stored complete subtree, no tree leaf past the end, and the state row.
    """
    pg = conn.dialect.name == "postgresql"
    check = _PG_COLUMNS_MATCH if pg else "0"
    records = _cursor(conn, _FAST_RECORDS_SQL.format(check=check), "audit_scan", binary=True)
    stored = [
        _cursor(conn, _LEVEL_SQL.format(level=level), f"audit_scan_{level}", binary=True)
        for level in range(block_level + 1)
    ]
    upper = _StoredLevels(conn, "audit_scan_upper")
    sha256 = hashlib.sha256
    block = 1 << block_level
    edge: list[tuple[int, bytes]] = []  # complete subtrees of level >= block_level
    roots: dict[int, bytes] = {0: EMPTY_ROOT}
    start = 0
    wanted = sorted(sizes)
    while rows := records.fetchmany(block):
        count = len(rows)
        seqs, canonicals, leaf_hashes, checked = zip(*rows, strict=True)
        if seqs != tuple(range(start, start + count)):
            return None
        current = [sha256(b"\x00" + canonical).digest() for canonical in canonicals]
        if current != list(leaf_hashes):
            return None
        if not all(checked):
            unchecked = {seq for seq, ok in zip(seqs, checked, strict=True) if not ok}
            if not _columns_agree(conn, start, start + count - 1, unchecked):
                return None
        levels = [current]
        for _ in range(block_level):
            pairs = iter(current)
            current = [sha256(b"\x01" + a + b).digest() for a, b in zip(pairs, pairs, strict=False)]
            levels.append(current)
        if not _stored_levels_match(stored, start, levels):
            return None
        edge_parts = [digest for _, digest in edge]
        for size in wanted:
            if start < size <= start + count:
                offset = size - start
                inside = [levels[bit][(offset >> bit) - 1] for bit in edge_levels(offset)]
                roots[size] = edge_root(edge_parts + inside)
        start += count
        if count < block:  # the last, partial block: its complete subtrees end the edge
            edge += [(bit, levels[bit][(count >> bit) - 1]) for bit in edge_levels(count)]
            break
        level, node = block_level, levels[block_level][0]
        while edge and edge[-1][0] == level:
            node = sha256(b"\x01" + edge.pop()[1] + node).digest()
            level += 1
            found_node = upper.next(level)
            if found_node is None or tuple(found_node) != ((start >> level) - 1, node):
                return None
        edge.append((level, node))
    if _tail_agrees(conn, start, edge) != (True, True):
        return None
    return start, roots
