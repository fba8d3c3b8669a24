"""Sign-in throttling: failed attempts are counted per account and per address, never
globally, so one person's typos or one busy office's shared address lock nobody else out.

The counts live in a storage of the `limits` library (the one behind Flask-Limiter; its
per-route decorators do not fit two keys counted on failure only): in memory for the
embedded default, in Redis (LOCKER_THROTTLE_STORAGE_URL) when several processes serve.
The account key is hashed, so the counter store never holds a username or an e-mail.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager

from flask import request
from limits import parse
from limits.errors import StorageError
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from locker.accounts import normalise_username
from locker.errors import NotFound, WrongCurrentPassword
from locker.models import Person, Professional
from sharing import recovery
from sharing.errors import BadRecoveryCode, BadSecondFactorCode, TooManyAttempts
from web.context import db, services

log = logging.getLogger(__name__)

# A person mistyping on a phone gets ten tries a quarter of an hour; an office where many
# people sign in behind one address gets fifty failures between them.
PER_ACCOUNT = parse("10 per 15 minutes")
PER_ADDRESS = parse("50 per 15 minutes")

# Recovery codes (`POST /recover`, `POST /api/v1/recovery`). A wrong code is counted
# against the submitted username *from this address*, and against the address, whether
# the username exists or not: the answer (422, then 429) is the same for every username,
# so it tells no one which accounts exist. No bucket counts a username from everywhere:
# that one would let anyone lock the real person out of recovering by typing wrong codes
# from afar, and it buys nothing, since a code is about 59 random bits (5 tries per
# username and address, 20 per address, a quarter of an hour: no address gets near one).
RECOVERY_PER_ACCOUNT_AND_ADDRESS = parse("5 per 15 minutes")
RECOVERY_PER_ADDRESS = parse("20 per 15 minutes")
# Counter links (`/c/<secret>`, `/c` with a short code): wrong tries per address. A link's
# secret is 256 random bits; its code about 49 bits that lives 30 minutes by default: at
# 20 tries a quarter of an hour, an address would need millions of years to find one.
COUNTER_PER_ADDRESS = parse("20 per 15 minutes")
# ProConnect sign-ins started per address, whatever their outcome: each keeps a row until
# it returns or ten minutes pass, so an address cannot fill the table; an office where
# many professionals sign in behind one address stays far under it.
PROCONNECT_PER_ADDRESS = parse("60 per 15 minutes")


class SignInThrottle:
    """Failed sign-ins in a moving window, by account and by client address."""

    def __init__(self, storage_url: str) -> None:
        storage = storage_from_string(
            storage_url, key_prefix="locker-sign-in", wrap_exceptions=True
        )
        self._window = MovingWindowRateLimiter(storage)

    def _fail_open(self, what: str, count: Callable[[], bool]) -> bool:
        # With the counter store down, signing in and the rest still work (Argon2id keeps
        # each password guess slow, codes are far too long to guess): locking every
        # person out would be worse.
        try:
            return count()
        except StorageError:
            log.error("%s throttle store unavailable", what)
            return True

    def allows(self, identifier: str, address: str) -> bool:
        """False once the account or the address has used up its failures."""
        return self._fail_open(
            "sign-in",
            lambda: (
                self._window.test(PER_ACCOUNT, "account", _account(identifier))
                and self._window.test(PER_ADDRESS, "address", address)
            ),
        )

    def failed(self, identifier: str, address: str) -> None:
        """Count one failed attempt against the account and the address."""
        # `&`, not `and`: both are counted even when the first is over.
        self._fail_open(
            "sign-in",
            lambda: (
                self._window.hit(PER_ACCOUNT, "account", _account(identifier))
                & self._window.hit(PER_ADDRESS, "address", address)
            ),
        )

    def recovery_allows(self, username: str, address: str) -> bool:
        """False once this username from this address, or this address, used its tries."""
        return self._fail_open(
            "recovery",
            lambda: (
                self._window.test(
                    RECOVERY_PER_ACCOUNT_AND_ADDRESS, "recovery", _account(username), address
                )
                and self._window.test(RECOVERY_PER_ADDRESS, "recovery-address", address)
            ),
        )

    def recovery_failed(self, username: str, address: str) -> None:
        """Count one wrong recovery code for this username from this address, and the address."""
        self._fail_open(
            "recovery",
            lambda: (
                self._window.hit(
                    RECOVERY_PER_ACCOUNT_AND_ADDRESS, "recovery", _account(username), address
                )
                & self._window.hit(RECOVERY_PER_ADDRESS, "recovery-address", address)
            ),
        )

    def counter_allows(self, address: str) -> bool:
        """False once this address has used its wrong tries at counter links."""
        return self._fail_open(
            "counter", lambda: self._window.test(COUNTER_PER_ADDRESS, "counter", address)
        )

    def counter_failed(self, address: str) -> None:
        """Count one wrong counter link or code from this address."""
        self._fail_open(
            "counter", lambda: self._window.hit(COUNTER_PER_ADDRESS, "counter", address)
        )

    def proconnect_start(self, address: str) -> bool:
        """Count a ProConnect sign-in started from this address; False once over."""
        return self._fail_open(
            "ProConnect", lambda: self._window.hit(PROCONNECT_PER_ADDRESS, "proconnect", address)
        )


def _account(identifier: str) -> str:
    # Normalised as the account lookups do (case and spaces around never matter).
    cleaned = normalise_username(identifier)
    return hashlib.sha256(cleaned.encode("utf-8", "surrogatepass")).hexdigest()


def account_name(user: Person | Professional) -> str:
    """The name an account signs in with: its failures are counted against it."""
    return user.username if isinstance(user, Person) else user.email


def sign_in_allowed(identifier: str) -> bool:
    """Whether this request may try to sign in to `identifier` now."""
    return services().throttle.allows(identifier, _address())


def proconnect_start_allowed() -> bool:
    """Whether this request's address may start one more ProConnect sign-in now."""
    return services().throttle.proconnect_start(_address())


