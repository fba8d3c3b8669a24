"""ProConnect sign-in against a real OpenID provider (oidc-provider, tests/oidc_provider.py):
the whole flow over HTTP, and each attack refused and recorded."""

from __future__ import annotations

import dataclasses
import html
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from locker.models import AuditRecord, AuthSession, Organization, Professional
from locker.settings import ProConnectSettings, Settings
from sharing.models import ProConnectAttempt, ProConnectSignIn
from sharing.organizations import set_siret
from sharing.proconnect import unlink_proconnect
from tests.factories import Clock, new_organization, new_professional
from tests.oidc_provider import CLIENT_ID, CLIENT_SECRET, OpenIdProvider, oidc_provider
from tests.web.test_pages import csrf
from web.app import create_app

__all__ = ["oidc_provider"]  # the fixture, used by name

ACR = ("eidas1", "eidas2", "eidas3")


def with_check_digit(first13: str) -> str:
    """A SIRET: 13 digits and the Luhn check digit that makes it valid."""
    for last in "0123456789":
        digits = [int(c) for c in first13 + last]
        total = sum(
            (d * 2 - 9 if d * 2 > 9 else d * 2) if i % 2 else d
            for i, d in enumerate(reversed(digits))
        )
        if total % 10 == 0:
            return first13 + last
    raise AssertionError("unreachable")


SIRET = with_check_digit("1234567800001")
OTHER_SIRET = with_check_digit("9876543200001")
UNKNOWN_SIRET = with_check_digit("5555555500001")


@dataclass
class Setting:
    app: Flask
    provider: OpenIdProvider
    pro_id: str
    other_pro_id: str
    browser: requests.Session


def proconnect_app(
    settings: Settings, provider: OpenIdProvider, clock: Clock, client_id: str = CLIENT_ID
) -> Flask:
    configured = dataclasses.replace(
        settings,
        proconnect=ProConnectSettings(
            issuer=provider.issuer,
            client_id=client_id,
            client_secret=CLIENT_SECRET,
            acr_values=ACR,
        ),
    )
    return create_app(configured, config={"TESTING": True}, clock=clock)


def _arrange(app: Flask, clock: Clock) -> tuple[str, str]:
    with app.extensions["locker"].session_factory() as s:
        org = new_organization(s, clock, "CHRS Les Tilleuls")
        other = new_organization(s, clock, "CCAS")
        set_siret(s, clock, organization_id=org.id, siret=SIRET)
        set_siret(s, clock, organization_id=other.id, siret=OTHER_SIRET)
        pro = new_professional(s, clock, org, "camille", keyring=app.extensions["locker"].keyring)
        other_pro = new_professional(
            s, clock, other, "dominique", keyring=app.extensions["locker"].keyring
        )
        s.commit()
        return pro.id, other_pro.id


@pytest.fixture
def setting(settings: Settings, oidc_provider: OpenIdProvider) -> Iterator[Setting]:
    clock = Clock()
    app = proconnect_app(settings, oidc_provider, clock)
    pro_id, other_pro_id = _arrange(app, clock)
    oidc_provider.forge(False)
    yield Setting(app, oidc_provider, pro_id, other_pro_id, requests.Session())
    app.extensions["locker"].engine.dispose()


def account(**changes: str) -> dict[str, str]:
    """Camille's ProConnect account, at eidas1 with a second factor, as `changes` say."""
    return {
        "sub": "pc-camille",
        "email": "camille@example.org",
        "email_verified": "true",
        "siret": SIRET,
        "acr": "eidas1",
        "amr": "pwd,mfa",
        **changes,
    }


def to_provider_and_back(
    s: Setting, client: FlaskClient, chosen: dict[str, str], tamper: Callable[[str], str] = str
) -> str:
    """Press "S'identifier avec ProConnect", sign in there: the address the provider sends
    the browser back to (this service's callback, with its code and state)."""
    s.provider.choose(**chosen)
    start = client.get("/sign-in/proconnect")
    assert start.status_code == 302, start.data[:300]
    asked = parse_qs(urlsplit(start.headers["Location"]).query)
    assert asked["code_challenge_method"] == ["S256"] and asked["code_challenge"]
    assert asked["state"] and asked["nonce"] and asked["acr_values"] == [" ".join(ACR)]
    back = s.provider.follow(s.browser, tamper(start.headers["Location"]))
    assert back.startswith("http://localhost/sign-in/proconnect/callback?"), back
    return back


def come_back(client: FlaskClient, url: str) -> TestResponse:
    parts = urlsplit(url)
    return client.get(f"{parts.path}?{parts.query}")


