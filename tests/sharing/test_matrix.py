"""The authorization matrix: every API route and page × every kind of actor, exact status.

Rows are keyed by (method, rule) and compared with the app's url_map, so a new route
without a row fails this suite. Objects a cell changes (a document it deletes, a grant
it revokes...) are made fresh for that cell, so cells never depend on each other.
"""

from __future__ import annotations

import io
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from flask import Flask

from locker import accounts
from locker.actors import Actor
from locker.actors import Clock as ClockType
from sharing.counter import create_counter_link
from sharing.departures import deactivate_professional, departure_notices
from sharing.invitations import invite_professional
from sharing.members import share_code_for
from sharing.models import RecoveryCode
from tests.conftest import PASSWORD
from tests.factories import (
    ACTOR_NAMES,
    PNG,
    Clock,
    World,
    add_grant,
    add_mandate,
    add_member,
    add_passkey,
    build_world,
    context,
    new_professional,
    upload,
)
from web.accounts import INFORMATION_VERSION

PERSONS = {"owner", "other_person"}
ADMIN = {"org_admin"}
PROS = set(ACTOR_NAMES) - PERSONS - ADMIN - {"anonymous"}
AUTH = set(ACTOR_NAMES) - {"anonymous"}
VIEWERS = {"owner", "referent_grant", "intervenor_grant", "helper_view"}
MEMBERS = {
    "referent_grant",
    "referent_nogrant",
    "intervenor_grant",
    "intervenor_expired",
    "intervenor_revoked",
    "helper_upload",
    "helper_organise",
    "helper_share",
    "helper_view",
    "helper_expired",
    "helper_no_inclusion",
}
LIVE_HELPERS = {"helper_upload", "helper_organise", "helper_share", "helper_view"}
# On the list and in a digital-inclusion organisation (an expired mandate does not matter).
DESK = LIVE_HELPERS | {"helper_expired"}


def rule(allowed: set[str], ok: int, denied: int = 404, anon: int = 401, **special: int):
    """Expected status for each actor: `special` wins, then anonymous, then allowed."""

    def expect(name: str) -> int:
        if name in special:
            return special[name]
        if name == "anonymous":
            return anon
        return ok if name in allowed else denied

    return expect


@dataclass
class Row:
    expect: Callable[[str], int]
    args: dict[str, str] = field(default_factory=dict)  # url argument -> source
    json: Any = None
    form: Callable[[Cell], dict[str, Any]] | None = None
    fresh_token: bool = False


@dataclass
class Cell:
    """What one cell acts on; fresh objects are made on demand."""

    app: Flask
    clock: ClockType
    world: World
    name: str
    spare_member: str

    def make(self, source: str) -> str:
        w, found, clock = self.world, self.app.extensions["locker"], self.clock
        with found.session_factory() as s:
            if source == "pid":
                return w.alice.id
            if source == "doc":
                return w.document_for(self.name)
            if source == "referent":
                return w.members["referent"].id
            if source == "spare":
                return self.spare_member
            if source == "file":
                return "locker.css"
            if source == "procedure":
                return "rsa"
            if source == "fresh_doc":
                return upload(found, s, clock, w.alice)
            if source == "trashed_doc":
                did = upload(found, s, clock, w.alice)
                from locker.models import Document

                doc = s.get(Document, did)
                assert doc is not None
                if hasattr(doc, "deleted_at"):
                    doc.deleted_at = clock()
                    s.commit()
                return did
            if source in {"fresh_link", "fresh_link_token"}:
                alice = context(found, s, Actor(kind="person", id=w.alice.id), clock)
                made = create_counter_link(
                    alice, person_id=w.alice.id, document_ids=[w.doc], recipient="CAF"
                )
                s.commit()
                return made.id if source == "fresh_link" else made.token
            if source == "alice_doc":
                return w.doc
            if source == "zero":
                return "0"
            if source == "fresh_name":
                # Wrong recovery codes are counted per username and address: one per cell.
                return f"nobody-{secrets.token_hex(4)}"
            if source == "fresh_reset":
                # A reset of Alice's password with a code her referent issued.
                code = RecoveryCode(
                    person_id=w.alice.id,
                    code_hash=secrets.token_hex(32),
                    kind="issued",
                    issued_by_id=w.users["referent_grant"].id,
                    organization_id=w.org.id,
                    created_at=clock(),
                    expires_at=clock(),
                    used_at=clock(),
                )
                s.add(code)
                s.commit()
                return code.id
            if source == "org":
                return w.org.id
            if source == "fresh_passkey":
                # A passkey of the referent's (one professional, with or without a grant).
                key = add_passkey(s, clock, s.merge(w.users["referent_grant"]))
                s.commit()
                return key.id
            if source == "fresh_email":
                return f"invited-{secrets.token_hex(4)}@example.org"
            if source in {"fresh_invited", "fresh_departure"}:
                return _organisation_row(found, s, clock, w, source)
            pro = new_professional(s, clock, w.org, f"fresh-{secrets.token_hex(4)}")
            if source == "fresh_colleague":
                s.commit()
                return pro.id
            if source == "fresh_code":
                code = share_code_for(s, clock, pro)
                s.commit()
                assert code is not None
                return code
            member = add_member(s, clock, w.alice, pro)
            if source == "fresh_request":
                member.status = "requested"
            result = member.id
            if source == "fresh_grant":
                result = add_grant(s, clock, member, w.doc).id
            if source == "fresh_mandate":
                result = add_mandate(s, clock, member, "view").id
            s.commit()
            return result


