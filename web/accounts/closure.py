"""Closing one's own account, as the API and the settings page both do it: the rows
committed first (nobody can open anything from then on), then the person's erasure key
destroyed (no copy of their key, a backup's included, unwraps again), then every object
deleted at once; one a store refuses now is left to `locker storage reconcile`, named by
no row."""

from __future__ import annotations

from locker import accounts
from locker.documents import discard_object
from sharing.closure import close_own_account
from web.context import db, services


def close_account(signed_in: accounts.SignedIn, password: str) -> None:
    found = services()
    keys = close_own_account(db(), found.clock, signed_in, password=password)
    db().commit()
    # After the commit, never before: a closure that did not commit must not lose the key.
    found.keyring.erasure_keys().destroy(signed_in.user.id)
    for key in keys:
        discard_object(found.store, key)
