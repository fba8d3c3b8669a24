"""The packs part of the JSON API: each procedure's checklist with the person's papers, and
the pack shared with the referent."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from sharing import packs
from web.context import request_context
from web.openapi import Answers, Error, operation
from web.packs.schemas import Pack as PackAnswer
from web.packs.schemas import PackSummaries, SharedPack, answer_of, summary_of

api = Blueprint("packs_api", __name__, url_prefix="/api/v1")


@operation(
    api.get,
    "/persons/<person_id>/packs",
    resp=Answers(HTTP_200=(PackSummaries, "Each procedure, with how many required papers")),
)
def list_packs(person_id: str) -> Any:
    """Every procedure's checklist in short: the required papers the person has, of how many
    (the person, or a helper with the "view" scope)"""
    found = packs.list_packs_for(request_context(), person_id=person_id)
    return PackSummaries([summary_of(pack) for pack in found])


@operation(
    api.get,
    "/persons/<person_id>/packs/<procedure>",
    resp=Answers(HTTP_200=(PackAnswer, "The checklist with the papers that match each item")),
)
def get_pack(person_id: str, procedure: str) -> Any:
    """One procedure's checklist: for each item, the person's papers that match it by
    category or title words (the person checks them); the required ones missing"""
    return answer_of(packs.pack_for(request_context(), person_id=person_id, procedure=procedure))


@operation(
    api.post,
    "/persons/<person_id>/packs/<procedure>/share-referent",
    resp=Answers(
        HTTP_200=(SharedPack, "The referent may now open every paper of the pack"),
        HTTP_422=(Error, "The person has no referent"),
    ),
)
def share_pack(person_id: str, procedure: str) -> Any:
    """The person (only) lets their referent open every paper of the pack, in one step;
    one grant per paper the referent could not open yet, each on the person's log"""
    shared = packs.share_pack_with_referent(
        request_context(), person_id=person_id, procedure=procedure
    )
    return SharedPack(member_id=shared.referent.id, document_ids=shared.document_ids)
