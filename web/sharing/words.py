"""Messages and interface words of the sharing feature, merged into web.messages and web.ui."""

from __future__ import annotations

# Refusal messages keyed by error code: {"code": {"fr": "...", "en": "..."}}.
MESSAGES: dict[str, dict[str, str]] = {
    "unknown_share_code": {
        "fr": "Ce code ne correspond à aucun professionnel. Vérifiez les lettres et chiffres.",
        "en": "This code matches no professional. Check the letters and digits.",
    },
    "already_member": {
        "fr": "Cette personne est déjà dans votre liste d'accompagnement.",
        "en": "This professional is already on your accompaniment list.",
    },
    "password_not_confirmed": {
        "fr": "Le mot de passe n'est pas le bon : le mandat n'est pas donné.",
        "en": "The password is not right: the mandate was not given.",
    },
    "not_digital_inclusion": {
        "fr": "Un mandat ne peut être donné qu'à un professionnel d'une structure "
        "d'inclusion numérique (aidant).",
        "en": "A mandate can only go to a professional of a digital-inclusion organisation "
        "(a helper).",
    },
    "bad_recovery_code": {
        "fr": "Ce code ne marche pas : il est faux, déjà utilisé ou trop ancien. Demandez "
        "un nouveau code à votre référent.",
        "en": "This code does not work: it is wrong, already used or too old. Ask your "
        "referent for a new code.",
    },
    "too_many_attempts": {
        "fr": "Trop d'essais. Attendez 15 minutes avant de réessayer.",
        "en": "Too many tries. Wait 15 minutes before trying again.",
    },
    "member_added": {
        "fr": "Le professionnel est ajouté à votre liste. Il ne voit rien tant que vous ne "
        "partagez pas.",
        "en": "The professional is on your list. They see nothing until you share.",
    },
    "member_removed": {
        "fr": "Retiré de votre liste. Il ne voit plus aucun de vos papiers.",
        "en": "Removed from your list. They no longer see any of your papers.",
    },
    "shared": {"fr": "C'est partagé.", "en": "Shared."},
    "mandate_given": {"fr": "Le mandat est donné.", "en": "The mandate is given."},
    "password_reset": {
        "fr": "Votre mot de passe est changé. Connectez-vous avec le nouveau.",
        "en": "Your password is changed. Sign in with the new one.",
    },
    "deposited": {
        "fr": "Le papier est déposé dans le coffre de la personne, qui est prévenue.",
        "en": "The paper is in the person's locker; they have been told.",
    },
    "join_sent": {
        "fr": "Demande envoyée. La personne doit l'accepter.",
        "en": "Request sent. The person has to accept it.",
    },
    "recovery_card_locked": {
        "fr": "Votre mot de passe a été changé avec un code il y a moins de 7 jours. Pour "
        "vous protéger, votre carte de secours reste valable et ne peut pas être refaite "
        "avant le {until}.",
        "en": "Your password was changed with a code less than 7 days ago. To protect you, "
        "your recovery card stays valid and cannot be remade before {until}.",
    },
    "reset_notice_kept": {
        "fr": "Ce message reste affiché 7 jours après le changement du mot de passe, pour "
        "votre sécurité.",
        "en": "This message stays for 7 days after the password change, for your safety.",
    },
    "reset_disputed": {
        "fr": "C'est noté. Tout le monde est déconnecté de votre compte, et ce professionnel "
        "ne pourra plus vous donner de code. Reconnectez-vous, ou utilisez un code de votre "
        "carte de secours si le mot de passe ne marche plus.",
        "en": "Noted. Everyone is signed out of your account, and this professional can no "
        "longer give you a code. Sign in again, or use a code from your recovery card if "
        "the password no longer works.",
    },
    "password_change_required": {
        "fr": "Choisissez d'abord votre propre mot de passe.",
        "en": "First choose your own password.",
    },
    "wrong_current_password": {
        "fr": "Le mot de passe actuel n'est pas le bon.",
        "en": "The current password is not right.",
    },
    "password_changed": {
        "fr": "Votre mot de passe est changé. Vos autres connexions sont fermées.",
        "en": "Your password is changed. Your other sign-ins are closed.",
    },
}

