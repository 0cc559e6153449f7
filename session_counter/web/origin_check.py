"""Refuse state-changing requests that another site's page makes a browser send.

Browsers label every request: ``Sec-Fetch-Site`` says whether it came from the same
origin, and ``Origin`` names the page that sent a POST. A form on evil.example that
posts to /inc carries the user's session cookie (SameSite=Lax still sends it on some
top-level navigations), so the cookie alone proves nothing. Clients that are not
browsers (curl, scripts) send neither header and are let through: they hold their
own cookies, so a forged request cannot ride on someone else's session.

A trusted origin (TRUSTED_ORIGINS: exact origins, never a substring) is allowed
whatever ``Sec-Fetch-Site`` says. A page on https://admin.example.com that posts to
https://counter.example.com is "same-site" to a current browser and sends
``Origin: https://admin.example.com``; an older browser sends the Origin alone. A
browser sets Origin itself (no page can forge it), so the exact Origin is the one
test that means the same in both generations, and naming an origin is the operator's
decision to let its pages post here. Any other request with ``Sec-Fetch-Site`` other
than same-origin or none is refused.
"""

from flask import abort, request

from ..setting_types import origins

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
TRUSTED_FETCH_SITES = {"same-origin", "none"}


def is_cross_site(trusted_origins=frozenset()):
    """Tell whether this request was sent by a page that may not post here."""
    origin = request.headers.get("Origin")
    if origin is not None and origin in trusted_origins:
        return False
    fetch_site = request.headers.get("Sec-Fetch-Site")
    if fetch_site is not None and fetch_site not in TRUSTED_FETCH_SITES:
        return True
    if origin is None:
        return False
    return origin != f"{request.scheme}://{request.host}"


def init_app(app):
    """Check every state-changing request before it reaches a view."""
    trusted = origins(app.config["TRUSTED_ORIGINS"])  # a set of exact origins, never a str

    @app.before_request
    def refuse_cross_site_writes():
        if request.method in SAFE_METHODS:
            return None
        if is_cross_site(trusted):
            abort(403, "Cross-site request refused: this form was not sent by this site's "
                       "own page. Open the page and use its buttons, or use curl.")
        return None