def _organisation_row(found: Any, s: Any, clock: ClockType, w: World, source: str) -> str:
    """An invited professional of the admin's organisation, or Alice's notice that a
    member of her list left (with a colleague proposed), made by the operator."""
    operator = context(found, s, Actor.system(), clock)
    if source == "fresh_invited":
        email = f"invited-{secrets.token_hex(4)}@example.org"
        made = invite_professional(
            operator, organization_id=w.org.id, email=email, name="Invitée", role="professional"
        )
        s.commit()
        return made.professional.id
    leaving = new_professional(s, clock, w.org, f"leaving-{secrets.token_hex(4)}")
    colleague = new_professional(s, clock, w.org, f"colleague-{secrets.token_hex(4)}")
    add_grant(s, clock, add_member(s, clock, w.alice, leaving), w.doc)
    deactivate_professional(operator, professional_id=leaving.id, successor_id=colleague.id)
    s.commit()
    notice = departure_notices(s, w.alice.id)[-1]
    return notice.id


def CONFIRMED(_: Cell) -> dict[str, Any]:
    """The second tap of an action that asks first (the first only shows the question)."""
    return {"confirmed": "1"}


def _file(_: Cell) -> dict[str, Any]:
    return {"file": (io.BytesIO(PNG), "scan.png"), "title": "x", "category": "identity"}


PERSONS_403 = dict.fromkeys(PERSONS, 403)  # a professional's own thing: a person has none

