"""Clients of the external stores, made once beside the config: one module per store.

The session stores, the counter strategies and the start-up checks all connect
through here (redis.py, memcached.py, postgres.py), so a connection is configured (time-outs,
retries) in one place and a URL's password never reaches a message or a log.
"""

from urllib.parse import urlsplit


def redacted(url):
    """Return ``url`` with any password replaced by ***, for messages and logs."""
    url = str(url)
    try:
        password = urlsplit(url).password
    except ValueError:  # not even a URL: hide whatever stands before an @
        return url if "@" not in url else "***@" + url.rsplit("@", 1)[1]
    return url if password is None else url.replace(f":{password}@", ":***@", 1)
