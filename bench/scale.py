"""The person's pages, the desk, proofs and checkpoints at national scale, on PostgreSQL.

A benchmark, not a test (pytest collects only tests/; tests/locker/test_scale_bench.py runs
it at a toy size). See bench/README.md "## scale" for the figures.

Fills a database with COPY at a fraction of the national target (350k persons, 7M papers,
35M audit records and their Merkle tree; a tenth by default) and a baseline database of
about 1,000 audit records, in the same command, then times each measure on both, the two
alternately: the first page of a person's list (`page_documents_for`, its 50 titles
decrypted), the access log page (the two reads `/access-log` makes), the desk's person
search and first page, an inclusion proof at a random index, and a checkpoint signature.
Goal: p95 <= 50 ms at scale, and <= 5 x the baseline's p95.

    .venv/bin/python bench/scale.py                   # a tenth: 35k persons, 3.5M records
    .venv/bin/python bench/scale.py --fraction 0.01 --samples 50 --explain
    .venv/bin/python bench/scale.py --reuse           # measure again, no generation

The databases are named `locker_scale_<persons>` on the server of LOCKER_TEST_PG_URL (or
postgresql://postgres@127.0.0.1:5432/postgres); `--drop` removes them at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from crypto.keyring import LocalKeyring, create_keyfile  # noqa: E402
from crypto.keys import encrypt_field, generate_key, wrap_key  # noqa: E402
from locker import documents as core  # noqa: E402
from locker.accounts import person_key_aad, seal_person_key  # noqa: E402
from locker.actors import Actor  # noqa: E402
from locker.audit import AuditEvent, canonical_bytes, leaf_hash  # noqa: E402
from locker.checkpoints import make_checkpoint  # noqa: E402
from locker.context import RequestContext  # noqa: E402
from locker.db import make_engine, make_session_factory  # noqa: E402
from locker.merkle import TreeBuilder  # noqa: E402
from locker.proofs import inclusion_proof, tree_size  # noqa: E402
from locker.schema import upgrade_schema  # noqa: E402
from locker.storage.local import LocalFolderStore  # noqa: E402
from sharing import desk  # noqa: E402
from sharing.audit_log import read_access_log_for  # noqa: E402
from sharing.documents import page_documents_for  # noqa: E402

NATIONAL = {"persons": 350_000, "papers": 7_000_000, "records": 35_000_000}
PAPERS_PER_PERSON = NATIONAL["papers"] // NATIONAL["persons"]  # 20
RECORDS_PER_PERSON = NATIONAL["records"] // NATIONAL["persons"]  # 100
CASELOAD = 70  # list entries per professional (two per person: a referent and another)
MEASURED = 8  # persons with real keys and titles, whose pages are timed
MEASURED_PAPERS = 60  # more than a page
MEASURED_RECORDS = 1_000  # a busy locker: ten times the average
FIRST = ["Amina", "Jean", "Fatou", "Ali", "Marie", "Omar", "Sofia", "Karim", "Nadia", "Paul"]
LAST = ["Martin", "Diallo", "Haddad", "Nguyen", "Rossi", "Kaya", "Petit", "Sow", "Moreau", "Said"]
CATEGORIES = ["identity", "residence", "income_benefits", "health", "housing", "other"]
YEAR = timedelta(days=365)
MEASURES = (
    "person's list, first page",
    "access log page",
    "desk, person search",
    "desk, first page",
    "inclusion proof",
    "checkpoint signature",
)
Row = tuple[Any, ...]


@dataclass(frozen=True)
class Dataset:
    """What the measures need to find in a generated database."""

    url: str
    persons: list[str]  # the measured persons' ids
    professional: tuple[str, str]  # the measured professional's id and organisation
    search: str  # a search that finds a few of their persons
    keyfile: str


def admin_url() -> str:
    return os.environ.get(
        "LOCKER_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    )


def libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def new_id() -> str:
    return str(uuid.uuid4())


class Generator:
    """Rows for one database, streamed to COPY; ids kept only as far as later rows need."""

    def __init__(self, persons: int, records: int, keyring: LocalKeyring, seed: int) -> None:
        self.rng = random.Random(seed)
        self.keyring = keyring
        self.persons = [new_id() for _ in range(persons)]
        self.measured = self.rng.sample(range(persons), min(MEASURED, persons))
        self.keys: dict[int, bytes] = {}  # measured person index -> person key
        professionals = max(2, persons * 2 // CASELOAD)
        self.organizations = [new_id() for _ in range(max(1, professionals // 20))]
        self.professionals = [new_id() for _ in range(professionals)]
        self.records = records
        self.papers: list[list[str]] = []
        self.members: list[tuple[str, int]] = []  # (referent's member id, professional index)
        self.start = datetime.now(UTC) - YEAR

    def organization_rows(self) -> Iterator[Row]:
        for number, org in enumerate(self.organizations):
            yield org, f"Structure {number}", self.start

    def professional_rows(self) -> Iterator[Row]:
        for number, pro in enumerate(self.professionals):
            org = self.organizations[number % len(self.organizations)]
            yield (
                pro,
                org,
                f"pro{number}@bench.test",
                f"Pro {number}",
                "x",
                "professional",
                self.start,
            )

    def person_rows(self) -> Iterator[Row]:
        for number, person in enumerate(self.persons):
            wrapped = self.rng.randbytes(100)
            if number in self.measured:
                key = generate_key()
                self.keys[number] = key
                sealed = self.keyring.wrap(key, person_key_aad(person))
                wrapped = seal_person_key(self.keyring, person, sealed)
            name = f"{self.rng.choice(FIRST)} {self.rng.choice(LAST)}"
            yield person, f"p{number}", name, "x", wrapped, self.start, "fr"

    def member_rows(self) -> Iterator[Row]:
        """Two live entries per person; persons come in caseloads, so a professional's
        list is a run of persons (each is also the second of another run's)."""
        count = len(self.professionals)
        for number, person in enumerate(self.persons):
            referent = (number * 2 // CASELOAD) % count
            other = (referent + 1) % count
            member = new_id()
            self.members.append((member, referent))
            yield member, person, self.professionals[referent], "suivi", "active", True, self.start
            yield new_id(), person, self.professionals[other], "accès", "active", False, self.start

    def document_rows(self) -> Iterator[Row]:
        for number, person in enumerate(self.persons):
            count = MEASURED_PAPERS if number in self.keys else self.rng.randint(5, 35)
            ids = [new_id() for _ in range(count)]
            self.papers.append(ids)
            for document in ids:
                yield self._document(number, person, document)

    def _document(self, number: int, person: str, document: str) -> Row:
        created = self.start + self.rng.random() * YEAR
        key = self.keys.get(number)
        if key is None:  # never decrypted by a measure: random bytes of the right sizes
            wrapped, title, filename = (self.rng.randbytes(n) for n in (60, 50, 40))
        else:
            data_key = generate_key()
            wrapped = wrap_key(key, data_key, core._aad("data-key", document, 1))
            title = encrypt_field(data_key, b"Attestation CAF", core._field_aad("title", document))
            filename = encrypt_field(data_key, b"scan.jpg", core._field_aad("filename", document))
        return (
            document, person, 1, uuid.uuid4().hex, wrapped, title, filename,
            self.rng.choice(CATEGORIES), "image/jpeg", 400_000, created, "person", person,
        )  # fmt: skip

    def grant_rows(self) -> Iterator[Row]:
        """About a third of each person's papers shared with their referent."""
        for number, person in enumerate(self.persons):
            member = self.members[number][0]
            for document in self.papers[number]:
                if self.rng.random() < 0.3:
                    yield new_id(), person, member, document, "person", self.start

    def record_rows(self, on_node: Callable[[int, int, bytes], None]) -> Iterator[Row]:
        """The audit log in sequence order; each leaf and completed subtree goes to on_node."""
        tree = TreeBuilder()
        busy = len(self.measured) * MEASURED_RECORDS / max(1, self.records)
        step = YEAR / max(1, self.records)
        for seq in range(self.records):
            if self.rng.random() < busy:
                number = self.rng.choice(self.measured)
            else:
                number = self.rng.randrange(len(self.persons))
            at = self.start + step * seq
            record = self._event(number)
            canonical = canonical_bytes(seq, at, record)
            leaf = leaf_hash(canonical)
            on_node(0, seq, leaf)
            tree.push(leaf, on_node)
            actor = record.actor
            yield (
                seq, at, actor.kind, actor.id, None, record.person_id, record.document_id,
                record.action, record.outcome, record.reason, canonical, leaf,
            )  # fmt: skip
        self.tree = tree

    def _event(self, number: int) -> AuditEvent:
        """Mostly the person's own opens (their own list views are not recorded); a fifth
        by the professionals around them."""
        person, papers = self.persons[number], self.papers[number]
        referent = Actor(kind="professional", id=self.professionals[self.members[number][1]])
        draw = self.rng.random()
        paper = self.rng.choice(papers)
        own = _person(person)
        if draw < 0.55:
            return AuditEvent("document:preview", "allowed", "owner", own, person, paper)
        if draw < 0.75:
            return AuditEvent("document:read", "allowed", "owner", own, person, paper)
        if draw < 0.80:
            return AuditEvent("document:upload", "allowed", "owner", own, person, paper)
        if draw < 0.88:
            return AuditEvent("person:list_documents", "allowed", "member", referent, person)
        if draw < 0.96:
            return AuditEvent("document:read", "allowed", "grant", referent, person, paper)
        return AuditEvent("document:read", "denied", "no_grant", referent, person, paper)


def _person(person_id: str) -> Actor:
    return Actor(kind="person", id=person_id)


def generate(url: str, persons: int, records: int, keyfile: Path, seed: int) -> Dataset:
    """Create the database, migrate it, fill it with COPY; print what each step took."""
    admin = libpq(admin_url())
    name = make_url(url).database
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    engine = make_engine(url)
    upgrade_schema(engine)
    engine.dispose()
    create_keyfile(keyfile)
    source = Generator(persons, records, LocalKeyring.load(keyfile), seed)
    started = time.perf_counter()
    with psycopg.connect(libpq(url)) as conn, psycopg.connect(libpq(url)) as tree_conn:
        conn.execute("SET synchronous_commit = off")
        indexes = _drop_secondary_indexes(conn)
        tables: list[tuple[str, str, Callable[[], Iterator[Row]]]] = [
            ("organizations", "id, name, created_at", source.organization_rows),
            (
                "professionals",
                "id, organization_id, email, display_name, password_hash, role, created_at",
                source.professional_rows,
            ),
            (
                "persons",
                "id, username, display_name, password_hash, wrapped_person_key, created_at, "
                "language",
                source.person_rows,
            ),
            (
                "accompaniment_members",
                "id, person_id, professional_id, mission, status, referent, created_at",
                source.member_rows,
            ),
            (
                "documents",
                "id, person_id, version, object_key, wrapped_data_key, title_ciphertext, "
                "filename_ciphertext, category, content_type, size, created_at, "
                "uploaded_by_kind, uploaded_by_id",
                source.document_rows,
            ),
            (
                "grants",
                "id, person_id, member_id, document_id, origin, created_at",
                source.grant_rows,
            ),
        ]
        for table, columns, rows in tables:
            count = _copy(conn, table, columns, rows())
            _step(started, f"{table}: {count:,} rows")
        with tree_conn.cursor().copy(
            "COPY audit_tree_nodes (level, position, hash) FROM STDIN"
        ) as nodes:
            count = _copy(
                conn,
                "audit_records",
                "seq, at, actor_kind, actor_id, on_behalf_of, person_id, document_id, action, "
                "outcome, reason, canonical, leaf_hash",
                source.record_rows(lambda lv, pos, digest: nodes.write_row((lv, pos, digest))),
            )
        tree_conn.commit()
        _step(started, f"audit_records: {count:,} rows, tree: {2 * count - 1:,} nodes or so")
        conn.execute(
            "UPDATE audit_log_state SET size = %s, frontier = %s WHERE id = 1",
            (source.tree.size, source.tree.frontier()),
        )
        for statement in indexes:
            conn.execute(statement)
        conn.commit()
        _step(started, f"{len(indexes)} secondary indexes built")
    with psycopg.connect(libpq(url), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    _step(started, "vacuum analyze")
    referent = source.members[source.measured[0]][1]
    pro = source.professionals[referent]
    dataset = Dataset(
        url=url,
        persons=[source.persons[n] for n in source.measured],
        professional=(pro, source.organizations[referent % len(source.organizations)]),
        search=_search(url, pro),
        keyfile=str(keyfile),
    )
    keyfile.with_suffix(".dataset.json").write_text(json.dumps(dataset.__dict__))
    return dataset


def _search(url: str, pro: str) -> str:
    """A last name of one of the professional's persons (a search finds a tenth of them)."""
    with psycopg.connect(libpq(url)) as conn:
        row = conn.execute(
            "SELECT p.display_name FROM accompaniment_members m JOIN persons p "
            "ON p.id = m.person_id WHERE m.professional_id = %s LIMIT 1",
            (pro,),
        ).fetchone()
    assert row is not None
    return str(row[0]).split()[-1][:4].lower()


def _drop_secondary_indexes(conn: psycopg.Connection[Any]) -> list[str]:
    """Drop the plain indexes of the tables about to be filled (built again after: one sort
    instead of millions of random inserts); keys and unique constraints stay."""
    rows = conn.execute(
        "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.schemaname = 'public' "
        "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)"
    ).fetchall()
    for index_name, _ in rows:
        conn.execute(f'DROP INDEX "{index_name}"')
    return [definition for _, definition in rows]


def _copy(conn: psycopg.Connection[Any], table: str, columns: str, rows: Iterator[Row]) -> int:
    count = 0
    with conn.cursor().copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
            count += 1
    return count


def _step(started: float, what: str) -> None:
    print(f"  {time.perf_counter() - started:7.1f} s  {what}", flush=True)


class Measures:
    """Each measure as a callable on one database, each call in a fresh session (as a
    request), rolled back: the database stays as generated."""

    def __init__(self, dataset: Dataset, workdir: Path) -> None:
        self.engine = make_engine(dataset.url)
        self.sessions = make_session_factory(self.engine)
        self.keyring = LocalKeyring.load(Path(dataset.keyfile))
        self.store = LocalFolderStore(workdir / "objects")
        self.dataset = dataset
        self.rng = random.Random(7)
        with self.sessions() as session:
            self.size = tree_size(session)

    def _ctx(self, session: Any, actor: Actor) -> RequestContext:
        return RequestContext(
            session=session,
            session_factory=self.sessions,
            store=self.store,
            keyring=self.keyring,
            clock=lambda: datetime.now(UTC),
            actor=actor,
            fresh_factor=True,
        )

    def _person(self) -> str:
        return self.rng.choice(self.dataset.persons)

    def _professional(self) -> Actor:
        pro, org = self.dataset.professional
        return Actor(kind="professional", id=pro, organization_id=org, role="professional")

    def person_list(self) -> None:
        person = self._person()
        with self.sessions() as session:
            page = page_documents_for(self._ctx(session, _person(person)), person_id=person)
            assert len(page.documents) == 50 and page.documents[0].title == "Attestation CAF"

    def access_log(self) -> None:
        person = self._person()
        with self.sessions() as session:
            ctx = self._ctx(session, _person(person))
            mine = read_access_log_for(ctx, person_id=person, limit=200, by="self")
            named = [entry.document_id or "" for entry in mine.entries]
            read_access_log_for(
                ctx, person_id=person, limit=50, with_documents=True, also_name=named, by="others"
            )

    def desk_search(self) -> None:
        with self.sessions() as session:
            ctx = self._ctx(session, self._professional())
            assert desk.desk_persons(ctx, query=self.dataset.search).total > 0

    def desk_page(self) -> None:
        with self.sessions() as session:
            assert desk.desk_persons(self._ctx(session, self._professional())).rows

    def proof(self) -> None:
        index = self.rng.randrange(self.size)
        with self.sessions() as session:
            assert inclusion_proof(session, index, self.size).hashes or self.size == 1

    def checkpoint(self) -> None:
        with self.sessions() as session:
            key = self.keyring.audit_signing_key()
            make_checkpoint(session, key, lambda: datetime.now(UTC), "bench.test/audit")
            session.rollback()

    def all(self) -> dict[str, Callable[[], None]]:
        acts = (
            self.person_list,
            self.access_log,
            self.desk_search,
            self.desk_page,
            self.proof,
            self.checkpoint,
        )
        return dict(zip(MEASURES, acts, strict=True))


def explain(engine: Engine, measure: Callable[[], None]) -> list[str]:
    """EXPLAIN (ANALYZE, BUFFERS) of each distinct query one call of `measure` reads with."""
    sent: dict[str, Any] = {}

    def note(conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool) -> None:
        if statement.lstrip().upper().startswith(("SELECT", "WITH")) and statement not in sent:
            sent[statement] = params

    event.listen(engine, "before_cursor_execute", note)
    try:
        measure()
    finally:
        event.remove(engine, "before_cursor_execute", note)
    plans = []
    with engine.connect() as conn:
        for statement, params in sent.items():
            rows = conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement, params)
            plan = "\n".join(row[0] for row in rows)
            plans.append(f"{' '.join(statement.split())}\n{plan}")
        conn.rollback()
    return plans


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def timed(act: Callable[[], None]) -> float:
    started = time.perf_counter()
    act()
    return (time.perf_counter() - started) * 1000


def measure_both(large: Measures, small: Measures, samples: int) -> list[dict[str, Any]]:
    """p50 and p95 of every measure on both databases, timed alternately."""
    results = []
    for (name, big), little in zip(large.all().items(), small.all().values(), strict=True):
        for _ in range(min(10, samples)):  # warm-up: caches, pool, the first plans
            big(), little()
        times: tuple[list[float], list[float]] = ([], [])
        for _ in range(samples):
            times[0].append(timed(big))
            times[1].append(timed(little))
        row = {
            "measure": name,
            "p50": statistics.median(times[0]),
            "p95": percentile(times[0], 0.95),
            "base_p50": statistics.median(times[1]),
            "base_p95": percentile(times[1], 0.95),
        }
        row["ratio"] = row["p95"] / row["base_p95"]
        results.append(row)
    return results


def dataset_for(
    persons: int, records: int, workdir: Path, *, reuse: bool, seed: int, name: str
) -> Dataset:
    url = make_url(admin_url()).set(database=name).render_as_string(hide_password=False)
    keyfile = workdir / f"{name}.keyring.json"
    saved = keyfile.with_suffix(".dataset.json")
    if reuse and saved.exists():
        return Dataset(**json.loads(saved.read_text()))
    return generate(url, persons, records, keyfile, seed)


def drop(dataset: Dataset) -> None:
    with psycopg.connect(libpq(admin_url()), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{make_url(dataset.url).database}"')


def run(
    fraction: float,
    *,
    baseline_persons: int,
    samples: int,
    workdir: Path,
    reuse: bool = False,
    plans: bool = False,
    generate_only: bool = False,
    prefix: str = "locker_scale",
    drop_after: bool = False,
) -> list[dict[str, Any]]:
    """Generate (or reuse) both databases and measure; return the figures."""
    workdir.mkdir(parents=True, exist_ok=True)
    persons = max(MEASURED, round(NATIONAL["persons"] * fraction))
    records = max(persons * 2, round(NATIONAL["records"] * fraction))
    print(f"scale: {persons:,} persons, ~{persons * PAPERS_PER_PERSON:,} papers, "
          f"{records:,} audit records (fraction {fraction} of the national target)")  # fmt: skip
    large = dataset_for(persons, records, workdir, reuse=reuse, seed=1, name=f"{prefix}_{persons}")
    base_records = baseline_persons * RECORDS_PER_PERSON
    print(f"baseline: {baseline_persons} persons, {base_records:,} audit records")
    small = dataset_for(
        baseline_persons,
        base_records,
        workdir,
        reuse=reuse,
        seed=2,
        name=f"{prefix}_base_{baseline_persons}",
    )
    if generate_only:
        return []
    big, little = Measures(large, workdir), Measures(small, workdir)
    try:
        if plans:
            for name, measure in big.all().items():
                print(f"\n### {name}: plans at scale\n")
                for plan in explain(big.engine, measure):
                    print(plan, "\n")
        return measure_both(big, little, samples)
    finally:
        big.engine.dispose()
        little.engine.dispose()
        if drop_after:
            drop(large)
            drop(small)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fraction", type=float, default=0.1, help="of the national target")
    parser.add_argument("--baseline-persons", type=int, default=10, help="100 records each")
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/locker-scale-bench"))
    parser.add_argument("--reuse", action="store_true", help="keep the generated databases")
    parser.add_argument("--explain", action="store_true", help="print EXPLAIN ANALYZE plans")
    parser.add_argument("--generate-only", action="store_true", help="then stop (see --reuse)")
    parser.add_argument("--drop", action="store_true", help="drop both databases at the end")
    args = parser.parse_args()
    results = run(
        args.fraction,
        baseline_persons=args.baseline_persons,
        samples=args.samples,
        workdir=args.workdir,
        reuse=args.reuse,
        plans=args.explain,
        generate_only=args.generate_only,
        drop_after=args.drop,
    )
    print("\n| measure | p50 ms | p95 ms | baseline p50 / p95 ms | p95 ratio (goal <= 5) |")
    print("|---|---|---|---|---|")
    for row in results:
        print(
            f"| {row['measure']} | {row['p50']:.1f} | {row['p95']:.1f} | "
            f"{row['base_p50']:.1f} / {row['base_p95']:.1f} | {row['ratio']:.2f} |"
        )


if __name__ == "__main__":
    main()