API: dict[tuple[str, str], Row] = {
    ("GET", "/api/v1/openapi.json"): Row(rule(AUTH, 200, anon=200)),
    ("POST", "/api/v1/auth/token"): Row(rule(AUTH, 400, anon=400), json={}),
    ("DELETE", "/api/v1/auth/token"): Row(rule(AUTH, 204), fresh_token=True),
    ("GET", "/api/v1/me"): Row(rule(AUTH, 200)),
    # One's own name only: nobody's else is reachable from here.
    ("PATCH", "/api/v1/me"): Row(rule(AUTH, 200), json={"display_name": "Nouveau nom"}),
    ("POST", "/api/v1/me/information"): Row(
        rule({"owner", "other_person"}, 200, denied=403), json={"version": INFORMATION_VERSION}
    ),
    # A wrong password closes nothing; a professional has no account to close here.
    ("POST", "/api/v1/me/close"): Row(
        rule({"owner", "other_person"}, 403, denied=422), json={"password": "not it at all"}
    ),
    # A wrong current password: refused for everyone, nothing changes.
    ("POST", "/api/v1/me/password"): Row(
        rule(AUTH, 403), json={"current_password": "not-the-one", "new_password": "whatever-new"}
    ),
    # The second factor: a professional's own, already confirmed in every professional's
    # cell (a new one only after the operator's reset); persons have none.
    ("POST", "/api/v1/me/totp"): Row(rule(PERSONS, 403, denied=409)),
    ("POST", "/api/v1/me/totp/confirm"): Row(
        rule(PERSONS, 403, denied=409), json={"code": "000000"}
    ),
    ("POST", "/api/v1/me/totp/backup-codes"): Row(rule(AUTH, 403), json={"code": "000000"}),
    # Passkeys: a professional's own (in addition to TOTP); persons have none. An answer
    # that does not hold adds nothing; someone else's passkey is as missing.
    ("POST", "/api/v1/me/passkeys/registration-options"): Row(rule(PERSONS, 403, denied=200)),
    ("POST", "/api/v1/me/passkeys"): Row(rule(AUTH, 403), json={"credential": {}, "name": "x"}),
    ("GET", "/api/v1/me/passkeys"): Row(rule(PERSONS, 403, denied=200)),
    ("DELETE", "/api/v1/me/passkeys/<passkey_id>"): Row(
        rule({"referent_grant", "referent_nogrant"}, 204, **PERSONS_403),
        {"passkey_id": "fresh_passkey"},
    ),
    # A body that fits the schema, so the rights decide; the service refuses its values.
    ("POST", "/api/v1/persons"): Row(
        rule(PROS, 422, denied=403), json={"username": "", "display_name": "", "password": ""}
    ),
    ("GET", "/api/v1/persons/<person_id>/documents"): Row(
        rule({"owner", "helper_view"}, 200), {"person_id": "pid"}
    ),
    ("POST", "/api/v1/persons/<person_id>/documents"): Row(
        rule({"owner", "helper_upload"}, 201), {"person_id": "pid"}, form=_file
    ),
    ("GET", "/api/v1/documents/<document_id>"): Row(rule(VIEWERS, 200), {"document_id": "doc"}),
    ("GET", "/api/v1/documents/<document_id>/content"): Row(
        rule(VIEWERS, 200), {"document_id": "doc"}
    ),
    ("GET", "/api/v1/documents/<document_id>/thumbnail"): Row(
        rule(VIEWERS, 200), {"document_id": "doc"}
    ),
    # Whoever may read the content may look at it on screen, and no one else.
    ("GET", "/api/v1/documents/<document_id>/preview"): Row(
        rule(VIEWERS, 200), {"document_id": "doc"}
    ),
    ("PATCH", "/api/v1/documents/<document_id>"): Row(
        rule({"owner", "helper_organise"}, 200),
        {"document_id": "fresh_doc"},
        json={"title": "Nouveau titre", "category": "health"},
    ),
    ("DELETE", "/api/v1/documents/<document_id>"): Row(
        rule({"owner", "helper_organise"}, 204), {"document_id": "fresh_doc"}
    ),
    ("POST", "/api/v1/documents/<document_id>/restore"): Row(
        rule({"owner", "helper_organise"}, 204), {"document_id": "trashed_doc"}
    ),
    # Issue 3 lists the trash under `person:list_documents` (the `view` scope).
    ("GET", "/api/v1/persons/<person_id>/trash"): Row(
        rule({"owner", "helper_view"}, 200), {"person_id": "pid"}
    ),
    # Everything at once: the person alone, whatever mandate a helper holds.
    ("GET", "/api/v1/persons/<person_id>/export"): Row(rule({"owner"}, 200), {"person_id": "pid"}),
    # Sharing.
    ("GET", "/api/v1/persons/<person_id>/members"): Row(
        rule({"owner", "helper_share"}, 200), {"person_id": "pid"}
    ),
    ("POST", "/api/v1/persons/<person_id>/members"): Row(
        rule({"owner"}, 201),
        {"person_id": "pid", "code": "fresh_code"},
        json={"professional_code": "{code}", "mission": "m"},
    ),
    ("DELETE", "/api/v1/persons/<person_id>/members/<member_id>"): Row(
        rule({"owner"}, 204), {"person_id": "pid", "member_id": "fresh_member"}
    ),
    ("POST", "/api/v1/persons/<person_id>/members/<member_id>/accept"): Row(
        rule({"owner"}, 200), {"person_id": "pid", "member_id": "fresh_request"}
    ),
    ("PUT", "/api/v1/persons/<person_id>/referent"): Row(
        rule({"owner"}, 200), {"person_id": "pid", "ref": "referent"}, json={"member_id": "{ref}"}
    ),
    ("POST", "/api/v1/join-requests"): Row(
        rule(PROS, 202, denied=403), json={"username": "nobody-here"}
    ),
    ("GET", "/api/v1/documents/<document_id>/grants"): Row(
        rule({"owner", "helper_share"}, 200), {"document_id": "doc"}
    ),
    ("POST", "/api/v1/documents/<document_id>/grants"): Row(
        rule({"owner", "helper_share"}, 201),
        {"document_id": "doc", "spare": "spare"},
        json={"member_id": "{spare}"},
    ),
    ("GET", "/api/v1/persons/<person_id>/grants"): Row(
        rule({"owner", "helper_share"}, 200), {"person_id": "pid"}
    ),
    ("POST", "/api/v1/persons/<person_id>/grants"): Row(
        rule({"owner", "helper_share"}, 201),
        {"person_id": "pid", "spare": "spare"},
        json={"member_id": "{spare}", "category": "work"},
    ),
    ("DELETE", "/api/v1/grants/<grant_id>"): Row(
        rule({"owner", "helper_share"}, 204), {"grant_id": "fresh_grant"}
    ),
    ("GET", "/api/v1/professionals/me/persons"): Row(rule(PROS, 200, denied=403)),
    ("POST", "/api/v1/persons/<person_id>/deposits"): Row(
        rule(MEMBERS, 201), {"person_id": "pid"}, form=_file
    ),
    ("GET", "/api/v1/persons/<person_id>/mandates"): Row(
        rule({"owner"}, 200), {"person_id": "pid"}
    ),
    ("POST", "/api/v1/persons/<person_id>/mandates"): Row(
        rule({"owner"}, 201),
        {"person_id": "pid", "spare": "spare"},
        json={"member_id": "{spare}", "scopes": ["view"], "duration": "1d", "password": PASSWORD},
    ),
    ("DELETE", "/api/v1/mandates/<mandate_id>"): Row(
        rule({"owner"}, 204), {"mandate_id": "fresh_mandate"}
    ),
    # Only the referent the person chose, or a mandate naming "recovery" (none here).
    ("POST", "/api/v1/persons/<person_id>/recovery-codes"): Row(
        rule({"referent_grant", "referent_nogrant"}, 201), {"person_id": "pid"}
    ),
    ("POST", "/api/v1/persons/<person_id>/recovery-card"): Row(
        rule({"owner"}, 201), {"person_id": "pid"}
    ),
    ("POST", "/api/v1/recovery"): Row(
        rule(AUTH, 422, anon=422),
        {"name": "fresh_name"},
        json={"username": "{name}", "code": "x", "new_password": "y"},
    ),
    ("GET", "/api/v1/persons/<person_id>/notices"): Row(rule({"owner"}, 200), {"person_id": "pid"}),
    # Audit log (issue 5): ids only, never a title; a person reads their own locker's log.
    ("GET", "/api/v1/persons/<person_id>/access-log"): Row(
        rule({"owner"}, 200), {"person_id": "pid"}
    ),
    # Counter links: the person's own, never a professional's, not even a helper's.
    ("POST", "/api/v1/persons/<person_id>/counter-links"): Row(
        rule({"owner"}, 201),
        {"person_id": "pid", "paper": "alice_doc"},
        json={"document_ids": ["{paper}"], "recipient": "CAF de Lyon"},
    ),
    ("GET", "/api/v1/persons/<person_id>/counter-links"): Row(
        rule({"owner"}, 200), {"person_id": "pid"}
    ),
    ("DELETE", "/api/v1/counter-links/<link_id>"): Row(
        rule({"owner"}, 204), {"link_id": "fresh_link"}
    ),
    # Signed checkpoints, the public key and consistency proofs are public (for witnesses).
    ("GET", "/api/v1/audit/checkpoint"): Row(rule(AUTH, 200, anon=200)),
    ("GET", "/api/v1/audit/public-key"): Row(rule(AUTH, 200, anon=200)),
    ("GET", "/api/v1/audit/export"): Row(rule(set(), 200, denied=403)),
    ("GET", "/api/v1/audit/my-actions"): Row(rule(PROS | ADMIN, 200, denied=403)),
    ("GET", "/api/v1/audit/proofs/consistency"): Row(rule(AUTH, 400, anon=400)),
    ("GET", "/api/v1/audit/proofs/inclusion"): Row(rule(AUTH, 400)),
    # Packs: read like the list of papers; shared with the referent by the person alone (late:
    # it lets the referent open the paper that `referent_nogrant` cells must not see).
    ("GET", "/api/v1/persons/<person_id>/packs"): Row(
        rule({"owner", "helper_view"}, 200), {"person_id": "pid"}
    ),
    ("GET", "/api/v1/persons/<person_id>/packs/<procedure>"): Row(
        rule({"owner", "helper_view"}, 200), {"person_id": "pid", "procedure": "procedure"}
    ),
    ("POST", "/api/v1/persons/<person_id>/packs/<procedure>/share-referent"): Row(
        rule({"owner"}, 200), {"person_id": "pid", "procedure": "procedure"}
    ),
    # Last: a yes gives that helper a `view` mandate, which no earlier row must see.
    ("POST", "/api/v1/persons/<person_id>/desk-mandates"): Row(
        rule(DESK, 201),
        {"person_id": "pid"},
        json={"scopes": ["view"], "duration": "1d", "username": "alice", "password": PASSWORD},
    ),
    # Organisation administration: the admin of that organisation only, never a person.
    ("GET", "/api/v1/organizations/<organization_id>/professionals"): Row(
        rule(ADMIN, 200, denied=403), {"organization_id": "org"}
    ),
    ("POST", "/api/v1/organizations/<organization_id>/professionals"): Row(
        rule(ADMIN, 201, denied=403),
        {"organization_id": "org", "email": "fresh_email"},
        json={"email": "{email}", "name": "Nouvelle collègue", "role": "professional"},
    ),
    ("PATCH", "/api/v1/professionals/<professional_id>"): Row(
        rule(ADMIN, 200, denied=403),
        {"professional_id": "fresh_colleague"},
        json={"role": "org_admin"},
    ),
    ("POST", "/api/v1/professionals/<professional_id>/deactivate"): Row(
        rule(ADMIN, 204, denied=403), {"professional_id": "fresh_colleague"}
    ),
    ("POST", "/api/v1/professionals/<professional_id>/invitation"): Row(
        rule(ADMIN, 201, denied=403), {"professional_id": "fresh_invited"}
    ),
    # Anyone holding a link; a wrong one is refused alike for everybody.
    ("POST", "/api/v1/invitations/accept"): Row(
        rule(AUTH, 422, anon=422), json={"token": "not-a-link", "password": "whatever-long"}
    ),
    # After a departure: the person alone reads and decides.
    ("GET", "/api/v1/persons/<person_id>/departures"): Row(
        rule({"owner"}, 200), {"person_id": "pid"}
    ),
    ("POST", "/api/v1/persons/<person_id>/departures/<departure_id>/end"): Row(
        rule({"owner"}, 204), {"person_id": "pid", "departure_id": "fresh_departure"}
    ),
    ("POST", "/api/v1/persons/<person_id>/departures/<departure_id>/hand-over"): Row(
        rule({"owner"}, 200), {"person_id": "pid", "departure_id": "fresh_departure"}
    ),
    # Last: "Ce n'était pas moi" ends every session and token of Alice's (the owner's cell).
    ("POST", "/api/v1/persons/<person_id>/notices/<notice_id>/not-me"): Row(
        rule({"owner"}, 204), {"person_id": "pid", "notice_id": "fresh_reset"}
    ),
    # Very last: it ends every session and token of each actor in turn.
    ("DELETE", "/api/v1/auth/tokens"): Row(rule(AUTH, 204), fresh_token=True),
}

