"""What a shared inc click got, carried to the page it redirects to, signed so none can forge it.

Under several workers the click and the page that follows are often served by
different processes, so the page's own value is not the click's number. The
redirect carries the click's number, pid and thread in a signed, short-lived
query parameter (no session: a failed session save must never turn a number
already handed out into a 503).
"""

from flask import current_app
from itsdangerous import BadData, URLSafeTimedSerializer

PARAM = "click"
MAX_AGE = 300  # seconds: an old link shows nothing rather than a stale number


def signer():
    """Return the serializer keyed by this app's secret key."""
    return URLSafeTimedSerializer(current_app.secret_key, salt="shared-click-receipt")


def make_receipt(strategy, value, served):
    """Return the signed token saying ``strategy``'s click got ``value`` from ``served``."""
    return signer().dumps([strategy, value, served["pid"], served["thread"]])


def read_receipt(token):
    """Return {strategy, value, pid, thread} from a token, or None if forged, old or malformed."""
    if not token or len(token) > 1000:
        return None
    try:
        strategy, value, pid, thread = signer().loads(token, max_age=MAX_AGE)
    except (BadData, TypeError, ValueError):
        return None
    return {"strategy": strategy, "value": value, "pid": pid, "thread": thread}