def sign_in_records(app: Flask) -> list[tuple[str, str, str | None]]:
    with app.extensions["locker"].session_factory() as session:
        rows = session.execute(
            select(AuditRecord.outcome, AuditRecord.reason, AuditRecord.actor_id)
            .where(AuditRecord.action == "session:sign_in")
            .order_by(AuditRecord.seq)
        )
        return [(o, r, a) for o, r, a in rows]


def words(answer: TestResponse) -> str:
    return html.unescape(answer.get_data(as_text=True))


def signed_in(client: FlaskClient) -> bool:
    answer = client.get("/pro")
    return answer.status_code == 200


def test_a_professional_signs_in_with_proconnect(setting: Setting) -> None:
    client = setting.app.test_client()
    page = client.get("/sign-in")
    assert "S'identifier avec ProConnect" in words(page)
    answer = come_back(client, to_provider_and_back(setting, client, account()))
    assert answer.status_code == 302 and answer.headers["Location"] == "/"
    # The second factor used at ProConnect (amr "mfa") is this sign-in's: no code asked.
    assert signed_in(client)
    assert sign_in_records(setting.app)[-1] == ("allowed", "proconnect_mfa", setting.pro_id)
    with setting.app.extensions["locker"].session_factory() as session:
        pro = session.get(Professional, setting.pro_id)
        assert pro is not None and pro.proconnect_sub == "pc-camille"
        # Nothing of the attempt is left to replay.
        assert session.scalar(select(func.count()).select_from(ProConnectAttempt)) == 0


def test_without_a_second_factor_at_proconnect_the_totp_code_is_asked(setting: Setting) -> None:
    client = setting.app.test_client()
    answer = come_back(client, to_provider_and_back(setting, client, account(amr="pwd")))
    assert answer.status_code == 302
    assert sign_in_records(setting.app)[-1] == ("allowed", "proconnect", setting.pro_id)
    waiting = client.get("/pro")
    assert waiting.status_code == 302
    assert urlsplit(waiting.headers["Location"]).path == "/sign-in/code"


def refused(setting: Setting, answer: TestResponse, reason: str, client: FlaskClient) -> None:
    assert answer.status_code == 403, answer.status_code
    assert not signed_in(client)
    assert sign_in_records(setting.app)[-1][:2] == ("denied", f"proconnect:{reason}")


def test_an_id_token_signed_by_another_key_is_refused(setting: Setting) -> None:
    setting.provider.forge(True)
    client = setting.app.test_client()
    answer = come_back(client, to_provider_and_back(setting, client, account()))
    refused(setting, answer, "bad_signature", client)
    assert "n'a pas pu être vérifiée" in words(answer)


def test_an_id_token_signed_with_hs256_is_refused(
    settings: Settings, oidc_provider: OpenIdProvider
) -> None:
    """The client secret could sign HS256 tokens: the algorithms are pinned to RS256/ES256."""
    clock = Clock()
    app = proconnect_app(settings, oidc_provider, clock, client_id="locker-hs256")
    _arrange(app, clock)
    setting = Setting(app, oidc_provider, "", "", requests.Session())
    client = app.test_client()
    answer = come_back(client, to_provider_and_back(setting, client, account()))
    refused(setting, answer, "bad_signature", client)
    app.extensions["locker"].engine.dispose()


def _other_nonce(url: str) -> str:
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    query["nonce"] = "a-nonce-this-browser-never-asked-for"
    return urlunsplit(parts._replace(query=urlencode(query)))


def test_an_id_token_of_another_nonce_is_refused(setting: Setting) -> None:
    client = setting.app.test_client()
    back = to_provider_and_back(setting, client, account(), tamper=_other_nonce)
    refused(setting, come_back(client, back), "bad_nonce", client)


def test_a_code_used_already_is_refused_by_the_provider(setting: Setting) -> None:
    client = setting.app.test_client()
    back = to_provider_and_back(setting, client, account())
    code = parse_qs(urlsplit(back).query)["code"][0]
    with setting.app.extensions["locker"].session_factory() as session:
        verifier = session.scalars(select(ProConnectAttempt.code_verifier)).one()
    # Someone who caught the code (and the verifier) redeems it first...
    stolen = requests.post(
        f"{setting.provider.issuer}/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "code_verifier": verifier,
            "redirect_uri": "http://localhost/sign-in/proconnect/callback",
        },
        auth=(CLIENT_ID, CLIENT_SECRET),
        timeout=10,
    )
    assert stolen.status_code == 200
    # ...then the provider refuses it to the service: nobody is signed in.
    refused(setting, come_back(client, back), "code_refused", client)


