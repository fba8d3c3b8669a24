"""The interface in the person's language: complete catalogues, a remembered choice, no French
left over in another locale, `<html lang dir>` following the locale."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

import web
from locker.actors import Actor
from locker.models import Professional
from sharing.counter import create_counter_link
from sharing.models import Passkey
from tests.conftest import Actors
from tests.factories import Clock, World, add_passkey, build_world, context, new_professional
from tests.web.test_pages import sign_in
from web.i18n import FIELD_NAMES, LANGUAGES, Language

TRANSLATIONS = Path(web.__file__).parent / "translations"
ROOT = Path(web.__file__).parent.parent
OTHERS = [language for language in LANGUAGES if language.code != "fr"]
EXTRACT = [
    sys.executable,
    "-m",
    "babel.messages.frontend",
    "extract",
    "-F",
    "babel.cfg",
    "-k",
    "_l",
]
PLACEHOLDER = re.compile(r"\{[a-z_]+\}|%\([a-z_]+\)[sd]")
# Identical in French and in the language: names, units, brands.
SAME_EVERYWHERE = {"PDF", "JPEG", "PNG", "WebP", "HEIC", "QR", "OK", "CAF", "RSA"}


def _catalog(path: Path) -> Catalog:
    with path.open("rb") as file:
        return read_po(file)


def _key(message: Message) -> str:
    """A message's id (the singular, for a message with plural forms)."""
    return str(message.id[0] if isinstance(message.id, (tuple, list)) else message.id)


def _forms(message: Message) -> list[str]:
    """Every translated form of a message (one, or one per plural form of the language)."""
    return (
        [str(s) for s in message.string]
        if isinstance(message.string, (tuple, list))
        else [str(message.string)]
    )


def _ids(catalog: Catalog) -> set[str]:
    return {_key(message) for message in catalog if message.id}


def _french(text: str) -> bool:
    """A text worth catching if it shows untranslated: words, not a code or a unit."""
    # Words with a small letter: a code such as "68VG6QA2" is nobody's language, and a
    # placeholder's name ("%(num)d", "{limit_mb}") is no word at all.
    text = re.sub(r"%\(\w+\)\w|\{\w+\}", " ", text)
    words = [w for w in re.findall(r"[^\W\d_]{2,}", text) if not w.isupper()]
    return len(words) >= 2 and not set(words) <= SAME_EVERYWHERE


def test_the_template_holds_every_string_of_the_code(tmp_path: Path) -> None:
    fresh = tmp_path / "messages.pot"
    subprocess.run(
        [*EXTRACT, "--no-location", "-o", str(fresh), "."],
        cwd=ROOT,
        check=True,
    )
    committed = _ids(_catalog(TRANSLATIONS / "messages.pot"))
    extracted = _ids(_catalog(fresh))
    assert extracted - committed == set(), "run scripts/translations.sh update"
    assert committed - extracted == set(), "run scripts/translations.sh update"


@pytest.mark.parametrize("language", OTHERS, ids=lambda language: language.code)
def test_every_string_is_translated_and_compiled(language: Language) -> None:
    template = _ids(_catalog(TRANSLATIONS / "messages.pot"))
    folder = TRANSLATIONS / language.babel / "LC_MESSAGES"
    catalog = _catalog(folder / "messages.po")
    assert _ids(catalog) >= template
    for message in catalog:
        if not message.id or _key(message) not in template:
            continue
        msgid = _key(message)
        assert not message.fuzzy, f"{language.code}: {msgid!r} is fuzzy"
        for msgstr in _forms(message):
            assert msgstr.strip(), f"{language.code}: {msgid!r} not translated"
            assert set(PLACEHOLDER.findall(msgstr)) == set(PLACEHOLDER.findall(msgid)), (
                f"{language.code}: {msgstr!r} must keep the placeholders of {msgid!r}"
            )
            if _french(msgid):
                assert msgstr != msgid, f"{language.code}: {msgid!r} left in French"
    with (folder / "messages.mo").open("rb") as file:
        compiled = {_key(m): _forms(m) for m in read_mo(file) if m.id}
    wanted = {_key(m): _forms(m) for m in catalog if m.id}
    assert compiled == wanted, "run scripts/translations.sh compile"


class _Text(HTMLParser):
    """The visible text of a page, one piece per text node, plus its <html> attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.pieces: list[str] = []
        self.html: dict[str, str | None] = {}
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "html":
            self.html = dict(attrs)
        if tag in {"script", "style"}:
            self._skip += 1
        for name, value in attrs:
            if name in {"aria-label", "title", "alt", "placeholder"} and value:
                self.pieces.append(value.strip())

    def handle_endtag(self, tag: str) -> None:
        if tag in {"script", "style"}:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip and data.strip():
            self.pieces.append(" ".join(data.split()))


def _read(client: FlaskClient, path: str) -> _Text:
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    parsed = _Text()
    parsed.feed(response.get_data(as_text=True))
    return parsed


def person_pages(world: World) -> list[str]:
    """Every page a signed-in person reaches from the menu, and a paper's own pages."""
    return [
        "/papers",
        "/papers/new",
        f"/papers/{world.doc}",
        f"/papers/{world.doc}/sharing",
        "/trash",
        "/packs",
        "/packs/rsa",
        "/accompaniment",
        "/helpers",
        "/access-log",
        "/account/password",
        "/settings",
        "/settings/close",
        "/counter-links",
        "/counter-links/new",
    ]