P = {"anon": 302}  # pages send anonymous callers to the sign-in page
PERSONS_404 = dict.fromkeys(PERSONS, 404)  # a page only professionals have
PAGES: dict[tuple[str, str], Row] = {
    ("GET", "/"): Row(rule(AUTH, 302, **P)),
    ("GET", "/static/<path:filename>"): Row(rule(AUTH, 200, anon=200), {"filename": "file"}),
    # The operator's probes and metrics: no sign-in (metrics: this host, or a token).
    ("GET", "/healthz"): Row(rule(AUTH, 200, anon=200)),
    ("GET", "/readyz"): Row(rule(AUTH, 200, anon=200)),
    ("GET", "/metrics"): Row(rule(AUTH, 200, anon=200)),
    ("GET", "/sign-in"): Row(rule(AUTH, 200, anon=200)),
    ("POST", "/sign-in"): Row(rule(AUTH, 401, anon=401), form=lambda c: {}),
    # ProConnect's pages: off here (LOCKER_PROCONNECT_ISSUER unset), so missing for all;
    # tests/web/test_proconnect.py walks them with a provider.
    ("GET", "/sign-in/proconnect"): Row(rule(AUTH, 404, anon=404)),
    ("GET", "/sign-in/proconnect/callback"): Row(rule(AUTH, 404, anon=404)),
    ("GET", "/sign-out/proconnect"): Row(rule(AUTH, 404, anon=404)),
    ("POST", "/sign-out"): Row(rule(AUTH, 302, **P), form=lambda c: {}, fresh_token=True),
    ("GET", "/settings"): Row(rule(AUTH, 200, **P)),
    # Everything at once, and only one's own: a professional has no locker to take.
    ("GET", "/settings/export"): Row(rule({"owner", "other_person"}, 200, **P)),
    ("GET", "/settings/close"): Row(rule({"owner", "other_person"}, 200, **P)),
    # A wrong password: asked again, nothing closed, whoever tries.
    ("POST", "/settings/close"): Row(
        rule({"owner", "other_person"}, 403, **P), form=lambda c: {"password": "not it at all"}
    ),
    ("POST", "/settings/account"): Row(
        rule(AUTH, 302, **P), form=lambda c: {"display_name": "Nouveau nom"}
    ),
    ("GET", "/accessibility"): Row(rule(AUTH, 200, anon=200)),
    ("GET", "/information"): Row(rule(AUTH, 200, anon=200)),
    # Accepting is a person's own: others are shown the page again, nothing recorded.
    ("POST", "/information"): Row(rule(AUTH, 200, anon=200, owner=302, other_person=302)),
    ("GET", "/privacy"): Row(rule(AUTH, 200, anon=200)),
    ("GET", "/papers"): Row(rule(PERSONS, 200, **P)),
    ("GET", "/papers/new"): Row(rule(AUTH, 200, **P)),
    ("POST", "/papers/new"): Row(rule(PERSONS, 302, **P), form=_file),
    ("GET", "/papers/<document_id>"): Row(rule(VIEWERS, 200, **P), {"document_id": "doc"}),
    # The desk: a person's page for whoever is on her list; a paper there only through a
    # live grant or a "view" mandate (a person, even the owner, has no desk). Before the
    # sharing rows below, which take Alice's paper back from the referent and the intervenor.
    ("GET", "/pro/persons/<person_id>"): Row(rule(MEMBERS, 200, **P), {"person_id": "pid"}),
    ("GET", "/pro/persons/<person_id>/papers/<document_id>"): Row(
        rule(VIEWERS - {"owner"}, 200, **P), {"person_id": "pid", "document_id": "doc"}
    ),
    ("GET", "/papers/<document_id>/content"): Row(rule(VIEWERS, 200, **P), {"document_id": "doc"}),
    ("GET", "/papers/<document_id>/thumbnail"): Row(
        rule(VIEWERS, 200, **P), {"document_id": "doc"}
    ),
    ("GET", "/papers/<document_id>/preview"): Row(rule(VIEWERS, 200, **P), {"document_id": "doc"}),
    ("POST", "/papers/<document_id>/edit"): Row(
        rule({"owner", "helper_organise"}, 302, **P),
        {"document_id": "fresh_doc"},
        form=lambda c: {"title": "Nouveau titre", "category": "health"},
    ),
    ("POST", "/papers/<document_id>/delete"): Row(
        rule({"owner", "helper_organise"}, 302, **P),
        {"document_id": "fresh_doc"},
        form=lambda c: {"confirmed": "1"},
    ),
    ("GET", "/trash"): Row(rule(PERSONS, 200, **P)),
    ("POST", "/trash/<document_id>/restore"): Row(
        rule({"owner", "helper_organise"}, 302, **P),
        {"document_id": "trashed_doc"},
        form=lambda c: {},
    ),
    ("GET", "/access-log"): Row(rule(PERSONS, 200, **P)),
    ("GET", "/pro/my-actions"): Row(rule(PROS | ADMIN, 200, **P)),
    # An admin is offered no person's account to create (as over the API: 403).
    ("GET", "/pro"): Row(rule(PROS, 200, org_admin=302, **P)),
    ("POST", "/pro"): Row(rule(PROS, 200, org_admin=403, **P), form=lambda c: {}),
    # Organisation administration: the admin's own organisation; a person has no such page.
    ("GET", "/org"): Row(rule(ADMIN, 200, denied=403, **PERSONS_404, **P)),
    ("POST", "/org/invite"): Row(
        rule(ADMIN, 200, denied=403, **PERSONS_404, **P),
        {"email": "fresh_email"},
        form=lambda c: {"email": c.make("fresh_email"), "name": "N", "role": "professional"},
    ),
    ("POST", "/org/professionals/<professional_id>/role"): Row(
        rule(ADMIN, 302, denied=403, **PERSONS_404, **P),
        {"professional_id": "fresh_colleague"},
        form=lambda c: {"role": "org_admin"},
    ),
    ("GET", "/org/professionals/<professional_id>/deactivate"): Row(
        rule(ADMIN, 200, denied=403, **PERSONS_404, **P), {"professional_id": "fresh_colleague"}
    ),
    ("POST", "/org/professionals/<professional_id>/deactivate"): Row(
        rule(ADMIN, 302, denied=403, **PERSONS_404, **P),
        {"professional_id": "fresh_colleague"},
        form=lambda c: {},
    ),
    ("POST", "/org/professionals/<professional_id>/invitation"): Row(
        rule(ADMIN, 200, denied=403, **PERSONS_404, **P),
        {"professional_id": "fresh_invited"},
        form=lambda c: {},
    ),
    ("GET", "/invitation"): Row(rule(AUTH, 200, anon=200)),
    ("POST", "/invitation"): Row(
        rule(AUTH, 422, anon=422), form=lambda c: {"token": "x", "password": "whatever-long"}
    ),
    ("POST", "/departures/<departure_id>/end"): Row(
        rule({"owner"}, 302, **P), {"departure_id": "fresh_departure"}, form=CONFIRMED
    ),
    ("POST", "/departures/<departure_id>/hand-over"): Row(
        rule({"owner"}, 302, **P), {"departure_id": "fresh_departure"}, form=CONFIRMED
    ),
    # Sharing pages.
    ("GET", "/accompaniment"): Row(rule(PERSONS, 200, **P)),
    ("POST", "/accompaniment/add"): Row(
        rule(PERSONS, 302, **P),
        {"code": "fresh_code"},
        form=lambda c: {"professional_code": c.make("fresh_code"), "mission": "m"},
    ),
    ("POST", "/accompaniment/<member_id>/accept"): Row(
        rule({"owner"}, 302, **P), {"member_id": "fresh_request"}, form=lambda c: {}
    ),
    ("POST", "/accompaniment/<member_id>/remove"): Row(
        rule({"owner"}, 302, **P), {"member_id": "fresh_member"}, form=CONFIRMED
    ),
    ("POST", "/accompaniment/referent"): Row(
        rule({"owner"}, 302, **P),
        form=lambda c: {"member_id": c.make("referent")},
    ),
    ("POST", "/accompaniment/category"): Row(
        rule({"owner"}, 302, other_person=422, **P),
        form=lambda c: {"member_id": c.spare_member, "category": "work"},
    ),
    ("GET", "/papers/<document_id>/sharing"): Row(
        rule({"owner", "helper_share"}, 200, **P), {"document_id": "doc"}
    ),
    ("POST", "/papers/<document_id>/sharing"): Row(
        rule({"owner", "helper_share"}, 302, **P),
        {"document_id": "doc"},
        form=lambda c: {**CONFIRMED(c), "member_id": c.spare_member},
    ),
    ("GET", "/helpers"): Row(rule(PERSONS, 200, **P)),
    ("POST", "/helpers"): Row(
        rule({"owner"}, 302, other_person=422, **P),
        form=lambda c: {
            "member_id": c.spare_member,
            "scopes": "view",
            "duration": "1d",
            "password": PASSWORD,
        },
    ),
    ("POST", "/helpers/<mandate_id>/revoke"): Row(
        rule({"owner"}, 302, **P), {"mandate_id": "fresh_mandate"}, form=CONFIRMED
    ),
    ("GET", "/recovery-card"): Row(rule(PERSONS, 200, **P)),
    ("POST", "/recovery-card"): Row(rule(PERSONS, 200, **P), form=lambda c: {}),
    ("POST", "/notices/seen"): Row(rule(PERSONS, 302, **P), form=lambda c: {}),
    # Counter links: the person makes and ends them; the agent at the counter needs no
    # account, but only the browser that opened a link first sees its papers (a fresh link
    # each cell; without that browser's cookie, the view and its pages are not found).
    ("GET", "/counter-links"): Row(rule(PERSONS, 200, **P)),
    ("GET", "/counter-links/new"): Row(rule(PERSONS, 200, **P)),
    ("POST", "/counter-links/new"): Row(
        rule({"owner"}, 302, other_person=422, **P),
        form=lambda c: {"document_id": c.world.doc, "recipient": "CAF", "minutes": "30"},
    ),
    ("GET", "/counter-links/<link_id>"): Row(rule({"owner"}, 200, **P), {"link_id": "fresh_link"}),
    ("POST", "/counter-links/<link_id>/stop"): Row(
        rule({"owner"}, 302, **P), {"link_id": "fresh_link"}, form=CONFIRMED
    ),
    ("GET", "/c/<token>"): Row(rule(AUTH, 200, anon=200), {"token": "fresh_link_token"}),
    ("GET", "/c"): Row(rule(AUTH, 200, anon=200)),
    ("POST", "/c"): Row(rule(AUTH, 422, anon=422), form=lambda c: {"code": "NOT A CODE"}),
    ("GET", "/c/view/<link_id>"): Row(rule(AUTH, 404, anon=404), {"link_id": "fresh_link"}),
    ("GET", "/c/view/<link_id>/<document_id>/<int:page>.jpg"): Row(
        rule(AUTH, 404, anon=404),
        {"link_id": "fresh_link", "document_id": "alice_doc", "page": "zero"},
    ),
    ("GET", "/c/view/<link_id>/<document_id>/file"): Row(
        rule(AUTH, 404, anon=404), {"link_id": "fresh_link", "document_id": "alice_doc"}
    ),
    ("GET", "/recover"): Row(rule(AUTH, 200, anon=200)),
    ("POST", "/recover"): Row(
        rule(AUTH, 422, anon=422),
        form=lambda c: {"username": c.make("fresh_name"), "code": "x", "new_password": "y"},
    ),
    ("GET", "/pro/persons"): Row(rule(PROS, 200, org_admin=403, **P)),
    ("POST", "/pro/persons/<person_id>/deposit"): Row(
        rule(MEMBERS, 302, **P), {"person_id": "pid"}, form=_file
    ),
    ("POST", "/pro/persons/<person_id>/recovery-code"): Row(
        rule({"referent_grant", "referent_nogrant"}, 200, **P),
        {"person_id": "pid"},
        form=lambda c: {},
    ),
    ("POST", "/pro/persons/<person_id>/members/<member_id>/leave"): Row(
        rule({"owner"}, 302, **P),
        {"person_id": "pid", "member_id": "fresh_member"},
        form=CONFIRMED,
    ),
    ("GET", "/pro/join"): Row(rule(PROS | ADMIN, 200, **P)),
    ("POST", "/pro/join"): Row(
        rule(PROS, 302, org_admin=403, **P), form=lambda c: {"username": "nobody-here"}
    ),
    ("GET", "/pro/profile"): Row(rule(PROS | ADMIN, 200, **P)),
    ("GET", "/pro/share-code.svg"): Row(rule(PROS, 200, **P)),
    ("GET", "/pro/persons/<person_id>/mandate"): Row(rule(DESK, 200, **P), {"person_id": "pid"}),
    # Packs: the person's own pages; sharing one (late, as in the API) needs a referent,
    # which Bob has not chosen.
    ("GET", "/packs"): Row(rule(PERSONS, 200, **P)),
    ("GET", "/packs/<procedure>"): Row(rule(PERSONS, 200, **P), {"procedure": "procedure"}),
    ("POST", "/packs/<procedure>/share-referent"): Row(
        rule({"owner"}, 302, other_person=422, **P), {"procedure": "procedure"}, form=CONFIRMED
    ),
    # Last: a yes gives that helper a `view` mandate, which no earlier row must see.
    ("POST", "/pro/persons/<person_id>/mandate"): Row(
        rule(DESK, 302, **P),
        {"person_id": "pid"},
        form=lambda c: {
            "scopes": "view",
            "duration": "1d",
            "username": "alice",
            "password": PASSWORD,
        },
    ),
    # The second factor's pages: a professional's session that passed it goes on (302),
    # a person has none (404).
    ("GET", "/sign-in/code"): Row(rule(PERSONS, 404, denied=302, **P)),
    ("POST", "/sign-in/code"): Row(
        rule(PERSONS, 404, denied=302, **P), form=lambda c: {"code": "000000"}
    ),
    ("GET", "/account/second-factor"): Row(rule(PERSONS, 404, denied=302, **P)),
    ("POST", "/account/second-factor"): Row(
        rule(PERSONS, 404, denied=302, **P), form=lambda c: {"code": "000000"}
    ),
    # The code again before a sensitive act (a wrong one makes nothing fresh).
    ("GET", "/account/confirm-code"): Row(rule(PERSONS, 404, denied=200, **P)),
    ("POST", "/account/confirm-code"): Row(
        rule(PERSONS, 404, denied=403, **P), form=lambda c: {"code": "000000"}
    ),
    ("GET", "/account/second-factor/backup-codes"): Row(rule(PERSONS, 404, denied=200, **P)),
    # A wrong code renews nothing.
    ("POST", "/account/second-factor/backup-codes"): Row(
        rule(PERSONS, 404, denied=403, **P), form=lambda c: {"code": "000000"}
    ),
    # Passkeys: using one (none here: nothing to offer; an empty answer is refused), and a
    # professional's own list, options, addition and removal.
    ("POST", "/sign-in/passkey/options"): Row(rule(set(), 404, **P)),
    ("POST", "/sign-in/passkey"): Row(rule(PERSONS, 404, denied=400, **P), form=lambda c: {}),
    ("GET", "/account/passkeys"): Row(rule(PERSONS, 404, denied=200, **P)),
    ("POST", "/account/passkeys"): Row(rule(PERSONS, 404, denied=400, **P), form=lambda c: {}),
    ("POST", "/account/passkeys/options"): Row(rule(PERSONS, 404, denied=200, **P)),
    ("POST", "/account/passkeys/<passkey_id>/remove"): Row(
        rule({"referent_grant", "referent_nogrant"}, 302, **P),
        {"passkey_id": "fresh_passkey"},
        form=CONFIRMED,
    ),
    ("GET", "/account/password"): Row(rule(AUTH, 200, **P)),
    ("POST", "/account/password"): Row(
        rule(AUTH, 403, **P),
        form=lambda c: {"current_password": "not-the-one", "new_password": "whatever-new"},
    ),
    # Last: "Ce n'était pas moi" ends every session of Alice's (the owner's cell).
    ("POST", "/notices/<notice_id>/not-me"): Row(
        rule({"owner"}, 302, **P), {"notice_id": "fresh_reset"}, form=lambda c: {}
    ),
    # Very last: it ends every session of each actor in turn.
    ("POST", "/sign-out-everywhere"): Row(rule(AUTH, 302, **P), form=CONFIRMED, fresh_token=True),
}


