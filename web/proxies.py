"""The client's address and scheme as the reverse proxy saw them, believed from that proxy only.

werkzeug's ProxyFix takes X-Forwarded-For and -Proto from whoever connects. When the
app's port can be reached by anyone but the proxy (a shared network, a port published by
mistake), that lets a client choose the address sign-in throttling counts. With
LOCKER_TRUSTED_PROXIES set, a request whose peer is not one of them keeps its own address.
"""

from __future__ import annotations

from collections.abc import Iterable
from ipaddress import IPv4Network, IPv6Network, ip_address, ip_network
from typing import TYPE_CHECKING

from werkzeug.middleware.proxy_fix import ProxyFix

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment


class TrustedProxyFix:
    """ProxyFix for requests from a trusted peer; every other request passes untouched."""

    def __init__(self, app: WSGIApplication, hops: int, trusted: Iterable[str]) -> None:
        self._direct = app
        self._fixed = ProxyFix(app, x_for=hops, x_proto=hops)
        self._trusted: tuple[IPv4Network | IPv6Network, ...] = tuple(
            ip_network(network) for network in trusted
        )

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if self._from_trusted(str(environ.get("REMOTE_ADDR", ""))):
            return self._fixed(environ, start_response)
        # The forwarded headers stay in place (unused): /metrics still sees that a proxy
        # relayed the request and refuses it.
        return self._direct(environ, start_response)

    def _from_trusted(self, peer: str) -> bool:
        if not self._trusted:
            return True  # nothing listed: the network alone keeps others out (as before)
        try:
            address = ip_address(peer)
        except ValueError:
            return False
        return any(address in network for network in self._trusted)