def test_the_state_works_once_even_with_a_replayed_cookie(setting: Setting) -> None:
    client = setting.app.test_client()
    back = to_provider_and_back(setting, client, account())
    cookie = client.get_cookie("locker")
    assert cookie is not None
    assert come_back(client, back).status_code == 302
    replay = setting.app.test_client()
    replay.set_cookie("locker", cookie.value)
    answer = come_back(replay, back)
    refused(setting, answer, "expired", replay)
    assert "a déjà servi" in words(answer)


def test_a_sign_in_cancelled_at_proconnect_signs_nobody_in(setting: Setting) -> None:
    client = setting.app.test_client()
    start = client.get("/sign-in/proconnect")
    state = parse_qs(urlsplit(start.headers["Location"]).query)["state"][0]
    answer = client.get(f"/sign-in/proconnect/callback?error=access_denied&state={state}")
    refused(setting, answer, "cancelled", client)
    assert "a été interrompue" in words(answer)


def test_a_callback_without_the_browser_that_left_is_refused(setting: Setting) -> None:
    """Login CSRF: a code and state sent to someone else's browser open nothing there."""
    client = setting.app.test_client()
    back = to_provider_and_back(setting, client, account())
    victim = setting.app.test_client()
    refused(setting, come_back(victim, back), "expired", victim)


@pytest.mark.parametrize(
    ("changes", "reason", "said"),
    [
        ({"siret": UNKNOWN_SIRET}, "unknown_organisation", "n'est pas inscrite"),
        ({"email_verified": "false"}, "unverified_email", "pas vérifiée"),
        ({"acr": "https://proconnect.gouv.fr/assurance/self-asserted"}, "weak_acr", "niveau"),
        ({"email": "nobody@example.org", "sub": "pc-x"}, "unknown_email", "Aucun compte"),
        ({"email": "dominique@example.org", "sub": "pc-d"}, "other_organisation", "autre"),
    ],
    ids=["unknown-organisation", "unverified-email", "weak-acr", "unknown-email", "other-org"],
)
def test_an_identity_that_is_not_one_of_our_professionals_is_refused(
    setting: Setting, changes: dict[str, str], reason: str, said: str
) -> None:
    client = setting.app.test_client()
    with setting.app.extensions["locker"].session_factory() as session:
        before = session.scalar(select(func.count()).select_from(Professional))
    answer = come_back(client, to_provider_and_back(setting, client, account(**changes)))
    refused(setting, answer, reason, client)
    assert said in words(answer)
    with setting.app.extensions["locker"].session_factory() as session:
        # No account is ever created, nor linked.
        assert session.scalar(select(func.count()).select_from(Professional)) == before
        assert session.scalar(select(func.count()).select_from(AuthSession)) == 0
        linked = select(Professional.id).where(Professional.proconnect_sub.is_not(None))
        assert session.scalars(linked).all() == []


def test_a_deactivated_or_relinked_professional_is_refused(setting: Setting) -> None:
    client = setting.app.test_client()
    assert come_back(client, to_provider_and_back(setting, client, account())).status_code == 302
    # The same e-mail from another ProConnect account is not Camille's.
    other = setting.app.test_client()
    answer = come_back(other, to_provider_and_back(setting, other, account(sub="pc-impostor")))
    refused(setting, answer, "other_account", other)
    with setting.app.extensions["locker"].session_factory() as session:
        pro = session.get(Professional, setting.pro_id)
        assert pro is not None
        pro.disabled_at = setting.app.extensions["locker"].clock()
        session.commit()
    again = setting.app.test_client()
    refused(
        setting,
        come_back(again, to_provider_and_back(setting, again, account())),
        "deactivated",
        again,
    )


def test_the_operator_unlinks_an_old_proconnect_account(setting: Setting) -> None:
    first = setting.app.test_client()
    assert come_back(first, to_provider_and_back(setting, first, account())).status_code == 302
    with setting.app.extensions["locker"].session_factory() as session:
        unlink_proconnect(session, setting.app.extensions["locker"].clock, setting.pro_id)
        session.commit()
    assert not signed_in(first)  # every sign-in of theirs ended
    again = setting.app.test_client()
    answer = come_back(again, to_provider_and_back(setting, again, account(sub="pc-new")))
    assert answer.status_code == 302 and signed_in(again)
    with setting.app.extensions["locker"].session_factory() as session:
        pro = session.get(Professional, setting.pro_id)
        assert pro is not None and pro.proconnect_sub == "pc-new"


