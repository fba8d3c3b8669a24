"""Packs per procedure: which papers a French procedure asks for, which of them the person
has, which are missing; and the whole pack shared with their referent in one step.

A paper is matched to an item by the category it is filed under, or by words of its title
(accents, case and punctuation aside, whole words): "Relevé d'identité bancaire" filed
under "other" still counts as a RIB. The locker cannot read the papers themselves, so a
match is a guess the person checks on the pack's page before showing it anywhere. A paper
counts for every item it matches and no other; papers in the trash never count.

The checklists are data (`PAPERS`, `PROCEDURES`); their words, in the person's language,
are the web layer's (`web/packs/words.py`), keyed by the same stable keys.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property

from locker.context import RequestContext
from locker.documents import CATEGORIES, DocumentView
from locker.errors import NotFound
from locker.models import Document, Person
from sharing.decisions import Action, deny
from sharing.documents import list_documents_for
from sharing.errors import NoReferent
from sharing.grants import create_grant
from sharing.guard import find_person, require, require_person
from sharing.members import MemberView, member_views
from sharing.models import AccompanimentMember
from sharing.policy import decide
from sharing.rights import live_grant


def words_of(text: str) -> str:
    """`text` as the matching compares it: no accents, lower case, only letters and digits,
    each word without a final plural "s" or "x", one space between words and around them."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()
    found = (re.sub(r"(?<=\w{3})[sx]$", "", word) for word in re.findall(r"[^\W_]+", plain))
    return f" {' '.join(found)} "


@dataclass(frozen=True)
class Paper:
    """How a kind of paper is recognised: filed under one of `categories` (whatever its
    title), or titled with one of `words` (whatever its category)."""

    categories: frozenset[str] = frozenset()
    words: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        assert self.categories <= set(CATEGORIES), self.categories

    @cached_property
    def compared(self) -> tuple[str, ...]:
        """The words as titles are compared with them (see `words_of`)."""
        return tuple(words_of(word) for word in self.words)

    def matches(self, category: str, title: str) -> bool:
        """Whether a paper filed under `category` and titled `title` (as `words_of` gives
        it) looks like this kind of paper; a guess the person checks."""
        return category in self.categories or any(word in title for word in self.compared)


IDENTITY = frozenset({"identity"})
ADDRESS_WORDS = ("domiciliation", "élection de domicile", "attestation d'hébergement")
SOCIAL_SECURITY_WORDS = ("vitale", "sécurité sociale", "attestation de droits", "ameli", "cpam")

# Every kind of paper a checklist names, by its stable key.
PAPERS = {
    "identity": Paper(IDENTITY | {"residence_permit"}, ("passeport", "carte d'identité")),
    "passport": Paper(IDENTITY, ("passeport",)),
    "residence_permit": Paper(frozenset({"residence_permit"}), ("récépissé", "titre de séjour")),
    "birth_certificate": Paper(words=("acte de naissance", "extrait de naissance")),
    "address": Paper(frozenset({"housing"}), ADDRESS_WORDS),
    "domiciliation": Paper(words=ADDRESS_WORDS[:2]),
    "local_tie": Paper(words=("scolarité", "attestation d'hébergement", "suivi social")),
    "rib": Paper(words=("rib", "iban", "relevé d'identité bancaire")),
    "social_security": Paper(words=SOCIAL_SECURITY_WORDS),
    "health_rights": Paper(
        words=(*SOCIAL_SECURITY_WORDS, "ame", "aide médicale", "css", "complémentaire santé")
    ),
    "tax_notice": Paper(frozenset({"taxes"}), ("avis d'imposition", "non-imposition", "impôt")),
    "caf": Paper(words=("caf", "allocations familiales", "msa", "allocataire")),
    "income": Paper(
        frozenset({"income_benefits", "work"}),
        ("salaire", "fiche de paie", "indemnités", "pension", "ressources"),
    ),
    "social_housing_request": Paper(
        words=("numéro unique", "logement social", "demande de logement", "hlm")
    ),
    "presence": Paper(words=("visa", "présence en France", "entrée en France")),
    "employer_certificate": Paper(
        words=("attestation employeur", "certificat de travail", "solde de tout compte")
    ),
    "cv": Paper(words=("cv", "curriculum")),
    "diploma": Paper(words=("diplôme", "formation", "caces")),
    "family": Paper(frozenset({"family"}), ("livret de famille", "acte de naissance")),
}

