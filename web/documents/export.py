"""A person's export as the web answers it (API and page alike): the ZIP streamed with its
note in the person's language, and the log's head signed once the export is recorded."""

from __future__ import annotations

from flask import Response
from flask_babel import gettext as _

from sharing.export import ExportWords, Verification, export_locker
from web.audit.signing import current_checkpoint, service_verifier_key
from web.context import request_context, services
from web.i18n import current_language


def export_words() -> ExportWords:
    papers, trash = _("papiers"), _("corbeille")
    readme = "\n\n".join(
        [
            _("Voici tout ce que votre coffre-fort garde pour vous."),
            _(
                "Le dossier « %(folder)s » contient vos papiers, tels qu'ils sont gardés.",
                folder=papers,
            ),
            _("Le dossier « %(folder)s » contient les papiers mis à la corbeille.", folder=trash),
            _("papers.json et papers.csv : la liste de vos papiers, et qui peut voir chacun."),
            _("access-log.json et access-log.csv : qui a vu vos papiers, et quand."),
            _(
                "Le dossier « verification » permet de vérifier que ce journal n'a pas été "
                "changé : un point de contrôle signé, la clé publique du service, et la preuve "
                "de chaque ligne qui vous concerne."
            ),
            _("Gardez ce fichier en lieu sûr : il contient vos papiers en clair."),
        ]
    )
    return ExportWords(
        readme=readme + "\n",
        papers=papers,
        trash=trash,
        unreadable=_("Ce papier n'a pas pu être lu : il a été abîmé. Signalez-le au service."),
    )


def _checkpoint() -> Verification:
    made = current_checkpoint(max_age_minutes=0)  # this export's own record is in it
    return Verification(made.note, service_verifier_key(), made.tree_size)


def export_response(person_id: str) -> Response:
    """The whole locker as an attachment (404 for anyone but the person)."""
    stream = export_locker(
        request_context(), person_id=person_id, words=export_words(), checkpoint=_checkpoint
    )
    day = services().clock().date().isoformat()
    response = Response(stream, mimetype="application/zip", direct_passthrough=True)
    response.headers["Content-Disposition"] = f'attachment; filename="coffre-fort-{day}.zip"'
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Language"] = current_language().code
    return response
