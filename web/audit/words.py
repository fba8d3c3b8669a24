"""Messages and interface words of the audit feature, merged into web.messages and web.ui."""

from __future__ import annotations

# Refusal messages keyed by error code: {"code": {"fr": "...", "en": "..."}}.
MESSAGES: dict[str, dict[str, str]] = {
    "proof_unavailable": {
        "fr": "Cette preuve n'existe pas : vérifiez le numéro et la taille du journal.",
        "en": "This proof does not exist: check the number and the size of the log.",
    },
    "audit_fork": {
        "fr": "Le journal des accès ne correspond plus à sa copie témoin. L'équipe du "
        "service est prévenue.",
        "en": "The access log no longer matches its witness copy. The service team has been told.",
    },
    "checkpoint_invalid": {
        "fr": "Ce point de contrôle du journal n'est pas valable.",
        "en": "This checkpoint of the log is not valid.",
    },
}
# Interface words: {"fr": {"key": "..."}, "en": {"key": "..."}}.
TEXT: dict[str, dict[str, str]] = {
    "fr": {
        "access_log": "Qui a vu mes papiers",
        "access_log_intro": "Chaque fois que quelqu'un ouvre un de vos papiers, ou essaie, "
        "c'est écrit ici. Personne ne peut effacer ou changer ce journal sans que cela se voie.",
        "access_log_empty": "Rien à montrer pour l'instant.",
        "access_log_filter": "Montrer seulement ce papier",
        "access_log_all": "Tous mes papiers",
        "access_log_show": "Afficher",
        "access_log_older": "Plus ancien",
        "my_actions": "Mes actions",
        "my_actions_intro": "Ce que vous avez fait dans le coffre-fort, du plus récent au plus "
        "ancien.",
        "log_allowed": "autorisé",
        "log_denied": "refusé",
    },
    "en": {
        "access_log": "Who saw my papers",
        "access_log_intro": "Each time someone opens one of your papers, or tries to, it is "
        "written here. Nobody can erase or change this log without it showing.",
        "access_log_empty": "Nothing to show yet.",
        "access_log_filter": "Show only this paper",
        "access_log_all": "All my papers",
        "access_log_show": "Show",
        "access_log_older": "Older",
        "my_actions": "My actions",
        "my_actions_intro": "What you did in the locker, newest first.",
        "log_allowed": "allowed",
        "log_denied": "refused",
    },
}