def sign_in_failed(identifier: str) -> None:
    """Count this request's failed sign-in."""
    services().throttle.failed(identifier, _address())


@contextmanager
def _counted_with_sign_ins(
    user: Person | Professional, attempt: str, wrong: type[Exception], settle: Callable[[], None]
) -> Iterator[None]:
    # TooManyAttempts once the account is over; a `wrong` answer is settled (the act rolled
    # back, or its refusal's record kept), then counts one failed sign-in.
    identifier = account_name(user)
    if not sign_in_allowed(identifier):
        raise TooManyAttempts(attempt)
    try:
        yield
    except wrong:
        settle()
        sign_in_failed(identifier)
        raise


def password_guarded(user: Person | Professional) -> AbstractContextManager[None]:
    """An act the user confirms with their own password, counted like sign-ins: a stolen
    session or token must not become a way to guess it (TooManyAttempts once over; a
    WrongCurrentPassword counts, and rolls the act back)."""
    return _counted_with_sign_ins(user, "password", WrongCurrentPassword, db().rollback)


def factor_guarded(user: Person | Professional) -> AbstractContextManager[None]:
    """An act confirmed with a second-factor code, counted with the account's failed
    sign-ins (TooManyAttempts once over). A BadSecondFactorCode counts one failure; its
    record in the audit log is committed, nothing else the act began."""
    # Committed: the service wrote the refusal's record, and nothing else yet.
    return _counted_with_sign_ins(user, "code", BadSecondFactorCode, db().commit)


def _address() -> str:
    # Behind a proxy, LOCKER_PROXY_HOPS makes this the client's, not the proxy's.
    return request.remote_addr or "unknown"


@contextmanager
def counter_guarded() -> Iterator[None]:
    """Opening a counter link by its secret or code, counted per address: a NotFound (no
    such link) counts one wrong try; TooManyAttempts once the address used them up."""
    found, address = services(), _address()
    if not found.throttle.counter_allows(address):
        raise TooManyAttempts("counter")
    try:
        yield
    except NotFound:
        db().rollback()
        found.throttle.counter_failed(address)
        raise


def redeem_with_throttle(username: str, code: str, new_password: str) -> None:
    """Redeem a recovery code, counting a wrong one whether the username exists or not."""
    found, address = services(), _address()
    if not found.throttle.recovery_allows(username, address):
        raise TooManyAttempts("wait")
    try:
        recovery.redeem_recovery_code(
            db(),
            found.session_factory,
            found.clock,
            username=username,
            code=code,
            new_password=new_password,
        )
    except BadRecoveryCode:
        db().rollback()
        found.throttle.recovery_failed(username, address)
        raise
    db().commit()