def test_signing_out_signs_out_at_proconnect_too(setting: Setting) -> None:
    client = setting.app.test_client()
    come_back(client, to_provider_and_back(setting, client, account()))
    assert signed_in(client)
    out = client.post("/sign-out", data={"csrf_token": csrf(client, "/settings")})
    assert out.status_code == 200
    found = re.search(r'href="([^"]+)" id="proconnect-sign-out"', words(out))
    assert found is not None and found.group(1), words(out)[:500]
    end_session = found.group(1)
    assert f'content="0;url={end_session}"' in words(out)  # goes on by itself
    target = urlsplit(end_session)
    assert end_session.startswith(f"{setting.provider.issuer}/session/end?")
    asked = parse_qs(target.query)
    assert asked["post_logout_redirect_uri"] == ["http://localhost/sign-out/proconnect"]
    assert asked["id_token_hint"] and asked["state"]
    # Signed out here at once, before the provider answers.
    assert not signed_in(client)
    assert "_session" in setting.browser.cookies  # still signed in at the provider
    back = setting.provider.follow(setting.browser, end_session)
    assert parse_qs(urlsplit(back).query)["state"] == asked["state"]
    landed = come_back(client, back)
    assert landed.status_code == 302 and landed.headers["Location"] == "/sign-in"
    assert "chez ProConnect" in words(client.get("/sign-in"))
    # The provider's own session is over too: its cookie was removed.
    assert "_session" not in setting.browser.cookies


def test_the_id_token_of_an_ended_sign_in_is_not_kept(setting: Setting) -> None:
    first = setting.app.test_client()
    come_back(first, to_provider_and_back(setting, first, account()))
    with setting.app.extensions["locker"].session_factory() as session:
        for row in session.scalars(select(AuthSession)):
            row.revoked_at = setting.app.extensions["locker"].clock()  # ended, e.g. idle
        session.commit()
    second = setting.app.test_client()
    come_back(second, to_provider_and_back(setting, second, account()))
    with setting.app.extensions["locker"].session_factory() as session:
        assert session.scalar(select(func.count()).select_from(ProConnectSignIn)) == 1


def test_proconnect_is_off_until_configured(app: Flask) -> None:
    client = app.test_client()
    assert "ProConnect" not in client.get("/sign-in").get_data(as_text=True)
    for path in ("/sign-in/proconnect", "/sign-in/proconnect/callback", "/sign-out/proconnect"):
        assert client.get(path).status_code == 404


def test_an_organisation_siret_is_checked_and_unique(app: Flask, clock: Clock) -> None:
    from locker.errors import AlreadyExists, InvalidInput
    from sharing.organizations import valid_siret

    assert valid_siret(SIRET) and valid_siret("73282932000074")
    assert not valid_siret("73282932000075") and not valid_siret("7328293200007")
    assert not valid_siret("7328293200007a") and not valid_siret("７３２８２９３２０００７４")
    assert valid_siret("35600000000048")  # La Poste's head office (Luhn)
    assert valid_siret("35600000012345") is (sum(map(int, "35600000012345")) % 5 == 0)
    with app.extensions["locker"].session_factory() as s:
        org = new_organization(s, clock, "A")
        other = new_organization(s, clock, "B")
        set_siret(s, clock, organization_id=org.id, siret="732 829 320 00074")
        with pytest.raises(AlreadyExists):
            set_siret(s, clock, organization_id=other.id, siret="73282932000074")
        with pytest.raises(InvalidInput):
            set_siret(s, clock, organization_id=other.id, siret="73282932000075")
        set_siret(s, clock, organization_id=org.id, siret=None)
        found = s.get(Organization, org.id)
        assert found is not None and found.siret is None


def test_starts_are_counted_per_address(setting: Setting) -> None:
    """Each start keeps a row until it comes back: one address cannot fill the table."""
    office = setting.app.test_client()
    office.environ_base["REMOTE_ADDR"] = "203.0.113.7"
    for _ in range(60):
        assert office.get("/sign-in/proconnect").status_code == 302
    answer = office.get("/sign-in/proconnect")
    assert answer.status_code == 429
    assert "Trop d'essais" in words(answer) and "Location" not in answer.headers
    with setting.app.extensions["locker"].session_factory() as session:
        assert session.scalar(select(func.count()).select_from(ProConnectAttempt)) == 60
    elsewhere = setting.app.test_client()
    elsewhere.environ_base["REMOTE_ADDR"] = "198.51.100.4"
    assert elsewhere.get("/sign-in/proconnect").status_code == 302
