"""What the packs routes answer, their words in the caller's language."""

from __future__ import annotations

from typing import Literal, get_args

from pydantic import BaseModel, RootModel

from sharing import packs
from web.packs.words import PAPER_WORDS, PROCEDURE_NAMES

Procedure = Literal["rsa", "dalo", "ame_css", "domiciliation", "titre_sejour", "france_travail"]
assert set(get_args(Procedure)) == set(packs.PROCEDURES), "the schema names every procedure"


class PackItem(BaseModel):
    """A paper the procedure asks for, and the person's papers that look like it."""

    key: str
    label: str
    hint: str
    required: bool
    document_ids: list[str]


class PackSummary(BaseModel):
    """How far the person is: `have` of the `needed` required papers."""

    procedure: Procedure
    label: str
    have: int
    needed: int
    missing: list[str]


class PackSummaries(RootModel[list[PackSummary]]):
    pass


class Pack(BaseModel):
    """A procedure's checklist filled in with the person's papers; `missing` lists the
    required items no paper matches. A match is by category and title words: the person
    checks it."""

    procedure: Procedure
    label: str
    items: list[PackItem]
    missing: list[str]


class SharedPack(BaseModel):
    """The referent (a member of the list) may now open these papers."""

    member_id: str
    document_ids: list[str]


def summary_of(pack: packs.Pack) -> PackSummary:
    """A pack's counts, named in the caller's language."""
    return PackSummary.model_validate(
        {
            "procedure": pack.procedure,
            "label": str(PROCEDURE_NAMES[pack.procedure]),
            "have": pack.have,
            "needed": pack.needed,
            "missing": pack.missing,
        }
    )


def answer_of(pack: packs.Pack) -> Pack:
    """A pack, each item named in the caller's language."""
    items = [
        {
            "key": item.key,
            "label": str(PAPER_WORDS[item.key][0]),
            "hint": str(PAPER_WORDS[item.key][1]),
            "required": item.required,
            "document_ids": [paper.id for paper in item.papers],
        }
        for item in pack.items
    ]
    label = str(PROCEDURE_NAMES[pack.procedure])
    return Pack.model_validate(
        {"procedure": pack.procedure, "label": label, "items": items, "missing": pack.missing}
    )