_FR = {
    "my_list": "Ma liste d'accompagnement",
    "my_list_hint": "Les professionnels qui vous accompagnent. Ils ne voient que les papiers "
    "que vous leur partagez.",
    "referent": "Référent de parcours",
    "asks_to_join": "Demande à rejoindre votre liste.",
    "accept": "Accepter",
    "refuse": "Refuser",
    "remove": "Retirer",
    "no_members": "Personne dans votre liste pour l'instant.",
    "add_member": "Ajouter un professionnel",
    "share_code": "Code du professionnel",
    "scan_hint": "Le code est sur la page du professionnel (en lettres ou en QR code à "
    "scanner avec l'appareil photo).",
    "mission": "Son rôle pour vous",
    "mission_example": "assistante sociale, CHRS Les Lilas",
    "add": "Ajouter",
    "choose_referent": "Choisir mon référent",
    "no_referent": "Pas de référent",
    "share_category": "Partager tout un type de papiers",
    "with_member": "Avec",
    "category_hint": "Les papiers de ce type ajoutés plus tard seront partagés aussi.",
    "share": "Partager",
    "my_helpers": "Mes aidants",
    "recovery_card": "Ma carte de secours",
    "who_can_see": "Qui peut voir ce papier",
    "who_can_see_hint": "Vous seul décidez. Vous pouvez arrêter à tout moment.",
    "can_see": "peut le voir",
    "can_see_category": "peut le voir (tout ce type de papiers est partagé)",
    "cannot_see": "ne peut pas le voir",
    "switch_on": "Partager",
    "switch_off": "Arrêter",
    "helpers_hint": "Un aidant numérique peut agir pour vous, seulement pour ce que vous "
    "choisissez et pour une durée limitée.",
    "no_mandates": "Aucun mandat en cours.",
    "until": "jusqu'au",
    "expired": "terminé",
    "revoke": "Arrêter",
    "give_mandate": "Donner un mandat",
    "helper": "Aidant",
    "scopes": "Ce qu'il peut faire",
    "scope_upload": "ajouter des papiers",
    "scope_organise": "ranger (renommer, classer, corbeille)",
    "scope_share": "partager et arrêter les partages",
    "scope_view": "voir mes papiers",
    "scope_recovery": "me donner un code de secours si j'oublie mon mot de passe",
    "duration": "Pour combien de temps",
    "d_1d": "1 jour",
    "d_1m": "1 mois",
    "d_6m": "6 mois",
    "d_1y": "1 an",
    "confirm_password": "Votre mot de passe, pour confirmer",
    "desk_mandate": "Mandat à mon poste",
    "desk_mandate_hint": "La personne, à côté de vous, lit ce mandat puis le confirme en "
    "tapant elle-même son identifiant et son mot de passe. Ne regardez pas.",
    "desk_for": "Mandat donné par",
    "person_password": "Mot de passe de la personne",
    "person_confirms": "Je donne ce mandat",
    "card_keep": "Gardez cette carte dans un endroit sûr. Chaque code ne marche qu'une fois.",
    "card_how": "Mot de passe oublié ? Page « Se connecter », lien « Mot de passe oublié », "
    "puis un de ces codes.",
    "card_print": "Imprimez cette page ou recopiez les codes. Ils ne seront plus montrés.",
    "card_intro": "Une carte de codes de secours vous permet de changer votre mot de passe "
    "si vous l'oubliez. Faire une nouvelle carte annule l'ancienne.",
    "card_make": "Faire ma carte",
    "card_offer": "Préparer sa carte de codes de secours (à imprimer maintenant)",
    "card_for": "Carte de codes de secours de",
    "recover_title": "Mot de passe oublié",
    "recover_hint": "Entrez le code donné par votre référent (ou un code de votre carte).",
    "recovery_code": "Code de secours",
    "new_password": "Nouveau mot de passe (8 caractères au moins)",
    "forgot_password": "Mot de passe oublié",
    "code_valid_until": "Valable jusqu'à",
    "code_face_to_face": "Donnez-le seulement à la personne, en face à face, après avoir "
    "vérifié qui elle est.",
    "my_persons": "Mes personnes accompagnées",
    "my_share_code": "Mon code de partage",
    "ask_to_join": "Demander à rejoindre une liste",
    "request_pending": "Demande en attente",
    "shared_with_me": "Partagé avec moi",
    "nothing_shared": "Rien n'est partagé avec vous pour l'instant.",
    "deposit_paper": "Déposer un papier",
    "issue_recovery_code": "Donner un code de secours",
    "leave_list": "Quitter sa liste",
    "no_persons": "Vous n'êtes dans la liste d'aucune personne pour l'instant.",
    "join_hint": "La personne verra votre demande et choisira de l'accepter ou non.",
    "person_username": "Identifiant de la personne",
    "send_request": "Envoyer la demande",
    "qr_alt": "QR code du code de partage",
    "share_code_hint": "Donnez ce code à la personne : elle l'entre ou le scanne pour vous "
    "ajouter à sa liste.",
    "no_share_code": "Les gestionnaires de structure n'ont pas de code de partage.",
    "reset_by": "Votre mot de passe a été changé avec un code donné par",
    "reset_by_card": "Votre mot de passe a été changé avec un code de votre carte de secours",
    "deposit_notice": "Un professionnel a déposé un papier dans votre coffre.",
    "understood": "J'ai compris",
    "not_me": "Ce n'était pas moi",
    "not_me_hint": "Si ce n'était pas vous : tout le monde sera déconnecté de votre compte "
    "et ce professionnel ne pourra plus vous donner de code.",
    "reset_kept_until": "Ce message reste affiché jusqu'au",
    "reset_disputed_note": "Vous avez dit que ce n'était pas vous.",
    "change_password": "Changer mon mot de passe",
    "current_password": "Mot de passe actuel",
    "password_change_required_hint": "Votre mot de passe a été choisi par quelqu'un "
    "d'autre. Choisissez le vôtre pour continuer : l'ancien ne marchera plus.",
    "password_change_ends_sessions": "Vos autres connexions (autres téléphones, "
    "ordinateurs, applications) seront fermées.",
    "password_changed_card": "Votre mot de passe est changé. Voici votre nouvelle carte de "
    "secours : celle donnée à la création du compte ne marche plus.",
    "continue": "Continuer",
    "card_locked": "Votre mot de passe a été changé avec un code il y a moins de 7 jours : "
    "pour vous protéger, votre carte actuelle reste valable et ne peut pas être refaite "
    "avant le",
}

