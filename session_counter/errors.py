"""The app's own error pages, in HTML, JSON or plain text by what the client accepts."""

import functools

from flask import jsonify, render_template, request
from werkzeug.datastructures import MIMEAccept
from werkzeug.exceptions import HTTPException, InternalServerError
from werkzeug.http import parse_accept_header


class StoreUnavailable(Exception):
    """A counter or session store could not be read or written; answered with 503."""

    status = 503


def preferred_format():
    """Return 'html', 'json' or 'text', from the request's Accept header."""
    return format_for_accept(request.headers.get("Accept", ""))


@functools.lru_cache(maxsize=256)
def format_for_accept(accept_header):
    """Map one Accept header to a format; cached, since clients send the same few headers.

    Parsing and matching an Accept header is a sizeable part of a small request.
    """
    accept = parse_accept_header(accept_header, MIMEAccept)
    best = accept.best_match(["text/plain", "application/json", "text/html"])
    return {"application/json": "json", "text/html": "html"}.get(best, "text")


def error_response(status, title, message, **extra):
    """Render one error in the format the client asked for."""
    fmt = preferred_format()
    if fmt == "json":
        return jsonify(error=title, message=message, status=status, **extra), status
    if fmt == "html":
        return render_template("error.html", status=status, title=title, message=message,
                               extra=extra), status
    lines = [f"{status} {title}: {message}"] + [f"{k}: {v}" for k, v in extra.items()]
    return "\n".join(lines) + "\n", status, {"Content-Type": "text/plain; charset=utf-8"}


def handle_http_error(error):
    """Answer 4xx/5xx raised by routing or abort() with the app's own page."""
    extra = getattr(error, "extra", None) or {}
    return error_response(error.code, error.name, error.description, **extra)


def handle_store_unavailable(error):
    """Answer 503 when a store failed, saying what failed; nothing was changed."""
    return error_response(503, "Service Unavailable", str(error))


def handle_unexpected(error):
    """Map any unhandled error to the app's page; a store failure in save_session is a 503."""
    original = getattr(error, "original_exception", None)
    if isinstance(original, StoreUnavailable):
        return handle_store_unavailable(original)
    return error_response(500, "Internal Server Error",
                          "Something went wrong on our side; it has been logged.")


def init_app(app):
    """Register the error handlers."""
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(StoreUnavailable, handle_store_unavailable)
    app.register_error_handler(InternalServerError, handle_unexpected)
