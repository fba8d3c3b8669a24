"""The counter-link part of the JSON API: the person makes, lists and ends their links."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from sharing import counter
from web.context import request_context
from web.counter.links import link_url, spaced
from web.counter.schemas import CounterLinkMade, CounterLinks, NewCounterLink
from web.openapi import INVALID, Answers, operation

api = Blueprint("counter_api", __name__, url_prefix="/api/v1")


@operation(
    api.post,
    "/persons/<person_id>/counter-links",
    resp=Answers(HTTP_201=(CounterLinkMade, "Made"), HTTP_422=INVALID),
)
def make_counter_link(person_id: str, json: NewCounterLink) -> Any:
    """The person makes a one-time link showing chosen papers, watermarked, at a counter"""
    made = counter.create_counter_link(
        request_context(),
        person_id=person_id,
        document_ids=json.document_ids,
        recipient=json.recipient,
        minutes=json.minutes,
        allow_download=json.allow_download,
    )
    answer = {
        "id": made.id,
        "url": link_url(made.token),
        "code": spaced(made.code),
        "expires_at": made.expires_at,
    }
    return CounterLinkMade.model_validate(answer), 201


@operation(
    api.get, "/persons/<person_id>/counter-links", resp=Answers(HTTP_200=(CounterLinks, "Links"))
)
def list_counter_links(person_id: str) -> Any:
    """The person's counter links of the last week, newest first"""
    return counter.list_counter_links_for(request_context(), person_id=person_id)


@operation(api.delete, "/counter-links/<link_id>", resp=Answers(HTTP_204=(None, "Ended")))
def end_counter_link(link_id: str) -> Any:
    """End a counter link at once: the agent's next page is refused"""
    counter.revoke_counter_link(request_context(), link_id=link_id)
    return "", 204