def _counter_view(app: Flask, world: World) -> str:
    """A fresh counter link of Alice's: the agent's view opens once, in one browser."""
    found = app.extensions["locker"]
    with found.session_factory() as session:
        alice = context(found, session, Actor(kind="person", id=world.alice.id))
        made = create_counter_link(
            alice, person_id=world.alice.id, document_ids=[world.doc], recipient="CAF de Lyon"
        )
        session.commit()
        return f"/c/{made.token}"


def _pages(app: Flask, world: World) -> dict[str, list[str]]:
    person = person_pages(world)
    pro = [
        "/pro",
        "/pro/persons",
        f"/pro/persons/{world.alice.id}",
        f"/pro/persons/{world.alice.id}/papers/{world.doc}",
        "/pro/join",
        "/pro/profile",
        "/pro/my-actions",
        "/settings",
    ]
    pro.append("/account/second-factor/backup-codes")
    pro.append("/account/confirm-code")
    pro.append("/account/passkeys")
    found = app.extensions["locker"]
    with found.session_factory() as session:
        # A passkey: listed in the settings, offered on the code's pages.
        referent = session.merge(world.users["referent_grant"])
        if not session.scalar(select(Passkey.id).where(Passkey.professional_id == referent.id)):
            add_passkey(session, found.clock, referent)
            session.commit()
        if session.scalar(select(Professional.id).where(Professional.email == ENROLLING)) is None:
            org = session.merge(world.org)
            new_professional(
                session, found.clock, org, "Enrolling", email=ENROLLING, enrolled=False
            )
            session.commit()
    return {
        "": [
            "/sign-in",
            "/recover",
            "/accessibility",
            "/information",
            "/privacy",
            "/c",
            _counter_view(app, world),
            "/invitation",
        ],
        "alice": person,
        "referent_grant@example.org": pro,
        # The organisation admin's pages (a colleague's deactivation: its confirmation step).
        "org_admin@example.org": [
            "/org",
            f"/org/professionals/{world.users['intervenor_grant'].id}/deactivate",
        ],
        # Signed in with the password only: the second factor's pages.
        "pending:referent_grant@example.org": ["/sign-in/code"],
        f"pending:{ENROLLING}": ["/account/second-factor"],
    }


ENROLLING = "enrolling@example.org"


def _signed_in(app: Flask, who: str) -> FlaskClient:
    """A client signed in as `who` ("pending:" first: the password only, no code)."""
    client = app.test_client()
    if who.startswith("pending:"):
        client.auto_second_factor = False  # type: ignore[attr-defined]
    if who:
        assert sign_in(client, who.removeprefix("pending:")).status_code == 302
    return client


# The words do not depend on the database: the pages are walked once, on the default stack.
@pytest.mark.parametrize("stack", ["sqlite-file"], indirect=True)
def test_every_page_in_every_language_has_no_french_left(app: Flask, clock: Clock) -> None:
    world = build_world(app, clock)
    # Names and titles are the people's own words, shown as they wrote them.
    theirs = {"Carte d'identité", "Avis d'imposition", "CHRS Les Lilas", "Espace numérique"}
    theirs.add("CAF de Lyon")  # whom the person made a counter link for
    theirs |= {user.display_name for user in world.users.values()}
    pages = _pages(app, world)  # (it adds a professional still enrolling)
    theirs |= {"Enrolling", ENROLLING}  # the organisation's list shows its colleagues' e-mails
    theirs |= {user.email for user in world.users.values() if isinstance(user, Professional)}
    for who, paths in pages.items():
        client = _signed_in(app, who)
        for path in paths:
            french = {p for p in _read(client, f"{path}?lang=fr").pieces if _french(p)}
            french -= {p for p in french if any(name in p for name in theirs)}
            assert french, f"{path}: nothing to compare"
            for language in OTHERS:
                page = _read(client, f"{path}?lang={language.code}")
                assert page.html.get("lang") == language.code
                assert page.html.get("dir") == language.direction
                left = french & set(page.pieces)
                assert not left, f"{path} in {language.code} shows French: {sorted(left)[:5]}"


