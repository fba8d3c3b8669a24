"""How each recorded action reads in the access log, in the person's language.

Per action: its pictogram, the sentence when someone else did it, the sentence when the
reader did it, and the attempt in the infinitive (for "could not …" when it was refused).
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString

Sentences = tuple[str, LazyString, LazyString, LazyString]

# One action a line, as the catalogue reads it.
# fmt: off
ACTIONS: dict[str, Sentences] = {
    "document:read": ("👁️", _l("{who} a téléchargé {paper}"), _l("Vous avez téléchargé {paper}"), _l("ouvrir {paper}")),
    "document:describe": ("👁️", _l("{who} a regardé la fiche de {paper}"), _l("Vous avez regardé la fiche de {paper}"), _l("voir la fiche de {paper}")),
    "document:thumbnail": ("🖼️", _l("{who} a vu l'aperçu de {paper}"), _l("Vous avez vu l'aperçu de {paper}"), _l("voir l'aperçu de {paper}")),
    "document:preview": ("👁️", _l("{who} a regardé {paper}"), _l("Vous avez regardé {paper}"), _l("regarder {paper}")),
    "document:upload": ("➕", _l("{who} a ajouté {paper}"), _l("Vous avez ajouté {paper}"), _l("ajouter {paper}")),
    "person:upload": ("➕", _l("{who} a ajouté {paper}"), _l("Vous avez ajouté {paper}"), _l("ajouter {paper}")),
    "document:deposit": ("📥", _l("{who} a déposé {paper}"), _l("Vous avez déposé {paper}"), _l("déposer {paper}")),
    "person:deposit": ("📥", _l("{who} a déposé {paper}"), _l("Vous avez déposé {paper}"), _l("déposer {paper}")),
    "person:desk": ("🗂️", _l("{who} a ouvert votre fiche"), _l("Vous avez ouvert votre fiche"), _l("ouvrir votre fiche")),
    "account:correct": ("✏️", _l("{who} a corrigé son nom ou son identifiant"), _l("Vous avez corrigé votre nom ou votre identifiant"), _l("corriger le nom ou l'identifiant")),
    "person:export": ("📦", _l("{who} a téléchargé tous vos papiers"), _l("Vous avez téléchargé tous vos papiers"), _l("télécharger tous les papiers")),
    "document:rename": ("✏️", _l("{who} a renommé {paper}"), _l("Vous avez renommé {paper}"), _l("renommer {paper}")),
    "document:categorise": ("🗂️", _l("{who} a rangé {paper}"), _l("Vous avez rangé {paper}"), _l("ranger {paper}")),
    "document:validity": ("📅", _l("{who} a changé la date de validité de {paper}"), _l("Vous avez changé la date de validité de {paper}"), _l("changer la date de validité de {paper}")),
    "document:move": ("🗂️", _l("{who} a rangé {paper}"), _l("Vous avez rangé {paper}"), _l("ranger {paper}")),
    "document:trash": ("🗑️", _l("{who} a mis à la corbeille {paper}"), _l("Vous avez mis à la corbeille {paper}"), _l("mettre à la corbeille {paper}")),
    "document:restore": ("♻️", _l("{who} a récupéré {paper}"), _l("Vous avez récupéré {paper}"), _l("récupérer {paper}")),
    "document:purge": ("🔥", _l("{who} a effacé pour toujours {paper}"), _l("Vous avez effacé pour toujours {paper}"), _l("effacer {paper}")),
    "document:delete": ("🗑️", _l("{who} a supprimé {paper}"), _l("Vous avez supprimé {paper}"), _l("supprimer {paper}")),
    "grant:create": ("🔓", _l("{who} a donné l'accès à {paper}"), _l("Vous avez donné l'accès à {paper}"), _l("donner l'accès à {paper}")),
    "grant:revoke": ("🔒", _l("{who} a retiré l'accès à {paper}"), _l("Vous avez retiré l'accès à {paper}"), _l("retirer l'accès à {paper}")),
    "grant:expire": ("⌛", _l("{who} a vu expirer l'accès à {paper}"), _l("Vous avez vu expirer l'accès à {paper}"), _l("expirer {paper}")),
    "member:add": ("👥", _l("{who} a ajouté quelqu'un à votre liste"), _l("Vous avez ajouté quelqu'un à votre liste"), _l("ajouter à la liste")),
    "member:remove": ("👥", _l("{who} a retiré quelqu'un de votre liste"), _l("Vous avez retiré quelqu'un de votre liste"), _l("retirer")),
    "referent:set": ("⭐", _l("{who} a changé de référent"), _l("Vous avez changé de référent"), _l("changer de référent")),
    "mandate:create": ("🤝", _l("{who} a donné un mandat"), _l("Vous avez donné un mandat"), _l("donner un mandat")),
    "mandate:revoke": ("✋", _l("{who} a retiré un mandat"), _l("Vous avez retiré un mandat"), _l("retirer un mandat")),
    "recovery:issue": ("🧾", _l("{who} a préparé des codes de secours"), _l("Vous avez préparé des codes de secours"), _l("préparer des codes de secours")),
    "recovery:use": ("🧾", _l("{who} a utilisé un code de secours"), _l("Vous avez utilisé un code de secours"), _l("utiliser un code de secours")),
    "recovery:redeem": ("🧾", _l("{who} a changé le mot de passe avec un code de secours"), _l("Vous avez changé le mot de passe avec un code de secours"), _l("utiliser un code")),
    "recovery:card": ("🧾", _l("{who} a fait une carte de secours"), _l("Vous avez fait une carte de secours"), _l("faire une carte de secours")),
    "recovery:dispute": ("✋", _l("{who} a dit « Ce n'était pas moi » sur un changement de mot de passe"), _l("Vous avez dit « Ce n'était pas moi » sur un changement de mot de passe"), _l("dire « Ce n'était pas moi » sur un changement de mot de passe")),
    "account:password": ("🔑", _l("{who} a changé son mot de passe"), _l("Vous avez changé votre mot de passe"), _l("changer le mot de passe")),
    "session:sign_in": ("🔑", _l("{who} a ouvert une session"), _l("Vous avez ouvert une session"), _l("ouvrir une session")),
    "session:sign_out_everywhere": ("🚪", _l("{who} a fermé toutes ses sessions"), _l("Vous avez fermé toutes vos sessions"), _l("fermer toutes les sessions")),
    "session:sign_out": ("🚪", _l("{who} a fermé la session"), _l("Vous avez fermé la session"), _l("fermer la session")),
    "person:create": ("🆕", _l("{who} a créé votre compte"), _l("Vous avez créé votre compte"), _l("créer le compte")),
    "person:list_documents": ("📂", _l("{who} a regardé la liste de vos papiers"), _l("Vous avez regardé la liste de vos papiers"), _l("voir la liste de vos papiers")),
    "person:read_access_log": ("📜", _l("{who} a lu ce journal"), _l("Vous avez lu ce journal"), _l("lire ce journal")),
    "account:export": ("📦", _l("{who} a exporté vos papiers"), _l("Vous avez exporté vos papiers"), _l("exporter")),
    "account:close": ("🚫", _l("{who} a fermé le compte"), _l("Vous avez fermé le compte"), _l("fermer le compte")),
    "counter:create": ("🏛️", _l("{who} a fait un lien pour un guichet"), _l("Vous avez fait un lien pour un guichet"), _l("faire un lien pour un guichet")),
    "counter:revoke": ("✋", _l("{who} a arrêté un lien pour un guichet"), _l("Vous avez arrêté un lien pour un guichet"), _l("arrêter un lien pour un guichet")),
    "departure:end": ("👥", _l("{who} a arrêté les partages avec un professionnel parti"), _l("Vous avez arrêté les partages avec un professionnel parti"), _l("arrêter les partages avec un professionnel parti")),
    "departure:hand_over": ("🤝", _l("{who} a confié ses partages à un collègue du professionnel parti"), _l("Vous avez confié vos partages à un collègue du professionnel parti"), _l("confier les partages à un collègue")),
    "counter:open": ("🏛️", _l("{who} a ouvert le lien"), _l("Vous avez ouvert le lien"), _l("ouvrir le lien")),
}
# fmt: on

WHO = {
    "you": _l("Vous"),
    "anonymous": _l("Quelqu'un"),
    "person": _l("Une autre personne"),
    "system": _l("Le service"),
    "someone": _l("Quelqu'un"),
    "counter": _l("Un guichet"),
}
COUNTER_WHO = _l("Le guichet « {name} »")
DELETED_PAPER = _l("un papier supprimé")
A_PAPER = _l("un papier")
REFUSED = _l("{who} n’a pas pu {attempt}")
REFUSED_YOU = _l("Vous n’avez pas pu {attempt}")
AT_TIME = _l("{sentence}, le {date} à {time}.")
ON_DAY = _l("{sentence}, le {date}.")
LOOKED = _l("Vous avez regardé vos papiers (nombre de fois : {count})")
