"""Closing one's own account, as the API and the settings page both do it: the rows
committed first (nobody can open anything from then on), then every object deleted at
once; one a store refuses now is left to `locker storage reconcile`, named by no row."""

from __future__ import annotations

from locker import accounts
from locker.documents import discard_object
from sharing.closure import close_own_account
from web.context import db, services


def close_account(signed_in: accounts.SignedIn, password: str) -> None:
    found = services()
    keys = close_own_account(db(), found.clock, signed_in, password=password)
    db().commit()
    for key in keys:
        discard_object(found.store, key)
