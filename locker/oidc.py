"""An OpenID Connect relying party (ProConnect's): discovery, the authorization request with
PKCE S256, state and nonce, the code exchange, and the ID token and userinfo verified
against the provider's published keys, with the signing algorithms pinned.

The protocol is Authlib's (OAuth2Session) and the JOSE checks joserfc's; this module only
says which checks a sign-in must pass. No Flask here: the web layer hands in the URLs.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.requests_client import OAuth2Session
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from locker.actors import Clock
from locker.errors import LockerError
from locker.settings import ProConnectSettings

# ProConnect signs with RS256 or ES256; `none` and the HS* family (signed with our own
# client secret, which a leaked secret would let anyone forge) are never accepted.
PINNED_ALGORITHMS = ("RS256", "ES256")
SCOPE = "openid email given_name usual_name siret uid"
TIMEOUT_SECONDS = 10
# Discovery and keys are read again after this long (a key rotation at the provider).
CACHE_SECONDS = 600
# The provider's and our clocks may differ a little.
LEEWAY_SECONDS = 60


class OidcError(LockerError):
    """The provider's answer cannot be trusted or did not come; `reason` says which step."""

    code = "proconnect_failed"


@dataclass(frozen=True)
class Authorization:
    """Where to send the browser, and what the callback must check (kept server-side)."""

    url: str
    state: str
    nonce: str
    code_verifier: str


@dataclass(frozen=True)
class Identity:
    """A verified sign-in at the provider: the ID token's claims, its userinfo, the token."""

    claims: dict[str, Any]
    userinfo: dict[str, Any]
    id_token: str