REQUIRED, IF_ANY = True, False
# Each procedure's checklist, in the order a counter asks for the papers: (paper, required).
PROCEDURES: dict[str, tuple[tuple[str, bool], ...]] = {
    # Revenu de solidarité active, asked of the CAF (or the MSA).
    "rsa": (
        ("identity", REQUIRED),
        ("address", REQUIRED),
        ("rib", REQUIRED),
        ("social_security", IF_ANY),
        ("tax_notice", IF_ANY),
        ("caf", IF_ANY),
        ("income", IF_ANY),
        ("family", IF_ANY),
    ),
    # Droit au logement opposable: the appeal to the commission de médiation.
    "dalo": (
        ("identity", REQUIRED),
        ("social_housing_request", REQUIRED),
        ("address", REQUIRED),
        ("tax_notice", REQUIRED),
        ("income", IF_ANY),
        ("family", IF_ANY),
    ),
    # Aide médicale de l'État, or complémentaire santé solidaire, asked of the CPAM.
    "ame_css": (
        ("identity", REQUIRED),
        ("address", REQUIRED),
        ("income", IF_ANY),
        ("presence", IF_ANY),
        ("tax_notice", IF_ANY),
        ("health_rights", IF_ANY),
        ("family", IF_ANY),
    ),
    # An address for one's mail at a CCAS or an approved association (cerfa 15548).
    "domiciliation": (
        ("identity", REQUIRED),
        ("domiciliation", IF_ANY),
        ("local_tie", IF_ANY),
        ("family", IF_ANY),
    ),
    # A first residence permit or its renewal, at the préfecture.
    "titre_sejour": (
        ("passport", REQUIRED),
        ("birth_certificate", REQUIRED),
        ("address", REQUIRED),
        ("residence_permit", IF_ANY),
        ("income", IF_ANY),
        ("family", IF_ANY),
    ),
    # Signing on as a job seeker (France Travail, formerly Pôle emploi).
    "france_travail": (
        ("identity", REQUIRED),
        ("social_security", REQUIRED),
        ("rib", REQUIRED),
        ("employer_certificate", IF_ANY),
        ("cv", IF_ANY),
        ("diploma", IF_ANY),
    ),
}


@dataclass(frozen=True)
class PackItem:
    """One paper a procedure asks for, and the person's papers that look like it."""

    key: str
    required: bool
    papers: tuple[DocumentView, ...]


@dataclass(frozen=True)
class Pack:
    """A procedure's checklist, filled in with the person's papers."""

    procedure: str
    items: tuple[PackItem, ...]

    @property
    def missing(self) -> list[str]:
        """The required items no paper matches."""
        return [item.key for item in self.items if item.required and not item.papers]

    @property
    def needed(self) -> int:
        """How many papers the procedure requires."""
        return sum(item.required for item in self.items)

    @property
    def have(self) -> int:
        """How many of the required papers the person has."""
        return self.needed - len(self.missing)

    @property
    def document_ids(self) -> list[str]:
        """Every matched paper once, in the checklist's order."""
        return list(dict.fromkeys(paper.id for item in self.items for paper in item.papers))


@dataclass(frozen=True)
class SharedPack:
    """What sharing a pack did: who may now open which papers."""

    referent: MemberView
    document_ids: list[str]


def _checklist(procedure: str) -> tuple[tuple[str, bool], ...]:
    found = PROCEDURES.get(procedure)
    if found is None:
        raise NotFound("procedure")
    return found


def _filled(procedure: str, papers: Iterable[DocumentView]) -> Pack:
    titled = [(paper, words_of(paper.title)) for paper in papers]
    items = (
        PackItem(key, required, tuple(p for p, t in titled if PAPERS[key].matches(p.category, t)))
        for key, required in _checklist(procedure)
    )
    return Pack(procedure, tuple(items))


def pack_for(ctx: RequestContext, *, person_id: str, procedure: str) -> Pack:
    """The procedure's checklist with the person's papers (trash aside), if the actor may
    list them (the person, or a helper with the "view" scope: on the person's log); 404
    otherwise, and for an unknown procedure."""
    _checklist(procedure)
    return _filled(procedure, list_documents_for(ctx, person_id=person_id))


def list_packs_for(ctx: RequestContext, *, person_id: str) -> list[Pack]:
    """Every procedure's pack (its `have` and `needed` counts), read in one listing."""
    papers = list_documents_for(ctx, person_id=person_id)
    return [_filled(procedure, papers) for procedure in PROCEDURES]


def referent_for(ctx: RequestContext, *, person_id: str) -> MemberView | None:
    """The referent the person chose, if the actor may read the person's list; else 404."""
    person, _ = require_person(ctx, Action.MEMBER_LIST, person_id)
    return _referent(ctx, person)


def _referent(ctx: RequestContext, person: Person) -> MemberView | None:
    members = member_views(ctx.session, person.id)
    return next((m for m in members if m.referent and m.status == "active"), None)


def _owner(ctx: RequestContext, person_id: str) -> Person:
    """The person, when they act themself; anyone else a recorded 404, a helper under a
    "share" mandate included: one tap that shares many papers is the person's own."""
    person = find_person(ctx.session, person_id)
    decided = None
    if person is not None:
        decided = decide(ctx.session, ctx.actor, Action.GRANT_CREATE, person, now=ctx.clock())
        if decided.allowed and decided.reason != "owner":
            decided = deny("not_owner")
    require(ctx, Action.GRANT_CREATE, person, decided)
    assert person is not None
    return person


def share_pack_with_referent(ctx: RequestContext, *, person_id: str, procedure: str) -> SharedPack:
    """The person lets their referent open every paper of the pack: one grant (recorded)
    per paper the referent cannot open yet. NoReferent when there is none; the caller
    commits."""
    _checklist(procedure)
    person = _owner(ctx, person_id)
    referent = _referent(ctx, person)
    if referent is None:
        raise NoReferent("no referent")
    member = ctx.session.get_one(AccompanimentMember, referent.id)
    pack = _filled(procedure, list_documents_for(ctx, person_id=person.id))
    for paper in pack.document_ids:
        document = ctx.session.get_one(Document, paper)
        if live_grant(ctx.session, member, document, ctx.clock()) is None:
            create_grant(ctx, document_id=paper, member_id=referent.id)
    return SharedPack(referent, pack.document_ids)
