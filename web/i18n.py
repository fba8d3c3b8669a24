"""The person's language: gettext catalogues through Flask-Babel, French being the source.

The locale is, in order: `?lang=` on any page (remembered in a cookie and, once signed in,
on the account), the account's choice, the cookie, then the browser's Accept-Language;
French when nothing matches. Python code marks its words with
`_l` (resolved when shown, in the request's locale) and templates with `_()`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from babel import Locale
from babel.lists import format_list
from flask import Flask, Response, g, request
from flask_babel import Babel, format_decimal, get_locale, gettext
from flask_babel import lazy_gettext as _l

from locker.accounts import User, remember_language
from locker.documents import CATEGORIES
from locker.settings import MIB
from web.context import db

LANG_COOKIE = "lang"
LANG_COOKIE_DAYS = 365
# Shown in the people's own time: they live in France (a setting when that changes).
TIME_ZONE = "Europe/Paris"


@dataclass(frozen=True)
class Language:
    """A locale we offer: its BCP 47 code (as in `<html lang>`) and its own name for itself."""

    code: str
    name: str

    @property
    def babel(self) -> str:
        return self.code.replace("-", "_")

    @property
    def direction(self) -> str:
        return "rtl" if Locale.parse(self.babel).text_direction == "rtl" else "ltr"


# Offered only once every string of the person's pages is translated (tests/web/test_i18n.py).
LANGUAGES = (
    Language("fr", "Français"),
    Language("en", "English"),
    Language("ar", "العربية"),
    Language("fa-AF", "دری"),
    Language("ps", "پښتو"),
    Language("ti", "ትግርኛ"),
    Language("so", "Soomaali"),
    Language("ro", "Română"),
    Language("ru", "Русский"),
    Language("uk", "Українська"),
    Language("ka", "ქართული"),
    Language("es", "Español"),
    Language("sq", "Shqip"),
    Language("bn", "বাংলা"),
)
_BY_CODE = {language.code: language for language in LANGUAGES}


def current_language() -> Language:
    """The language the request is answered in."""
    locale = get_locale()
    code = str(locale).replace("_", "-") if locale is not None else "fr"
    return _BY_CODE.get(code, LANGUAGES[0])


def _account() -> User | None:
    from web.auth import web_user  # web.auth answers refusals in words from this module

    user = web_user()
    return user.signed_in.user if user is not None else None


def _select_locale() -> str:
    asked = request.args.get("lang", "")
    if asked in _BY_CODE:
        g.chosen_language = asked
        return _BY_CODE[asked].babel
    account = _account()
    if account is not None and account.language in _BY_CODE:
        return _BY_CODE[account.language].babel
    remembered = request.cookies.get(LANG_COOKIE, "")
    if remembered in _BY_CODE:
        return _BY_CODE[remembered].babel
    best = request.accept_languages.best_match(list(_BY_CODE))
    return _BY_CODE[best or "fr"].babel


def _remember_choice(response: Response) -> Response:
    chosen = g.get("chosen_language")
    account = _account()
    if account is not None:
        # A choice made before signing in follows the person into their account.
        wanted = chosen or (None if account.language else request.cookies.get(LANG_COOKIE))
        if wanted in _BY_CODE and wanted != account.language:
            remember_language(db(), account, wanted)
            db().commit()
    if chosen is not None and request.cookies.get(LANG_COOKIE) != chosen:
        response.set_cookie(
            LANG_COOKIE,
            chosen,
            max_age=LANG_COOKIE_DAYS * 86400,
            secure=request.is_secure,
            httponly=True,
            samesite="Lax",
        )
    return response


def init_app(app: Flask) -> None:
    """Flask-Babel with our catalogues (web/translations), locale rule and time zone."""
    app.config.setdefault("BABEL_DEFAULT_LOCALE", "fr")
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", TIME_ZONE)
    Babel(app, locale_selector=_select_locale)
    app.after_request(_remember_choice)
    app.jinja_env.filters.update(listing=listing, scope_name=scope_name)


# What a refusal says, keyed by the core's error codes.
MESSAGES = {
    "not_found": _l("Ce document n'existe pas, ou vous n'y avez pas accès."),
    "page_not_found": _l("Cette page n'existe pas. Vérifiez l'adresse ou revenez à l'accueil."),
    "unsupported_type": _l(
        "Ce fichier n'est pas accepté. Envoyez une photo (JPEG, PNG, WebP, HEIC) ou un PDF."
    ),
    "too_large": _l("Ce fichier est trop gros. La limite est de {limit_mb} Mo."),
    "empty_file": _l("Ce fichier est vide. Reprenez la photo ou choisissez un autre fichier."),
    "no_file": _l("Choisissez un fichier ou prenez une photo."),
    "upload_cut": _l(
        "L'envoi s'est arrêté avant la fin : rien n'a été enregistré. Vérifiez la connexion et renvoyez le fichier."
    ),
    "invalid_input": _l("Une information n'est pas valable : {field}."),
    # The same refusal for a field with no name in FIELD_NAMES (an API client's own
    # field): never a raw identifier in the person's message; the API body's `field` says which.
    "invalid_input_unnamed": _l("Une information n'est pas valable."),
    "already_exists": _l("Ce nom est déjà pris : {field}."),
    "bad_credentials": _l("Identifiant ou mot de passe incorrect."),
    # A ProConnect sign-in refused (sharing/proconnect.py, locker/oidc.py): no account is
    # ever created by it, so each message says who can help.
    "proconnect_weak_acr": _l(
        "ProConnect n'a pas confirmé votre identité au niveau de sécurité que ce service demande. Connectez-vous chez ProConnect avec un moyen plus sûr, ou ici avec votre mot de passe et votre code."
    ),
    "proconnect_unverified_email": _l(
        "Votre adresse e-mail n'est pas vérifiée chez ProConnect. Faites-la vérifier chez ProConnect, ou connectez-vous ici avec votre mot de passe."
    ),
    "proconnect_unknown_organisation": _l(
        "Votre structure (son numéro SIRET) n'est pas inscrite sur ce service. Demandez à l'équipe qui gère le service de l'enregistrer."
    ),
    "proconnect_unknown_email": _l(
        "Aucun compte professionnel de ce service n'a cette adresse e-mail. Aucun compte n'est créé automatiquement : demandez-en un au gestionnaire de votre structure."
    ),
    "proconnect_other_organisation": _l(
        "Votre compte sur ce service appartient à une autre structure que celle indiquée par ProConnect. Demandez au gestionnaire de votre structure de vérifier votre compte."
    ),
    "proconnect_deactivated": _l(
        "Ce compte professionnel a été désactivé. Adressez-vous au gestionnaire de votre structure."
    ),
    "proconnect_other_account": _l(
        "Ce compte professionnel est déjà relié à un autre compte ProConnect. Adressez-vous à l'équipe qui gère le service."
    ),
    "proconnect_expired": _l(
        "Cette connexion avec ProConnect a expiré ou a déjà servi. Recommencez depuis la page de connexion."
    ),
    "proconnect_unreachable": _l(
        "ProConnect ne répond pas pour le moment. Réessayez dans quelques minutes, ou connectez-vous avec votre mot de passe."
    ),
    "proconnect_cancelled": _l(
        "La connexion avec ProConnect a été interrompue : vous n'êtes pas connecté. Recommencez, ou connectez-vous avec votre mot de passe."
    ),
    "proconnect_failed": _l(
        "La réponse de ProConnect n'a pas pu être vérifiée : vous n'êtes pas connecté. Recommencez depuis la page de connexion."
    ),
    "proconnect_signed_out": _l("Vous êtes déconnecté, ici et chez ProConnect."),
    "unauthorized": _l("Connectez-vous pour continuer."),
    "forbidden": _l("Vous ne pouvez pas faire cela."),
    "last_org_admin": _l(
        "Votre structure doit garder au moins un gestionnaire. Nommez d'abord un autre gestionnaire."
    ),
    "bad_invitation": _l(
        "Ce lien d'invitation ne marche pas : il a déjà servi, il a expiré, ou le compte est désactivé. Demandez un nouveau lien à votre structure."
    ),
    "no_successor": _l(
        "Ce collègue ne peut pas reprendre les partages : il doit avoir un compte actif de professionnel dans la même structure."
    ),
    "role_set": _l("Le rôle est changé."),
    "professional_deactivated": _l(
        "Le compte est désactivé. Ses sessions sont fermées. Les personnes concernées sont prévenues."
    ),
    "invitation_accepted": _l(
        "Votre mot de passe est enregistré. Connectez-vous avec votre adresse e-mail."
    ),
    "departure_ended": _l("C'est fait : cette personne est retirée de votre liste."),
    "departure_handed_over": _l(
        "C'est fait : votre collègue voit les mêmes papiers que la personne partie."
    ),
    "csrf": _l("Le formulaire a expiré. Rechargez la page et recommencez."),
    "storage_unavailable": _l(
        "Le service de stockage ne répond pas. Rien n'a été perdu : réessayez dans quelques minutes."
    ),
    "storage_error": _l("Le stockage a rencontré une erreur. Rien n'a été enregistré : réessayez."),
    "object_missing": _l(
        "Le fichier de ce document est introuvable. L'équipe du service est prévenue."
    ),
    "audit_unavailable": _l(
        "Le journal des accès ne peut pas être écrit : par sécurité, rien n'est ouvert. Réessayez dans quelques minutes."
    ),
    "document_damaged": _l(
        "Ce document est endommagé dans le stockage ; il n'est pas montré. L'équipe du service est prévenue."
    ),
    "database_unavailable": _l(
        "Le service est momentanément indisponible. Réessayez dans quelques minutes."
    ),
    "key_provider_unavailable": _l(
        "Le service est momentanément indisponible. Réessayez dans quelques minutes."
    ),
    "method_not_allowed": _l("Cette action n'est pas possible ici."),
    "invalid_text": _l(
        "Le texte envoyé contient des caractères invalides. Corrigez-le et réessayez."
    ),
    "bad_request": _l("La demande n'est pas valable."),
    "added": _l("Votre document est enregistré et protégé."),
    "deleted": _l("Le document est supprimé."),
    "trashed": _l("Le papier est dans la corbeille. Vous pouvez le remettre pendant 30 jours."),
    "restored": _l("Le papier est de retour dans vos papiers."),
    "paper_edited": _l("Le papier est mis à jour."),
    "server_error": _l("Une erreur est survenue. Rien n'a été perdu ; réessayez."),
    "type_mismatch": _l(
        "Ce fichier ne correspond pas à ce qu'il prétend être. Envoyez une photo (JPEG, PNG, WebP, HEIC) ou un PDF."
    ),
    "damaged_file": _l(
        "Ce fichier est abîmé ou incomplet et ne peut pas être lu. Reprenez la photo ou choisissez un autre fichier."
    ),
    "encrypted_pdf": _l(
        "Ce PDF est protégé par un mot de passe. Envoyez une version sans mot de passe, ou une photo du papier."
    ),
    "too_many_pixels": _l(
        "Cette image est bien trop grande pour être une photo. Envoyez une photo prise avec le téléphone."
    ),
    "too_complex": _l(
        "Ce fichier demande trop de travail pour être lu en sécurité. Envoyez une photo du papier à la place."
    ),
    "photos_only": _l("Plusieurs fichiers ensemble : seulement des photos. Envoyez le PDF à part."),
    "too_many_files": _l("Trop de photos d'un coup ({maximum} au plus). Faites plusieurs envois."),
    "quota_exceeded": _l(
        "Votre coffre est plein ({limit_mb} Mo). Videz la corbeille ou supprimez un papier dont vous n'avez plus besoin."
    ),
    "unknown_share_code": _l(
        "Ce code ne correspond à aucun professionnel. Vérifiez les lettres et chiffres."
    ),
    "already_member": _l("Cette personne est déjà dans votre liste d'accompagnement."),
    "password_not_confirmed": _l("Le mot de passe n'est pas le bon : le mandat n'est pas donné."),
    "not_digital_inclusion": _l(
        "Un mandat ne peut être donné qu'à un professionnel d'une structure d'inclusion numérique (aidant)."
    ),
    "not_audit_body": _l(
        "Le rôle d'auditeur n'existe que dans la structure chargée d'auditer le service."
    ),
    "bad_recovery_code": _l(
        "Ce code ne marche pas : il est faux, déjà utilisé ou trop ancien. Demandez un nouveau code à votre référent."
    ),
    "too_many_attempts": _l("Trop d'essais. Attendez 15 minutes avant de réessayer."),
    "bad_second_factor_code": _l(
        "Ce code ne marche pas : il est faux ou déjà utilisé. Attendez le code suivant de l'application."
    ),
    "bad_passkey": _l(
        "La clé d'accès n'a pas marché. Réessayez, ou entrez le code de l'application."
    ),
    "passkey_added": _l("La clé d'accès est ajoutée."),
    "passkey_removed": _l("La clé d'accès est retirée : elle ne permet plus de vous connecter."),
    "fresh_second_factor_required": _l(
        "Pour cette action, entrez à nouveau le code de l'application."
    ),
    "second_factor_enrolled": _l(
        "Votre double authentification est déjà en place. Téléphone perdu : demandez à l'exploitant du service de la remettre à zéro."
    ),
    "no_second_factor_enrolment": _l(
        "Commencez par ajouter l'application (nouvelle clé), puis entrez son code."
    ),
    "member_added": _l(
        "Le professionnel est ajouté à votre liste. Il ne voit rien tant que vous ne partagez pas."
    ),
    "member_removed": _l("Retiré de votre liste. Il ne voit plus aucun de vos papiers."),
    "shared": _l("C'est partagé."),
    "sharing_saved": _l("C'est enregistré."),
    "account_corrected": _l("C'est corrigé."),
    "account_closed": _l("Votre compte est fermé. Vos papiers sont effacés."),
    "service_closed": _l(
        "Le service est fermé : il ne prend plus rien de nouveau. Vous pouvez encore récupérer vos papiers."
    ),
    "service_ended": _l("Le service est fermé. Il n'est plus possible de se connecter."),
    "mandate_given": _l("Le mandat est donné."),
    "password_reset": _l("Votre mot de passe est changé. Connectez-vous avec le nouveau."),
    "deposited": _l("Le papier est déposé dans le coffre de la personne, qui est prévenue."),
    "join_sent": _l("Demande envoyée. La personne doit l'accepter."),
    "recovery_card_locked": _l(
        "Votre mot de passe a été changé avec un code il y a moins de 7 jours. Pour vous protéger, votre carte de secours reste valable et ne peut pas être refaite avant le {until}."
    ),
    "reset_notice_kept": _l(
        "Ce message reste affiché 7 jours après le changement du mot de passe, pour votre sécurité."
    ),
    "reset_disputed": _l(
        "C'est noté. Tout le monde est déconnecté de votre compte, et ce professionnel ne pourra plus vous donner de code. Reconnectez-vous, ou utilisez un code de votre carte de secours si le mot de passe ne marche plus."
    ),
    "password_change_required": _l("Choisissez d'abord votre propre mot de passe."),
    "wrong_current_password": _l("Le mot de passe actuel n'est pas le bon."),
    "password_changed": _l("Votre mot de passe est changé. Vos autres connexions sont fermées."),
    "proof_unavailable": _l(
        "Cette preuve n'existe pas : vérifiez le numéro et la taille du journal."
    ),
    "audit_fork": _l(
        "Le journal des accès ne correspond plus à sa copie témoin. L'équipe du service est prévenue."
    ),
    "checkpoint_invalid": _l("Ce point de contrôle du journal n'est pas valable."),
    "counter_link_ended": _l(
        "Ce lien n'est plus valable : son temps est passé, ou la personne l'a arrêté. Demandez-lui un nouveau lien."
    ),
    "counter_link_used": _l(
        "Ce lien a déjà été ouvert sur un autre appareil : il ne s'ouvre qu'une fois. Demandez à la personne un nouveau lien."
    ),
    "counter_link_unknown": _l(
        "Ce code ne correspond à aucun lien. Vérifiez les lettres et les chiffres."
    ),
    "no_referent": _l(
        "Vous n'avez pas encore de référent. Choisissez-le dans votre liste d'accompagnement."
    ),
    "counter_link_made": _l("Le lien est prêt. Montrez le QR code ou le code au guichet."),
    "counter_link_stopped": _l("Le lien est arrêté : plus personne ne peut l'ouvrir."),
}

FIELD_NAMES = {
    "password": _l("mot de passe (8 caractères au moins)"),
    "username": _l("identifiant (3 à 64 lettres minuscules, chiffres, . _ -)"),
    "display_name": _l("nom"),
    "email": _l("adresse e-mail"),
    "title": _l("titre (200 caractères au plus)"),
    "filename": _l("nom du fichier"),
    "category": _l("catégorie"),
    "valid_until": _l("date de validité (AAAA-MM-JJ)"),
    "organization_id": _l("structure"),
    "role": _l("rôle"),
    "new_password": _l("nouveau mot de passe (8 caractères au moins, différent de l'actuel)"),
    "current_password": _l("mot de passe actuel"),
    "upload_key": _l("clé d'envoi (16 à 64 lettres, chiffres, _ ou -)"),
    "document_ids": _l("papiers à montrer (de 1 à 20, dans votre coffre)"),
    "minutes": _l("durée (de 1 minute à 24 heures)"),
    "recipient": _l("pour qui (le guichet, 100 caractères au plus)"),
    "version": _l("version du texte « Ce qu'il faut savoir » (celle affichée aujourd'hui)"),
    "expiry_reminders": _l("rappels avant expiration (pour une personne seulement)"),
    "after": _l("page demandée (revenez aux papiers les plus récents)"),
    "duration": _l("durée (1 jour, 1 mois, 6 mois ou 1 an)"),
    "expires_at": _l("date de fin (dans le futur)"),
    "member_id": _l("professionnel de votre liste d'accompagnement"),
    "mission": _l("mission (200 caractères au plus)"),
    "scopes": _l("ce que la personne qui vous aide peut faire (au moins une chose)"),
    "siret": _l("numéro SIRET (14 chiffres)"),
}

CATEGORY_NAMES = {
    "identity": _l("Identité"),
    "residence_permit": _l("Titre de séjour"),
    "income_benefits": _l("Revenus et aides (CAF, RSA…)"),
    "health": _l("Santé"),
    "housing": _l("Logement"),
    "work": _l("Travail"),
    "family": _l("Famille"),
    "taxes": _l("Impôts"),
    "other": _l("Autre"),
}
PICTOGRAMS = {
    "identity": "🪪",
    "residence_permit": "🛂",
    "income_benefits": "💶",
    "health": "🩺",
    "housing": "🏠",
    "work": "💼",
    "family": "👪",
    "taxes": "🧾",
    "other": "📄",
}
SCOPE_NAMES = {
    "view": _l("voir mes papiers"),
    "upload": _l("ajouter des papiers"),
    "organise": _l("ranger (renommer, classer, corbeille)"),
    "share": _l("partager et arrêter les partages"),
    "recovery": _l("me donner un code de secours si j'oublie mon mot de passe"),
    "export": _l("télécharger tous mes papiers en un seul fichier"),
}


def megabytes(size: int) -> int:
    """A byte limit in whole megabytes, as the refusals and the add form state it."""
    return max(1, size // MIB)


def message(code: str, **params: object) -> str:
    """The message for `code` in the request's language."""
    field = params.get("field")
    if code == "invalid_input" and field not in FIELD_NAMES:
        code = "invalid_input_unnamed"
    text = MESSAGES.get(code, MESSAGES["server_error"])
    if isinstance(field, str) and field in FIELD_NAMES:
        params = {**params, "field": str(FIELD_NAMES[field])}
    limit = params.get("limit")
    if isinstance(limit, int):
        params = {**params, "limit_mb": megabytes(limit)}
    try:
        return str(text).format(**params)
    except (KeyError, IndexError):
        return str(text)


def category_label(category: str) -> str:
    """The category's name with its pictogram."""
    return f"{PICTOGRAMS.get(category, '📄')} {CATEGORY_NAMES.get(category, category)}"


def category_choices() -> list[tuple[str, str]]:
    """Select options for every category, in order."""
    return [(c, category_label(c)) for c in CATEGORIES]


def listing(words: Iterable[object]) -> str:
    """Words joined as the language joins a list ("a, b et c")."""
    return format_list([str(word) for word in words], locale=get_locale() or "fr")


def scope_name(scope: str) -> str:
    return str(SCOPE_NAMES.get(scope, scope))


def human_size(size: int) -> str:
    """A byte count as a person reads it, in their language's units and digits."""
    if size < 1024:
        unit, amount = gettext("{size} o"), float(size)
    elif size < 1024 * 1024:
        unit, amount = gettext("{size} Ko"), round(size / 1024)
    else:
        unit, amount = gettext("{size} Mo"), round(size / (1024 * 1024), 1)
    return str(unit).format(size=format_decimal(amount))
