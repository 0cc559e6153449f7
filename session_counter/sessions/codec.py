"""How a session is stored: msgpack of a dict, in files, Redis and memcached alike. Never pickle.

Flask-Session 0.8's own serializer falls back to ``pickle.loads`` when msgpack and JSON
fail, so whoever can write a session (into Redis, into the session folder) could make
the next request that reads it run any code. This codec has no fallback: bytes that
are not msgpack of a dict are a damaged session, and the client starts afresh.
"""

import logging

import msgspec
from flask_session.base import Serializer

log = logging.getLogger(__name__)

_encoder = msgspec.msgpack.Encoder()
_decoder = msgspec.msgpack.Decoder(dict)  # anything but a dict is a DecodeError/ValidationError


def encode(session):
    """Return the msgpack bytes of a session's dict."""
    return _encoder.encode(dict(session))


def decode(raw):
    """Return the dict in ``raw`` msgpack; raise msgspec.MsgspecError if it is not one."""
    return _decoder.decode(raw)


class MsgpackOnlySerializer(Serializer):
    """Flask-Session's serializer interface, without its pickle fallback."""

    def encode(self, session):
        """Serialize a session to msgpack."""
        return encode(session)

    def decode(self, serialized_data):
        """Deserialize msgpack; anything else raises (and is then a damaged session)."""
        return decode(serialized_data)


def decode_session(raw, where):
    """Return the session dict in ``raw``; log and return None if it is not one.

    A damaged session is read as an empty one: the client starts afresh, the server
    does not fail. Used by the file store and the Redis store alike.
    """
    try:
        return decode(raw)
    except (msgspec.MsgspecError, TypeError) as error:
        log.warning("%s cannot be decoded as a session (%s); starting a fresh session",
                    where, error)
        return None
