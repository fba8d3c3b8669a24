"""What a refusal says, in the person's language (French first).

A small catalogue keyed by the core's error codes; the phone-first interface issue moves
the whole interface to Flask-Babel catalogues, and these keys carry over unchanged.
"""

from __future__ import annotations

from flask import request

from web.audit import words as words_audit
from web.documents import words as words_uploads
from web.sharing import words as words_sharing

LANGUAGES = ("fr", "en")

MESSAGES: dict[str, dict[str, str]] = {
    "not_found": {
        "fr": "Ce document n'existe pas, ou vous n'y avez pas accès.",
        "en": "This document does not exist, or you do not have access to it.",
    },
    "page_not_found": {
        "fr": "Cette page n'existe pas. Vérifiez l'adresse ou revenez à l'accueil.",
        "en": "This page does not exist. Check the address or go back home.",
    },
    "unsupported_type": {
        "fr": "Ce fichier n'est pas accepté. Envoyez une photo (JPEG, PNG, WebP, HEIC) ou un PDF.",
        "en": "This file is not accepted. Send a photo (JPEG, PNG, WebP, HEIC) or a PDF.",
    },
    "too_large": {
        "fr": "Ce fichier est trop gros. La limite est de {limit_mb} Mo.",
        "en": "This file is too large. The limit is {limit_mb} MB.",
    },
    "empty_file": {
        "fr": "Ce fichier est vide. Reprenez la photo ou choisissez un autre fichier.",
        "en": "This file is empty. Take the photo again or choose another file.",
    },
    "no_file": {
        "fr": "Choisissez un fichier ou prenez une photo.",
        "en": "Choose a file or take a photo.",
    },
    "invalid_input": {
        "fr": "Une information n'est pas valable : {field}.",
        "en": "Something is not valid: {field}.",
    },
    "already_exists": {
        "fr": "Ce nom est déjà pris : {field}.",
        "en": "This name is already taken: {field}.",
    },
    "bad_credentials": {
        "fr": "Identifiant ou mot de passe incorrect.",
        "en": "Wrong username or password.",
    },
    "unauthorized": {
        "fr": "Connectez-vous pour continuer.",
        "en": "Please sign in to continue.",
    },
    "forbidden": {
        "fr": "Vous ne pouvez pas faire cela.",
        "en": "You cannot do this.",
    },
    "csrf": {
        "fr": "Le formulaire a expiré. Rechargez la page et recommencez.",
        "en": "The form has expired. Reload the page and try again.",
    },
    "storage_unavailable": {
        "fr": "Le service de stockage ne répond pas. Rien n'a été perdu : réessayez "
        "dans quelques minutes.",
        "en": "The storage service is not answering. Nothing was lost: try again in a few minutes.",
    },
    "storage_error": {
        "fr": "Le stockage a rencontré une erreur. Rien n'a été enregistré : réessayez.",
        "en": "The storage had an error. Nothing was saved: try again.",
    },
    "object_missing": {
        "fr": "Le fichier de ce document est introuvable. L'équipe du service est prévenue.",
        "en": "This document's file cannot be found. The service team has been told.",
    },
    "audit_unavailable": {
        "fr": "Le journal des accès ne peut pas être écrit : par sécurité, rien n'est "
        "ouvert. Réessayez dans quelques minutes.",
        "en": "The access log cannot be written: for safety, nothing is opened. Try "
        "again in a few minutes.",
    },
    "document_damaged": {
        "fr": "Ce document est endommagé dans le stockage ; il n'est pas montré. L'équipe "
        "du service est prévenue.",
        "en": "This document is damaged in storage; it is not shown. The service team "
        "has been told.",
    },
    "database_unavailable": {
        "fr": "Le service est momentanément indisponible. Réessayez dans quelques minutes.",
        "en": "The service is temporarily unavailable. Try again in a few minutes.",
    },
    "method_not_allowed": {
        "fr": "Cette action n'est pas possible ici.",
        "en": "This action is not possible here.",
    },
    "invalid_text": {
        "fr": "Le texte envoyé contient des caractères invalides. Corrigez-le et réessayez.",
        "en": "The text sent contains invalid characters. Correct it and try again.",
    },
    "bad_request": {
        "fr": "La demande n'est pas valable.",
        "en": "The request is not valid.",
    },
    "added": {
        "fr": "Votre document est enregistré et protégé.",
        "en": "Your document is saved and protected.",
    },
    "deleted": {
        "fr": "Le document est supprimé.",
        "en": "The document is deleted.",
    },
    "server_error": {
        "fr": "Une erreur est survenue. Rien n'a été perdu ; réessayez.",
        "en": "Something went wrong. Nothing was lost; try again.",
    },
}

for _feature in (words_uploads, words_sharing, words_audit):
    for _code, _texts in _feature.MESSAGES.items():
        assert _code not in MESSAGES, f"message {_code} defined twice"
        MESSAGES[_code] = _texts

FIELD_NAMES: dict[str, dict[str, str]] = {
    "password": {"fr": "mot de passe (8 caractères au moins)", "en": "password (8+ characters)"},
    "username": {
        "fr": "identifiant (3 à 64 lettres minuscules, chiffres, . _ -)",
        "en": "username (3 to 64 lowercase letters, digits, . _ -)",
    },
    "display_name": {"fr": "nom", "en": "name"},
    "email": {"fr": "adresse e-mail", "en": "e-mail address"},
    "title": {"fr": "titre (200 caractères au plus)", "en": "title (200 characters at most)"},
    "filename": {"fr": "nom du fichier", "en": "file name"},
    "category": {"fr": "catégorie", "en": "category"},
    "valid_until": {"fr": "date de validité (AAAA-MM-JJ)", "en": "valid-until date (YYYY-MM-DD)"},
    "organization_id": {"fr": "structure", "en": "organisation"},
    "role": {"fr": "rôle", "en": "role"},
    "new_password": {
        "fr": "nouveau mot de passe (8 caractères au moins, différent de l'actuel)",
        "en": "new password (8+ characters, not the current one)",
    },
    "current_password": {"fr": "mot de passe actuel", "en": "current password"},
}


def language() -> str:
    """The best language the request asks for among those we speak (French by default)."""
    best = request.accept_languages.best_match(LANGUAGES)
    return best or "fr"


def message(code: str, **params: object) -> str:
    """The message for `code` in the request's language."""
    lang = language()
    texts = MESSAGES.get(code, MESSAGES["server_error"])
    field = params.get("field")
    if isinstance(field, str):
        params = {**params, "field": FIELD_NAMES.get(field, {}).get(lang, field)}
    limit = params.get("limit")
    if isinstance(limit, int):
        params = {**params, "limit_mb": max(1, limit // (1024 * 1024))}
    try:
        return texts[lang].format(**params)
    except (KeyError, IndexError):
        return texts[lang]