def _served(app: Flask) -> set[tuple[str, str]]:
    return {
        (method, r.rule)
        for r in app.url_map.iter_rules()
        for method in r.methods or ()
        if method not in {"HEAD", "OPTIONS"}
    }


@pytest.mark.no_csrf
def test_every_route_has_a_row(app: Flask) -> None:
    served = _served(app)
    described = set(API) | set(PAGES)
    assert served - described == set(), "routes without a row in the matrix"
    assert described - served == set(), "rows for routes that are not served"


def _tokens(app: Flask, world: World, clock: ClockType) -> dict[str, tuple[str, str]]:
    out = {}
    with app.extensions["locker"].session_factory() as s:
        for name, user in world.users.items():
            user = s.merge(user)
            # Each professional's sign-in has passed the second factor (persons have none).
            out[name] = (
                accounts.start_session(s, clock, user, "api", 24, second_factor_at=clock()),
                accounts.start_session(s, clock, user, "web", 24, second_factor_at=clock()),
            )
        s.commit()
    return out


def _spare(app: Flask, world: World, clock: ClockType) -> str:
    with app.extensions["locker"].session_factory() as s:
        pro = new_professional(s, clock, world.helper_org, "spare")
        member = add_member(s, clock, world.alice, pro)
        s.commit()
        return member.id


