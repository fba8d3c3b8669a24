"""What the counter pages and API share: a link's public URL, its code as it is read
aloud, its QR code, and the cookie that holds a claiming browser's viewer secret."""

from __future__ import annotations

import base64
import io
from datetime import datetime

import segno
from flask import Response, request, url_for

COOKIE_PREFIX = "counter-"


def link_url(token: str) -> str:
    """The URL the agent opens: it shows the papers at once, no account needed."""
    return url_for("counter.open_link", token=token, _external=True)


def spaced(code: str) -> str:
    """The code in two groups, easier to read out and to type ("ABCDE 23456")."""
    return f"{code[:5]} {code[5:]}"


def qr_data_uri(text: str) -> str:
    """The QR code of `text` as an image inside the page: the secret is in no other URL."""
    buffer = io.BytesIO()
    segno.make(text, error="m").save(buffer, kind="svg", scale=6, border=2)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode()


def viewers() -> dict[str, str]:
    """The viewer secrets this browser holds, by link id."""
    return {
        name.removeprefix(COOKIE_PREFIX): value
        for name, value in request.cookies.items()
        if name.startswith(COOKIE_PREFIX)
    }


def keep_viewer(response: Response, link_id: str, viewer: str, expires_at: datetime) -> None:
    """The claiming browser keeps its viewer secret until the link ends, for its pages only."""
    response.set_cookie(
        f"{COOKIE_PREFIX}{link_id}",
        viewer,
        expires=expires_at,
        path="/c",
        secure=request.is_secure,
        httponly=True,
        samesite="Lax",
    )


def private(response: Response) -> Response:
    """A counter page or picture is kept by no cache, sent to no other site, indexed by no
    engine."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response