@pytest.mark.parametrize("stack", ["sqlite-file"], indirect=True)
def test_each_page_has_one_heading_and_a_title_of_its_own(app: Flask, clock: Clock) -> None:
    """One <h1>; a <title> that starts with what the page is for (its heading, but on the
    paper's own page, which names the paper), then the service; no two titles alike."""
    world = build_world(app, clock)
    titles: dict[str, str] = {}
    for who, paths in _pages(app, world).items():
        client = _signed_in(app, who)
        for path in paths:
            html = client.get(path).get_data(as_text=True)
            headings = re.findall(r"<h1[^>]*>(.*?)</h1>", html, re.S)
            assert len(headings) == 1, (path, headings)
            heading = " ".join(re.sub(r"<[^>]+>", " ", headings[0]).split())
            title = " ".join(re.search(r"<title>(.*?)</title>", html, re.S).group(1).split())
            assert title.endswith(" · Mon coffre-fort"), (path, title)
            assert heading.startswith(title.removesuffix(" · Mon coffre-fort")), (path, title)
            titles.setdefault(f"{who}:{title}", path)
    every = sum(len(paths) for paths in _pages(app, world).values())
    assert len(titles) == every, "two pages share a title"


def test_the_choice_is_remembered_and_the_browser_asked_first(client: FlaskClient) -> None:
    asked = client.get("/sign-in", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert '<html lang="en" dir="ltr">' in asked.get_data(as_text=True)
    chosen = client.get("/sign-in?lang=fr", headers={"Accept-Language": "en"})
    assert '<html lang="fr" dir="ltr">' in chosen.get_data(as_text=True)
    assert "lang=fr" in chosen.headers["Set-Cookie"]
    later = client.get("/sign-in", headers={"Accept-Language": "en"})
    assert '<html lang="fr"' in later.get_data(as_text=True)
    unknown = client.get("/sign-in?lang=xx-evil", headers={"Accept-Language": "en"})
    assert '<html lang="fr"' in unknown.get_data(as_text=True)
    assert "Set-Cookie" not in unknown.headers or "lang=" not in unknown.headers["Set-Cookie"]


def test_a_refusal_from_the_api_speaks_the_chosen_language(client: FlaskClient) -> None:
    for language in LANGUAGES:
        answer = client.get(f"/api/v1/documents/nope?lang={language.code}")
        assert answer.status_code == 401
        message = answer.get_json()["message"]
        assert message
        if language.code != "fr":
            assert message != client.get("/api/v1/documents/nope?lang=fr").get_json()["message"]


def test_every_field_a_refusal_names_has_words_for_the_person() -> None:
    """A refusal whose message names its field (invalid input, already taken) says which
    in words, never as the code's identifier ("after", "member_id")."""
    worded = {"InvalidInput", "AlreadyExists"}
    named: set[str] = set()
    for folder in ("locker", "sharing", "web"):
        for path in (ROOT / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Name)
                    and node.func.id in worded
                ):
                    named |= {
                        keyword.value.value
                        for keyword in node.keywords
                        if keyword.arg == "field"
                        and isinstance(keyword.value, ast.Constant)
                        and isinstance(keyword.value.value, str)
                    }
    assert {"after", "member_id", "siret", "username"} <= named, "the scan found the refusals"
    assert named - set(FIELD_NAMES) == set()


def test_the_account_keeps_the_choice_on_another_phone(app: Flask, world: Actors) -> None:
    first = app.test_client()
    sign_in(first, "alice")
    assert '<html lang="en"' in first.get("/papers?lang=en").get_data(as_text=True)
    borrowed = app.test_client()
    assert '<html lang="fr"' in borrowed.get("/sign-in").get_data(as_text=True)
    sign_in(borrowed, "alice")
    assert '<html lang="en"' in borrowed.get("/papers").get_data(as_text=True)
    # Signed out, the borrowed phone speaks its own language again.
    stranger = app.test_client()
    stranger.set_cookie("lang", "en")
    sign_in(stranger, "bob")
    assert '<html lang="en"' in stranger.get("/papers").get_data(as_text=True)
    fresh = app.test_client()
    sign_in(fresh, "bob")
    assert '<html lang="en"' in fresh.get("/papers").get_data(as_text=True), "kept from cookie"


@pytest.mark.parametrize("stack", ["sqlite-file"], indirect=True)
def test_the_persons_pages_speak_in_short_sentences(app: Flask, clock: Clock) -> None:
    world = build_world(app, clock)
    lengths = []
    for who in ("", "alice"):
        client = app.test_client()
        if who:
            assert sign_in(client, who).status_code == 302
        for path in _pages(app, world)[who]:
            for piece in _read(client, f"{path}?lang=fr").pieces:
                for said in re.split(r"(?<=[.!?])\s+", piece):
                    words = len(re.findall(r"[^\W\d_]+(?:['’][^\W\d_]+)?", said))
                    assert words <= 20, f"{path}: {said!r} has {words} words"
                    if words and said.endswith((".", "!", "?")):
                        lengths.append(words)
    assert len(lengths) > 30
    assert sum(lengths) / len(lengths) <= 12, sum(lengths) / len(lengths)