def _fill(value: Any, values: dict[str, str]) -> Any:
    if isinstance(value, str) and value.startswith("{") and value.endswith("}"):
        return values[value[1:-1]]
    if isinstance(value, dict):
        return {k: _fill(v, values) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, values) for v in value]
    return value


def _run(app: Flask, clock: Clock, rows: dict[tuple[str, str], Row], api: bool) -> list[str]:
    world = build_world(app, clock)
    tokens = _tokens(app, world, clock)
    spare = _spare(app, world, clock)
    served = _served(app)
    wrong = []
    for (method, path), row in rows.items():
        if (method, path) not in served:
            continue  # reported by test_every_route_has_a_row
        for name in ACTOR_NAMES:
            cell = Cell(app, clock, world, name, spare)
            values = {arg: cell.make(src) for arg, src in row.args.items()}
            url = path
            for arg, value in values.items():
                url = (
                    url.replace(f"<{arg}>", value)
                    .replace(f"<path:{arg}>", value)
                    .replace(f"<int:{arg}>", value)
                )
            client = app.test_client()
            headers = {}
            if name != "anonymous":
                api_token, web_token = tokens[name]
                if row.fresh_token:
                    api_token, web_token = _tokens(app, world, clock)[name]
                if api:
                    headers["Authorization"] = f"Bearer {api_token}"
                else:
                    with client.session_transaction() as session:
                        session["_user_id"] = web_token
            kwargs: dict[str, Any] = {"headers": headers}
            if row.json is not None:
                kwargs["json"] = _fill(row.json, values)
            if row.form is not None:
                kwargs["data"] = row.form(cell)
            response = client.open(url, method=method, **kwargs)
            if response.status_code != row.expect(name):
                wrong.append(
                    f"{method} {path} {name}: {response.status_code} != {row.expect(name)}"
                )
            response.close()
    return wrong


