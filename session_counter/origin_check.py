"""Refuse state-changing requests that another site's page makes a browser send.

Browsers label every request: ``Sec-Fetch-Site`` says whether it came from the same
origin, and ``Origin`` names the page that sent a POST. A form on evil.example that
posts to /inc carries the user's session cookie (SameSite=Lax still sends it on some
top-level navigations), so the cookie alone proves nothing. Clients that are not
browsers (curl, scripts) send neither header and are let through: they hold their
own cookies, so a forged request cannot ride on someone else's session.
"""

from flask import abort, request

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
TRUSTED_FETCH_SITES = {"same-origin", "none"}


def is_cross_site(trusted_origins=()):
    """Tell whether this request was sent by a page of another site."""
    fetch_site = request.headers.get("Sec-Fetch-Site")
    if fetch_site is not None and fetch_site not in TRUSTED_FETCH_SITES:
        return True
    origin = request.headers.get("Origin")
    if origin is None:
        return False
    own_origin = f"{request.scheme}://{request.host}"
    return origin != own_origin and origin not in trusted_origins


def init_app(app):
    """Check every state-changing request before it reaches a view."""

    @app.before_request
    def refuse_cross_site_writes():
        if request.method in SAFE_METHODS:
            return None
        if is_cross_site(app.config["TRUSTED_ORIGINS"]):
            abort(403, "Cross-site request refused: this form was not sent by this site's "
                       "own page. Open the page and use its buttons, or use curl.")
        return None
