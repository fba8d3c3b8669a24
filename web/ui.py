"""Words and pictograms the pages show for each category, in the person's language."""

from __future__ import annotations

from locker.documents import CATEGORIES
from web.audit import words as words_audit
from web.documents import words as words_uploads
from web.sharing import words as words_sharing

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

LABELS = {
    "fr": {
        "identity": "Identité",
        "residence_permit": "Titre de séjour",
        "income_benefits": "Revenus et aides (CAF, RSA…)",
        "health": "Santé",
        "housing": "Logement",
        "work": "Travail",
        "family": "Famille",
        "taxes": "Impôts",
        "other": "Autre",
    },
    "en": {
        "identity": "Identity",
        "residence_permit": "Residence permit",
        "income_benefits": "Income and benefits",
        "health": "Health",
        "housing": "Housing",
        "work": "Work",
        "family": "Family",
        "taxes": "Taxes",
        "other": "Other",
    },
}


def category_label(category: str, lang: str) -> str:
    """The category's name with its pictogram."""
    label = LABELS.get(lang, LABELS["fr"]).get(category, category)
    return f"{PICTOGRAMS.get(category, '📄')} {label}"


def category_choices(lang: str) -> list[tuple[str, str]]:
    """Select options for every category, in order."""
    return [(c, category_label(c, lang)) for c in CATEGORIES]


TEXT = {
    "fr": {
        "app_name": "Mon coffre-fort",
        "sign_in": "Se connecter",
        "sign_out": "Se déconnecter",
        "identifier": "Identifiant (ou e-mail pour les professionnels)",
        "password": "Mot de passe",
        "my_papers": "Mes papiers",
        "add_paper": "Ajouter un papier",
        "no_papers": "Vous n'avez pas encore de papier ici. Ajoutez-en un avec le bouton.",
        "file": "Ou choisir des photos ou un PDF",
        "file_hint": "Déjà sur le téléphone : photos (JPEG, PNG, WebP, HEIC) ou PDF.",
        "title": "Nom du papier (facultatif)",
        "category": "Type de papier",
        "save": "Enregistrer",
        "open": "Ouvrir",
        "download": "Télécharger",
        "delete": "Supprimer",
        "delete_confirm": "Supprimer ce papier ? Il ne pourra plus être ouvert.",
        "back": "Retour",
        "added_on": "Ajouté le",
        "size": "Taille",
        "error_title": "Oups",
        "pro_home": "Espace professionnel",
        "create_person": "Créer le compte d'une personne",
        "username": "Identifiant (sans espace)",
        "display_name": "Nom affiché",
        "create": "Créer",
        "created": "Compte créé. Identifiant :",
        "safe_note": "Vos papiers sont chiffrés. Vous seul décidez qui peut les voir.",
        "organise_paper": "Renommer ou changer de type",
        "paper_updated": "Le papier est mis à jour.",
    },
    "en": {
        "app_name": "My locker",
        "sign_in": "Sign in",
        "sign_out": "Sign out",
        "identifier": "Username (or e-mail for professionals)",
        "password": "Password",
        "my_papers": "My papers",
        "add_paper": "Add a paper",
        "no_papers": "You have no papers here yet. Add one with the button.",
        "file": "Or choose photos or a PDF",
        "file_hint": "Already on the phone: photos (JPEG, PNG, WebP, HEIC) or a PDF.",
        "title": "Name of the paper (optional)",
        "category": "Kind of paper",
        "save": "Save",
        "open": "Open",
        "download": "Download",
        "delete": "Delete",
        "delete_confirm": "Delete this paper? It can no longer be opened.",
        "back": "Back",
        "added_on": "Added on",
        "size": "Size",
        "error_title": "Oops",
        "pro_home": "Professional area",
        "create_person": "Create a person's account",
        "username": "Username (no spaces)",
        "display_name": "Display name",
        "create": "Create",
        "created": "Account created. Username:",
        "safe_note": "Your papers are encrypted. Only you decide who can see them.",
        "organise_paper": "Rename or change its kind",
        "paper_updated": "The paper is updated.",
    },
}


for _feature in (words_uploads, words_sharing, words_audit):
    for _lang, _words in _feature.TEXT.items():
        for _key, _word in _words.items():
            assert _key not in TEXT[_lang], f"interface word {_key} defined twice"
            TEXT[_lang][_key] = _word


def text(key: str, lang: str) -> str:
    """An interface string in the given language (French if missing)."""
    return TEXT.get(lang, TEXT["fr"]).get(key) or TEXT["fr"].get(key, key)


def human_size(size: int) -> str:
    """A byte count as a person reads it."""
    if size < 1024:
        return f"{size} o"
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} Ko"
    return f"{size / (1024 * 1024):.1f} Mo"
