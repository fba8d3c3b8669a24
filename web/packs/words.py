"""What the packs say, in the person's language: each procedure's name, each paper's name
and a one-line hint, keyed by the stable keys of `sharing.packs`."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

PROCEDURE_NAMES = {
    "rsa": _l("RSA (revenu de solidarité active)"),
    "dalo": _l("DALO (droit au logement opposable)"),
    "ame_css": _l("AME ou complémentaire santé solidaire"),
    "domiciliation": _l("Domiciliation (une adresse pour le courrier)"),
    "titre_sejour": _l("Titre de séjour"),
    "france_travail": _l("France Travail (ex-Pôle emploi)"),
}

# Per paper: its name, then a hint saying what counts.
PAPER_WORDS = {
    "identity": (
        _l("Pièce d'identité ou titre de séjour"),
        _l("Carte d'identité, passeport ou titre de séjour en cours."),
    ),
    "passport": (
        _l("Passeport"),
        _l("Toutes les pages, avec les visas et les tampons."),
    ),
    "residence_permit": (
        _l("Titre de séjour actuel ou récépissé"),
        _l("Pour un renouvellement."),
    ),
    "birth_certificate": (
        _l("Acte de naissance"),
        _l("Avec le nom de vos parents. Traduit en français si besoin."),
    ),
    "address": (
        _l("Justificatif de domicile ou attestation de domiciliation"),
        _l("Sans logement : l'attestation de domiciliation d'un CCAS ou d'une association."),
    ),
    "domiciliation": (
        _l("Attestation de domiciliation actuelle"),
        _l("Pour la renouveler : elle dure un an."),
    ),
    "local_tie": (
        _l("Preuve d'un lien avec la commune"),
        _l("Par exemple un certificat de scolarité ou un suivi social."),
    ),
    "rib": (
        _l("RIB (relevé d'identité bancaire)"),
        _l("À votre nom, pour recevoir l'argent."),
    ),
    "social_security": (
        _l("Carte Vitale ou attestation de sécurité sociale"),
        _l("Votre numéro de sécurité sociale y est écrit."),
    ),
    "health_rights": (
        _l("Attestation de droits santé"),
        _l("Carte Vitale, ou l'attestation AME ou CSS d'avant."),
    ),
    "tax_notice": (
        _l("Avis d'imposition"),
        _l("Le dernier, même si vous ne payez pas d'impôt."),
    ),
    "caf": (
        _l("Attestation CAF"),
        _l("Votre numéro d'allocataire y est écrit."),
    ),
    "income": (
        _l("Justificatifs de ressources"),
        _l("Salaires, aides, chômage ou pension des derniers mois."),
    ),
    "social_housing_request": (
        _l("Demande de logement social"),
        _l("L'attestation avec votre numéro unique."),
    ),
    "presence": (
        _l("Preuve de présence en France depuis 3 mois"),
        _l("Pour l'AME : un visa, une facture ou un courrier daté."),
    ),
    "employer_certificate": (
        _l("Attestation employeur"),
        _l("Donnée par votre dernier employeur à la fin du contrat."),
    ),
    "cv": (
        _l("CV"),
        _l("Pas obligatoire pour s'inscrire, mais utile."),
    ),
    "diploma": (
        _l("Diplômes et formations"),
        _l("Ce que vous avez appris, ici ou ailleurs."),
    ),
    "family": (
        _l("Livret de famille"),
        _l("Pour vos enfants : le livret, ou leurs actes de naissance."),
    ),
}