@pytest.mark.no_csrf
def test_api_matrix(app: Flask, clock: Clock) -> None:
    wrong = _run(app, clock, API, api=True)
    assert not wrong, "\n".join(wrong)


@pytest.mark.no_csrf
def test_page_matrix(app: Flask, clock: Clock) -> None:
    wrong = _run(app, clock, PAGES, api=False)
    assert not wrong, "\n".join(wrong)


# What a professional's sign-in reaches before its second factor passes: the API routes
# of enrolment, who am I and signing out; the pages of the code, enrolment, signing in and
# out, and the pages open to anyone. Everything else: 403 second_factor_required, or a
# redirect to the code's page.
OPEN_PENDING_API = {
    ("GET", "/api/v1/openapi.json"): 200,
    ("POST", "/api/v1/auth/token"): 400,
    ("DELETE", "/api/v1/auth/token"): 204,
    ("DELETE", "/api/v1/auth/tokens"): 204,
    ("GET", "/api/v1/me"): 200,
    ("POST", "/api/v1/me/totp"): 409,  # enrolled already: the code, not a new secret
    ("POST", "/api/v1/me/totp/confirm"): 409,
    ("GET", "/api/v1/audit/checkpoint"): 200,
    ("GET", "/api/v1/audit/public-key"): 200,
    ("GET", "/api/v1/audit/proofs/consistency"): 400,
    ("POST", "/api/v1/recovery"): 422,  # open to anyone: a person's recovery code
    ("POST", "/api/v1/invitations/accept"): 422,  # open to anyone holding an invitation
}
OPEN_PENDING_PAGES = {
    ("GET", "/sign-in"): 200,
    ("POST", "/sign-in"): 401,
    ("GET", "/sign-in/proconnect"): 404,  # off here, open before the factor when on
    ("GET", "/sign-in/proconnect/callback"): 404,
    ("GET", "/sign-out/proconnect"): 404,
    ("POST", "/sign-out"): 302,
    ("GET", "/sign-in/code"): 200,
    ("POST", "/sign-in/code"): 401,
    ("GET", "/account/second-factor"): 302,
    ("POST", "/account/second-factor"): 302,
    ("POST", "/sign-in/passkey/options"): 404,  # no passkey: the code is the way
    ("POST", "/sign-in/passkey"): 400,  # an empty answer
    ("GET", "/accessibility"): 200,
    ("GET", "/information"): 200,
    ("POST", "/information"): 200,
    ("GET", "/privacy"): 200,
    ("GET", "/static/<path:filename>"): 200,
    # The operator's probes and metrics know no session (web/ops.py).
    ("GET", "/healthz"): 200,
    ("GET", "/readyz"): 200,
    ("GET", "/metrics"): 200,
}


