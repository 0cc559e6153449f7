"""Flask's own session: the whole session, signed, in the cookie; nothing on the server.

SecureCookieSessionInterface unchanged: a cookie whose signature does not match the
SECRET_KEY is ignored (a fresh, empty session). The server keeps nothing, so there is
nothing to lock: two simultaneous requests of one client each send back their own
cookie, and the one the client stores last wins.
"""

from flask.sessions import SecureCookieSessionInterface


class CookieSessionStore(SecureCookieSessionInterface):
    """Flask's signed-cookie session, with the name and log hook the app's pages use."""

    session_store = "cookie"
    locks = None

    def log_name(self, sid):
        """Name a cookie session in logs: there is no id, and the data is the client's."""
        return "a cookie session"


def make_cookie_interface(app):
    """Build Flask's signed-cookie session interface."""
    return CookieSessionStore()
