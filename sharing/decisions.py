"""What the access policy answers, and the names of the actions it answers for."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Action(StrEnum):
    """Every action the policy decides on or the sharing services record; each value is
    the name the audit log keeps."""

    ACCOUNT_CORRECT = "account:correct"
    AUDIT_EXPORT = "audit:export"
    AUDIT_OWN_ACTIONS = "audit:own_actions"
    AUDIT_PROVE_INCLUSION = "audit:prove_inclusion"
    COUNTER_CREATE = "counter:create"
    COUNTER_LIST = "counter:list"
    COUNTER_OPEN = "counter:open"
    COUNTER_REVOKE = "counter:revoke"
    DEPARTURE_END = "departure:end"
    DEPARTURE_HAND_OVER = "departure:hand_over"
    DOCUMENT_CATEGORISE = "document:categorise"
    DOCUMENT_DELETE = "document:delete"
    DOCUMENT_DEPOSIT = "document:deposit"
    DOCUMENT_DESCRIBE = "document:describe"
    DOCUMENT_PREVIEW = "document:preview"
    DOCUMENT_READ = "document:read"
    DOCUMENT_RENAME = "document:rename"
    DOCUMENT_RESTORE = "document:restore"
    DOCUMENT_THUMBNAIL = "document:thumbnail"
    DOCUMENT_VALIDITY = "document:validity"
    DOCUMENT_TRASH = "document:trash"
    GRANT_CREATE = "grant:create"
    GRANT_EXPIRE = "grant:expire"
    GRANT_LIST = "grant:list"
    GRANT_REVOKE = "grant:revoke"
    INVITATION_ACCEPT = "invitation:accept"
    JOIN_REQUEST = "join:request"
    MANDATE_CONFIRM = "mandate:confirm"
    MANDATE_CREATE = "mandate:create"
    MANDATE_LIST = "mandate:list"
    MANDATE_PREPARE = "mandate:prepare"
    MANDATE_RECEIVE = "mandate:receive"
    MANDATE_REVOKE = "mandate:revoke"
    MEMBER_ACCEPT = "member:accept"
    MEMBER_ADD = "member:add"
    MEMBER_LEAVE = "member:leave"
    MEMBER_LIST = "member:list"
    MEMBER_REMOVE = "member:remove"
    NOTICE_LIST = "notice:list"
    ORGANIZATION_AUDITS = "organization:audits"
    ORGANIZATION_INCLUSION = "organization:inclusion"
    ORGANIZATION_SIRET = "organization:siret"
    ORGANIZATION_STAFF = "organization:staff"
    PERSON_CREATE = "person:create"
    PROCONNECT_UNLINK = "proconnect:unlink"
    PERSON_DEPOSIT = "person:deposit"
    PERSON_DESK = "person:desk"
    PERSON_EXPORT = "person:export"
    PERSON_LIST_DOCUMENTS = "person:list_documents"
    PERSON_READ_ACCESS_LOG = "person:read_access_log"
    PERSON_UPLOAD = "person:upload"
    PROFESSIONAL_DEACTIVATE = "professional:deactivate"
    PROFESSIONAL_INVITE = "professional:invite"
    PROFESSIONAL_PERSONS = "professional:persons"
    PROFESSIONAL_ROLE = "professional:role"
    RECOVERY_CARD = "recovery:card"
    RECOVERY_DISPUTE = "recovery:dispute"
    RECOVERY_ISSUE = "recovery:issue"
    RECOVERY_REDEEM = "recovery:redeem"
    REFERENT_SET = "referent:set"
    SECOND_FACTOR_BACKUP_CODES = "second_factor:backup_codes"
    SECOND_FACTOR_PASSKEY_ADD = "second_factor:passkey_add"
    SECOND_FACTOR_PASSKEY_REMOVE = "second_factor:passkey_remove"
    SECOND_FACTOR_CONFIRM = "second_factor:confirm"
    SECOND_FACTOR_ENROL = "second_factor:enrol"
    SECOND_FACTOR_RESET = "second_factor:reset"
    SECOND_FACTOR_USE = "second_factor:use"


@dataclass(frozen=True)
class Decision:
    """The policy's answer, with the reason the audit log records."""

    allowed: bool
    reason: str


def allow(reason: str) -> Decision:
    """A permission, with the right it comes from ("owner", "grant", "mandate:view"...)."""
    return Decision(allowed=True, reason=reason)


def deny(reason: str) -> Decision:
    """A refusal, with the reason the audit log records."""
    return Decision(allowed=False, reason=reason)
