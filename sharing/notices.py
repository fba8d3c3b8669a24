"""What the person is told on their next page: password resets and deposits."""

from __future__ import annotations

from locker.context import RequestContext
from sharing.decisions import Action
from sharing.guard import require_person
from sharing.professionals import DepositNotice, deposit_notices
from sharing.recovery import ResetNotice, reset_notices


def person_notices(
    ctx: RequestContext, *, person_id: str
) -> tuple[list[ResetNotice], list[DepositNotice]]:
    """The person's unread notices (only the person reads them); 404 otherwise."""
    person, _ = require_person(ctx, Action.NOTICE_LIST, person_id)
    return reset_notices(ctx.session, person.id, ctx.clock()), deposit_notices(
        ctx.session, person.id
    )
