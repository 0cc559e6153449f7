"""Per-client sessions: the locking interface, the file store and its locks, Redis."""

from .base import init_app  # noqa: F401
