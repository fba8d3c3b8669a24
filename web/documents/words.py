"""Messages and interface words of the uploads feature, merged into web.messages and web.ui."""

from __future__ import annotations

# Refusal messages keyed by error code: {"code": {"fr": "...", "en": "..."}}.
MESSAGES: dict[str, dict[str, str]] = {
    "type_mismatch": {
        "fr": "Ce fichier ne correspond pas à ce qu'il prétend être. Envoyez une photo "
        "(JPEG, PNG, WebP, HEIC) ou un PDF.",
        "en": "This file is not what it claims to be. Send a photo (JPEG, PNG, WebP, HEIC) "
        "or a PDF.",
    },
    "damaged_file": {
        "fr": "Ce fichier est abîmé ou incomplet et ne peut pas être lu. Reprenez la photo "
        "ou choisissez un autre fichier.",
        "en": "This file is damaged or incomplete and cannot be read. Take the photo again "
        "or choose another file.",
    },
    "encrypted_pdf": {
        "fr": "Ce PDF est protégé par un mot de passe. Envoyez une version sans mot de passe, "
        "ou une photo du papier.",
        "en": "This PDF is protected by a password. Send a version without a password, or "
        "a photo of the paper.",
    },
    "too_many_pixels": {
        "fr": "Cette image est bien trop grande pour être une photo. Envoyez une photo prise "
        "avec le téléphone.",
        "en": "This image is far too big to be a photo. Send a photo taken with the phone.",
    },
    "too_complex": {
        "fr": "Ce fichier demande trop de travail pour être lu en sécurité. Envoyez une photo "
        "du papier à la place.",
        "en": "This file takes too much work to read safely. Send a photo of the paper instead.",
    },
    "photos_only": {
        "fr": "Plusieurs fichiers ensemble : seulement des photos. Envoyez le PDF à part.",
        "en": "Several files together: photos only. Send the PDF on its own.",
    },
    "too_many_files": {
        "fr": "Trop de photos d'un coup ({maximum} au plus). Faites plusieurs envois.",
        "en": "Too many photos at once ({maximum} at most). Send them in several goes.",
    },
    "quota_exceeded": {
        "fr": "Votre coffre est plein ({limit_mb} Mo). Videz la corbeille ou supprimez un "
        "papier dont vous n'avez plus besoin.",
        "en": "Your locker is full ({limit_mb} MB). Empty the trash or delete a paper you "
        "no longer need.",
    },
}
# Interface words: {"fr": {"key": "..."}, "en": {"key": "..."}}.
TEXT: dict[str, dict[str, str]] = {
    "fr": {
        "files_hint": "Plusieurs photos d'un même papier (une par page) deviennent un seul "
        "document, dans l'ordre choisi.",
        "take_photo": "Prendre le papier en photo",
        "valid_until": "Valable jusqu'au (facultatif)",
        "valid_until_hint": "Pour un titre de séjour ou une attestation : la date de fin.",
        "valid_until_short": "valable jusqu'au",
        "pages": "pages",
        "trash": "Corbeille",
        "trash_empty": "La corbeille est vide.",
        "trash_note": "Les papiers restent 30 jours dans la corbeille, puis sont effacés "
        "pour toujours.",
        "purged_on": "effacé le",
        "restore": "Remettre dans mes papiers",
        "restored": "Le papier est de retour dans vos papiers.",
        "trashed": "Le papier est dans la corbeille. Vous pouvez le remettre pendant 30 jours.",
        "to_trash": "Mettre à la corbeille",
        "trash_confirm": "Mettre ce papier à la corbeille ? Vous pourrez le remettre "
        "pendant 30 jours.",
    },
    "en": {
        "files_hint": "Several photos of one paper (one per page) become one document, in "
        "the order chosen.",
        "take_photo": "Take a photo of the paper",
        "valid_until": "Valid until (optional)",
        "valid_until_hint": "For a residence permit or a certificate: the end date.",
        "valid_until_short": "valid until",
        "pages": "pages",
        "trash": "Trash",
        "trash_empty": "The trash is empty.",
        "trash_note": "Papers stay 30 days in the trash, then are erased for good.",
        "purged_on": "erased on",
        "restore": "Put back in my papers",
        "restored": "The paper is back in your papers.",
        "trashed": "The paper is in the trash. You can put it back for 30 days.",
        "to_trash": "Move to trash",
        "trash_confirm": "Move this paper to the trash? You can put it back for 30 days.",
    },
}
