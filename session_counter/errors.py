"""The app's own error pages, in HTML, JSON or plain text by what the client accepts."""

import functools

from flask import g, jsonify, make_response, render_template, request
from werkzeug.datastructures import MIMEAccept
from werkzeug.exceptions import HTTPException, InternalServerError
from werkzeug.http import parse_accept_header


class StoreUnavailable(Exception):
    """A counter or session store could not be read or written; answered with 503."""


def preferred_format():
    """Return 'html', 'json' or 'text', from the request's Accept header."""
    g.negotiated = True  # the answer depends on Accept: say so to caches (Vary)
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
    """Answer 4xx/5xx raised by routing or abort() with the app's own page.

    The error's own headers are kept (a 405 must say which methods are allowed).
    """
    extra = getattr(error, "extra", None) or {}
    response = make_response(error_response(error.code, error.name, error.description, **extra))
    for name, value in error.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value
    return response


def handle_store_unavailable(error):
    """Answer 503 when a store failed, saying what failed; nothing was changed."""
    return error_response(503, "Service Unavailable", str(error))


def handle_unexpected(error):
    """Answer any unhandled error with the app's own 500 page (the error is logged)."""
    return error_response(500, "Internal Server Error",
                          "Something went wrong on our side; it has been logged.")


def add_vary_accept(response):
    """Tell caches that this answer depends on the Accept header, when it did."""
    if g.get("negotiated"):
        response.vary.add("Accept")
    return response


def init_app(app):
    """Register the error handlers, and Vary: Accept on negotiated answers."""
    app.after_request(add_vary_accept)
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(StoreUnavailable, handle_store_unavailable)
    app.register_error_handler(InternalServerError, handle_unexpected)