_EN = {
    "my_list": "My accompaniment list",
    "my_list_hint": "The professionals who support you. They only see the papers you share.",
    "referent": "Referent",
    "asks_to_join": "Asks to join your list.",
    "accept": "Accept",
    "refuse": "Refuse",
    "remove": "Remove",
    "no_members": "Nobody on your list yet.",
    "add_member": "Add a professional",
    "share_code": "Professional's code",
    "scan_hint": "The code is on the professional's page (as letters or a QR code to scan "
    "with the camera).",
    "mission": "Their role for you",
    "mission_example": "social worker, CHRS Les Lilas",
    "add": "Add",
    "choose_referent": "Choose my referent",
    "no_referent": "No referent",
    "share_category": "Share a whole kind of paper",
    "with_member": "With",
    "category_hint": "Papers of this kind added later will be shared too.",
    "share": "Share",
    "my_helpers": "My helpers",
    "recovery_card": "My recovery card",
    "who_can_see": "Who can see this paper",
    "who_can_see_hint": "Only you decide. You can stop at any time.",
    "can_see": "can see it",
    "can_see_category": "can see it (this whole kind of paper is shared)",
    "cannot_see": "cannot see it",
    "switch_on": "Share",
    "switch_off": "Stop",
    "helpers_hint": "A digital helper can act for you, only for what you choose and for a "
    "limited time.",
    "no_mandates": "No mandate in force.",
    "until": "until",
    "expired": "ended",
    "revoke": "Stop",
    "give_mandate": "Give a mandate",
    "helper": "Helper",
    "scopes": "What they may do",
    "scope_upload": "add papers",
    "scope_organise": "organise (rename, sort, trash)",
    "scope_share": "share and stop sharing",
    "scope_view": "see my papers",
    "scope_recovery": "give me a recovery code if I forget my password",
    "duration": "For how long",
    "d_1d": "1 day",
    "d_1m": "1 month",
    "d_6m": "6 months",
    "d_1y": "1 year",
    "confirm_password": "Your password, to confirm",
    "desk_mandate": "Mandate at my desk",
    "desk_mandate_hint": "The person beside you reads this mandate, then confirms it by "
    "typing their own username and password. Do not look.",
    "desk_for": "Mandate given by",
    "person_password": "The person's password",
    "person_confirms": "I give this mandate",
    "card_keep": "Keep this card somewhere safe. Each code works only once.",
    "card_how": "Forgot your password? On 'Sign in', follow 'Forgot password', then use "
    "one of these codes.",
    "card_print": "Print this page or copy the codes. They will not be shown again.",
    "card_intro": "A card of recovery codes lets you change your password if you forget "
    "it. Making a new card cancels the old one.",
    "card_make": "Make my card",
    "card_offer": "Make their recovery card (to print now)",
    "card_for": "Recovery card of",
    "recover_title": "Forgot password",
    "recover_hint": "Enter the code your referent gave you (or a code from your card).",
    "recovery_code": "Recovery code",
    "new_password": "New password (8 characters or more)",
    "forgot_password": "Forgot password",
    "code_valid_until": "Valid until",
    "code_face_to_face": "Give it only to the person, face to face, after checking who they are.",
    "my_persons": "My persons",
    "my_share_code": "My share code",
    "ask_to_join": "Ask to join a list",
    "request_pending": "Request pending",
    "shared_with_me": "Shared with me",
    "nothing_shared": "Nothing is shared with you yet.",
    "deposit_paper": "Deposit a paper",
    "issue_recovery_code": "Give a recovery code",
    "leave_list": "Leave their list",
    "no_persons": "You are on nobody's list yet.",
    "join_hint": "The person will see your request and choose to accept it or not.",
    "person_username": "The person's username",
    "send_request": "Send the request",
    "qr_alt": "QR code of the share code",
    "share_code_hint": "Give this code to the person: they type or scan it to add you to "
    "their list.",
    "no_share_code": "Organisation admins have no share code.",
    "reset_by": "Your password was changed with a code given by",
    "reset_by_card": "Your password was changed with a code from your recovery card",
    "deposit_notice": "A professional put a paper into your locker.",
    "understood": "Understood",
    "not_me": "It was not me",
    "not_me_hint": "If it was not you: everyone will be signed out of your account and this "
    "professional can no longer give you a code.",
    "reset_kept_until": "This message stays until",
    "reset_disputed_note": "You said it was not you.",
    "change_password": "Change my password",
    "current_password": "Current password",
    "password_change_required_hint": "Your password was chosen by someone else. Choose "
    "your own to continue: the old one will stop working.",
    "password_change_ends_sessions": "Your other sign-ins (other phones, computers, apps) "
    "will be closed.",
    "password_changed_card": "Your password is changed. Here is your new recovery card: the "
    "one given when the account was created no longer works.",
    "continue": "Continue",
    "card_locked": "Your password was changed with a code less than 7 days ago: to protect "
    "you, your current card stays valid and cannot be remade before",
}

# Interface words: {"fr": {"key": "..."}, "en": {"key": "..."}}.
TEXT: dict[str, dict[str, str]] = {"fr": _FR, "en": _EN}