@pytest.mark.no_csrf
@pytest.mark.parametrize("api", [True, False], ids=["api", "pages"])
def test_a_sign_in_before_its_second_factor_reaches_nothing(
    app: Flask, clock: Clock, api: bool
) -> None:
    world = build_world(app, clock)
    spare = _spare(app, world, clock)
    found = app.extensions["locker"]
    rows, opened = (API, OPEN_PENDING_API) if api else (PAGES, OPEN_PENDING_PAGES)
    wrong = []
    for (method, path), row in rows.items():
        cell = Cell(app, clock, world, "referent_grant", spare)
        values = {arg: cell.make(src) for arg, src in row.args.items()}
        url = path
        for arg, value in values.items():
            url = url.replace(f"<{arg}>", value).replace(f"<path:{arg}>", value)
        with found.session_factory() as s:
            pro = s.merge(world.users["referent_grant"])
            token = accounts.start_session(s, clock, pro, "api" if api else "web", 24)
            s.commit()
        client = app.test_client()
        kwargs: dict[str, Any] = {}
        if api:
            kwargs["headers"] = {"Authorization": f"Bearer {token}"}
        else:
            with client.session_transaction() as session:
                session["_user_id"] = token
        if row.json is not None:
            kwargs["json"] = _fill(row.json, values)
        if row.form is not None:
            kwargs["data"] = row.form(cell)
        response = client.open(url, method=method, **kwargs)
        if (method, path) in opened:
            expected, ok = opened[(method, path)], True
        elif api:
            expected = 403
            ok = response.get_json(silent=True) == {"error": "second_factor_required"}
        else:
            expected = 302
            ok = response.headers.get("Location", "").startswith("/sign-in/code")
        if response.status_code != expected or not ok:
            wrong.append(f"{method} {path}: {response.status_code} != {expected}")
        response.close()
    assert not wrong, "\n".join(wrong)