class RelyingParty:
    """One provider as seen by this service; discovery and keys are cached a few minutes."""

    def __init__(self, settings: ProConnectSettings, clock: Clock) -> None:
        self.settings = settings
        self.clock = clock
        self._metadata: dict[str, Any] | None = None
        self._keys: KeySet | None = None
        self._read_at = 0.0

    def _get_json(self, url: str) -> dict[str, Any]:
        try:
            response = requests.get(url, timeout=TIMEOUT_SECONDS)
            response.raise_for_status()
            found = response.json()
        except (requests.RequestException, ValueError):
            raise OidcError("provider unreachable", reason="unreachable") from None
        if not isinstance(found, dict):
            raise OidcError("not a JSON object", reason="unreachable")
        return found

    def metadata(self) -> dict[str, Any]:
        """The provider's discovery document, checked to be the configured issuer's."""
        if self._metadata is None or time.monotonic() - self._read_at > CACHE_SECONDS:
            issuer = self.settings.issuer
            found = self._get_json(f"{issuer}/.well-known/openid-configuration")
            if found.get("issuer") != issuer:
                raise OidcError("discovery names another issuer", reason="unreachable")
            self._metadata, self._keys = found, None
            self._read_at = time.monotonic()
        return self._metadata

    def keys(self) -> KeySet:
        """The provider's published signing keys (its JWKS)."""
        if self._keys is None:
            try:
                self._keys = KeySet.import_key_set(self._get_json(self.metadata()["jwks_uri"]))  # type: ignore[arg-type]
            except (KeyError, ValueError, JoseError):
                raise OidcError("unusable JWKS", reason="unreachable") from None
        return self._keys

    def algorithms(self) -> list[str]:
        """The pinned algorithms the provider says it signs ID tokens with."""
        published = self.metadata().get("id_token_signing_alg_values_supported") or []
        chosen = [alg for alg in PINNED_ALGORITHMS if alg in published]
        if not chosen:
            raise OidcError("no pinned signing algorithm", reason="unreachable")
        return chosen

    def _client(self, redirect_uri: str) -> OAuth2Session:
        return OAuth2Session(
            self.settings.client_id,
            self.settings.client_secret,
            scope=SCOPE,
            redirect_uri=redirect_uri,
            code_challenge_method="S256",
            token_endpoint_auth_method="client_secret_basic",  # noqa: S106 (a method name)
        )

    def authorization(self, redirect_uri: str) -> Authorization:
        """A new authorization request: fresh state, nonce and PKCE verifier, the acr asked."""
        state, nonce = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        verifier = secrets.token_urlsafe(64)
        url, _ = self._client(redirect_uri).create_authorization_url(
            self.metadata()["authorization_endpoint"],
            state=state,
            code_verifier=verifier,
            nonce=nonce,
            acr_values=" ".join(self.settings.acr_values),
            # amr (was a second factor used?) comes only when asked for by name.
            claims='{"id_token":{"amr":{"essential":true}}}',
            prompt="login",
        )
        return Authorization(url=url, state=state, nonce=nonce, code_verifier=verifier)

    def identify(self, *, code: str, redirect_uri: str, nonce: str, code_verifier: str) -> Identity:
        """Redeem the code (with the PKCE verifier), verify the ID token, read userinfo."""
        client = self._client(redirect_uri)
        try:
            token = client.fetch_token(
                self.metadata()["token_endpoint"],
                grant_type="authorization_code",
                code=code,
                code_verifier=code_verifier,
                timeout=TIMEOUT_SECONDS,
            )
        except AuthlibBaseError:
            # invalid_grant above all: a code used already, or not issued for this verifier.
            raise OidcError("code refused", reason="code_refused") from None
        except requests.RequestException:
            raise OidcError("provider unreachable", reason="unreachable") from None
        id_token = token.get("id_token")
        if not isinstance(id_token, str):
            raise OidcError("no ID token", reason="bad_id_token")
        claims = self.verify_id_token(id_token, nonce)
        userinfo = self._userinfo(client, claims["sub"])
        return Identity(claims=claims, userinfo=userinfo, id_token=id_token)

    def _decode(self, value: str) -> dict[str, Any]:
        cached = self._keys is not None
        try:
            return jwt.decode(value, self.keys(), algorithms=self.algorithms()).claims
        except (JoseError, ValueError):
            if not cached:
                raise OidcError("signature", reason="bad_signature") from None
        # The provider may have rotated its keys since they were read: read them once more.
        self._keys = None
        try:
            return jwt.decode(value, self.keys(), algorithms=self.algorithms()).claims
        except (JoseError, ValueError):
            raise OidcError("signature", reason="bad_signature") from None

    def verify_id_token(self, id_token: str, nonce: str) -> dict[str, Any]:
        """The ID token's claims, once its signature (a pinned algorithm, a published key),
        issuer, audience, expiry, issue time and nonce all hold."""
        claims = self._decode(id_token)
        registry = jwt.JWTClaimsRegistry(
            now=int(self.clock().timestamp()),
            leeway=LEEWAY_SECONDS,
            iss={"essential": True, "value": self.settings.issuer},
            aud={"essential": True, "value": self.settings.client_id},
            exp={"essential": True},
            iat={"essential": True},
            sub={"essential": True},
        )
        try:
            registry.validate(claims)
        except JoseError:
            raise OidcError("claims", reason="bad_id_token") from None
        audience = claims["aud"]
        several = isinstance(audience, list) and len(audience) > 1
        if several and claims.get("azp") != self.settings.client_id:
            raise OidcError("azp", reason="bad_id_token")
        # Compared in constant time: the nonce binds this token to this browser's request.
        given = claims.get("nonce")
        if not isinstance(given, str) or not secrets.compare_digest(given, nonce):
            raise OidcError("nonce", reason="bad_nonce")
        return claims

    def _userinfo(self, client: OAuth2Session, sub: str) -> dict[str, Any]:
        try:
            response = client.get(self.metadata()["userinfo_endpoint"], timeout=TIMEOUT_SECONDS)
            response.raise_for_status()
        except (requests.RequestException, AuthlibBaseError):
            raise OidcError("userinfo", reason="unreachable") from None
        if response.headers.get("Content-Type", "").startswith("application/jwt"):
            # ProConnect signs its userinfo: the same keys and algorithms as the ID token.
            found = self._decode(response.text)
        else:
            try:
                found = response.json()
            except ValueError:
                raise OidcError("userinfo", reason="unreachable") from None
        if not isinstance(found, dict) or found.get("sub") != sub:
            # OpenID Connect Core 5.3.2: userinfo of another subject is never used.
            raise OidcError("userinfo of another subject", reason="bad_id_token")
        return found

    def end_session_url(self, id_token: str, post_logout_redirect_uri: str, state: str) -> str:
        """Where to send the browser to sign out at the provider too (RP-initiated logout)."""
        endpoint = self.metadata().get("end_session_endpoint")
        if not isinstance(endpoint, str):
            raise OidcError("no end_session_endpoint", reason="unreachable")
        query = urlencode(
            {
                "id_token_hint": id_token,
                "post_logout_redirect_uri": post_logout_redirect_uri,
                "state": state,
            }
        )
        return f"{endpoint}{'&' if '?' in endpoint else '?'}{query}"
