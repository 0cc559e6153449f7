"""Each strategy's code card: its increment, read from the module itself (inspect.getsource)."""

import functools
import inspect
import sys
import textwrap

from flask import Blueprint

from .shared_counter import lookup

bp = Blueprint("code", __name__)


@functools.cache
def increment_source(cls):
    """Return the source of cls.increment and of the same-module helpers it calls by name."""
    increment = cls.increment
    module = sys.modules[increment.__module__]
    parts = [increment]
    for name in increment.__code__.co_names:
        for owner in [cls] + [v for v in vars(module).values()
                              if inspect.isclass(v) and v.__module__ == module.__name__]:
            helper = inspect.getattr_static(owner, name, None)
            if inspect.isfunction(helper) and helper.__module__ == module.__name__ \
                    and helper not in parts:
                parts.append(helper)
    return "\n".join(textwrap.dedent(inspect.getsource(f)) for f in parts)


@bp.app_context_processor
def code_cards():
    """Give the page each strategy's increment source, by name."""
    return {"code_of": lambda name: increment_source(type(lookup(name)))}


@bp.route("/api/strategies/<name>/code")
def code(name):
    """Serve a strategy's increment as plain text."""
    return increment_source(type(lookup(name))), {"Content-Type": "text/plain; charset=utf-8"}