# How each recorded action reads: pictogram, then per language (past participle used
# after "a"/"avez" or "has"/"have", and infinitive used after "n'a pas pu"/"could not").
ACTIONS: dict[str, tuple[str, dict[str, tuple[str, str]]]] = {
    "document:read": ("👁️", {"fr": ("ouvert", "ouvrir"), "en": ("opened", "open")}),
    "document:describe": (
        "👁️",
        {"fr": ("regardé la fiche de", "voir la fiche de"), "en": ("looked at", "look at")},
    ),
    "document:thumbnail": (
        "🖼️",
        {"fr": ("vu l'aperçu de", "voir l'aperçu de"), "en": ("saw a preview of", "preview")},
    ),
    "document:upload": ("➕", {"fr": ("ajouté", "ajouter"), "en": ("added", "add")}),
    "person:upload": ("➕", {"fr": ("ajouté", "ajouter"), "en": ("added", "add")}),
    "document:deposit": ("📥", {"fr": ("déposé", "déposer"), "en": ("deposited", "deposit")}),
    "person:deposit": ("📥", {"fr": ("déposé", "déposer"), "en": ("deposited", "deposit")}),
    "document:rename": ("✏️", {"fr": ("renommé", "renommer"), "en": ("renamed", "rename")}),
    "document:categorise": ("🗂️", {"fr": ("rangé", "ranger"), "en": ("filed", "file")}),
    "document:move": ("🗂️", {"fr": ("rangé", "ranger"), "en": ("moved", "move")}),
    "document:trash": (
        "🗑️",
        {"fr": ("mis à la corbeille", "mettre à la corbeille"), "en": ("trashed", "trash")},
    ),
    "document:restore": ("♻️", {"fr": ("récupéré", "récupérer"), "en": ("restored", "restore")}),
    "document:purge": (
        "🔥",
        {"fr": ("effacé pour toujours", "effacer"), "en": ("erased for good", "erase")},
    ),
    "document:delete": ("🗑️", {"fr": ("supprimé", "supprimer"), "en": ("deleted", "delete")}),
    "grant:create": (
        "🔓",
        {"fr": ("donné l'accès à", "donner l'accès à"), "en": ("gave access to", "give access to")},
    ),
    "grant:revoke": (
        "🔒",
        {
            "fr": ("retiré l'accès à", "retirer l'accès à"),
            "en": ("took back access to", "take back access to"),
        },
    ),
    "grant:expire": (
        "⌛",
        {"fr": ("vu expirer l'accès à", "expirer"), "en": ("saw access expire to", "expire")},
    ),
    "member:add": (
        "👥",
        {"fr": ("ajouté quelqu'un à votre liste", "ajouter à la liste"), "en": ("added", "add")},
    ),
    "member:remove": (
        "👥",
        {"fr": ("retiré quelqu'un de votre liste", "retirer"), "en": ("removed", "remove")},
    ),
    "referent:set": (
        "⭐",
        {"fr": ("changé de référent", "changer de référent"), "en": ("changed referent", "")},
    ),
    "mandate:create": (
        "🤝",
        {"fr": ("donné un mandat", "donner un mandat"), "en": ("gave a mandate", "give a mandate")},
    ),
    "mandate:revoke": (
        "✋",
        {"fr": ("retiré un mandat", "retirer un mandat"), "en": ("revoked a mandate", "revoke")},
    ),
    "recovery:issue": (
        "🧾",
        {
            "fr": ("préparé des codes de secours", "préparer des codes de secours"),
            "en": ("issued recovery codes", "issue recovery codes"),
        },
    ),
    "recovery:use": (
        "🧾",
        {
            "fr": ("utilisé un code de secours", "utiliser un code de secours"),
            "en": ("used a recovery code", "use a recovery code"),
        },
    ),
    "recovery:redeem": (
        "🧾",
        {
            "fr": ("changé le mot de passe avec un code de secours", "utiliser un code"),
            "en": ("changed the password with a recovery code", "use a recovery code"),
        },
    ),
    "recovery:card": (
        "🧾",
        {
            "fr": ("fait une carte de secours", "faire une carte de secours"),
            "en": ("made a recovery card", "make a recovery card"),
        },
    ),
    "recovery:dispute": (
        "✋",
        {
            "fr": ("dit « Ce n'était pas moi » sur un changement de mot de passe", ""),
            "en": ('said "It was not me" about a password change', ""),
        },
    ),
    "account:password": (
        "🔑",
        {
            "fr": ("changé son mot de passe", "changer le mot de passe"),
            "en": ("changed the password", "change the password"),
        },
    ),
    "session:sign_in": (
        "🔑",
        {"fr": ("ouvert une session", "ouvrir une session"), "en": ("signed in", "sign in")},
    ),
    "session:sign_out": (
        "🚪",
        {"fr": ("fermé la session", "fermer la session"), "en": ("signed out", "sign out")},
    ),
    "person:create": (
        "🆕",
        {"fr": ("créé votre compte", "créer le compte"), "en": ("created your account", "")},
    ),
    "person:list_documents": (
        "📂",
        {
            "fr": ("regardé la liste de vos papiers", "voir la liste de vos papiers"),
            "en": (
                "looked at your list of papers",
                "see your list of papers",
            ),
        },
    ),
    "person:read_access_log": (
        "📜",
        {"fr": ("lu ce journal", "lire ce journal"), "en": ("read this log", "read this log")},
    ),
    "account:export": (
        "📦",
        {"fr": ("exporté vos papiers", "exporter"), "en": ("exported your papers", "export")},
    ),
    "account:close": (
        "🚫",
        {"fr": ("fermé le compte", "fermer le compte"), "en": ("closed the account", "close")},
    ),
}

WHO = {
    "fr": {
        "you": "Vous",
        "anonymous": "Quelqu'un",
        "person": "Une autre personne",
        "system": "Le service",
        "someone": "Quelqu'un",
    },
    "en": {
        "you": "You",
        "anonymous": "Someone",
        "person": "Another person",
        "system": "The service",
        "someone": "Someone",
    },
}
DAYS = {
    "fr": ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"),
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
}
MONTHS = {
    "fr": (
        "janvier",
        "février",
        "mars",
        "avril",
        "mai",
        "juin",
        "juillet",
        "août",
        "septembre",
        "octobre",
        "novembre",
        "décembre",
    ),
    "en": (
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ),
}
DELETED_PAPER = {"fr": "un papier supprimé", "en": "a deleted paper"}
