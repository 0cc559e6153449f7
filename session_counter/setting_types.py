"""The type of every setting: a value is coerced to it, or refused with the setting's name.

Values come as text from SESSION_COUNTER_* variables and as Python values from
``instance/config.py``; each parser below accepts both and returns one type, or raises
ValueError saying what was expected. Text is never guessed at: "12345678" is a string
wherever a string is expected (a secret key), and a number only where a number is.
"""

import json
import math
from datetime import timedelta
from urllib.parse import urlsplit

TRUE_WORDS = {"true", "1", "yes", "on"}
FALSE_WORDS = {"false", "0", "no", "off"}
DEFAULT_PORTS = {"http": 80, "https": 443}


def boolean(value):
    """Return a bool from a bool or one of true/false, 1/0, yes/no, on/off."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in TRUE_WORDS | FALSE_WORDS:
        return value.strip().lower() in TRUE_WORDS
    raise ValueError("expected true or false")


def integer(value):
    """Return an int from an int (not a bool) or its digits."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            pass
    raise ValueError("expected an integer")


def seconds(value):
    """Return a finite, non-negative number of seconds as a float."""
    number = None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            pass
    if number is None or not math.isfinite(number) or number < 0:
        raise ValueError("expected a number of seconds, 0 or more")
    return number


def duration(value):
    """Return a positive timedelta from a timedelta or a number of seconds."""
    if isinstance(value, timedelta):
        result = value
    else:
        try:
            result = timedelta(seconds=seconds(value))
        except ValueError:
            result = None
    if result is None or result <= timedelta(0):
        raise ValueError("expected a number of seconds greater than 0 (or a timedelta)")
    return result


def text(value):
    """Return a string as it is: text from the environment is never parsed."""
    if not isinstance(value, str):
        raise ValueError("expected a string (in quotes, in a config file)")
    return value


def optional_text(value):
    """Return a string, or None for None or an empty string (the setting is off)."""
    if value is None or value == "":
        return None
    return text(value)


def within(parse_number, low, high):
    """Return a parser of ``parse_number``'s type that also refuses a value outside low..high."""
    def parse(value):
        number = parse_number(value)
        if not low <= number <= high:
            raise ValueError(f"expected a number from {low} to {high}")
        return number
    parse.__doc__ = f"Return the value if it is a number from {low} to {high}."
    return parse


def one_of(*choices):
    """Return a parser that accepts exactly one of ``choices`` (strings)."""
    def parse(value):
        if value not in choices:
            raise ValueError("expected one of " + ", ".join(choices))
        return value
    parse.__doc__ = f"Return the value if it is one of {', '.join(choices)}."
    return parse


def optional_choice(*choices):
    """Return a parser that accepts None, an empty string (unset) or one of ``choices``."""
    choose = one_of(*choices)

    def parse(value):
        return None if value is None or value == "" else choose(value)
    parse.__doc__ = f"Return None, or the value if it is one of {', '.join(choices)}."
    return parse


def origin(value):
    """Return one origin, scheme://host[:port], as a browser's Origin header spells it.

    Scheme and host are lowercased and a default port (80, 443) dropped, because a
    browser sends them so; anything beyond an origin (a path, even a lone "/", a query,
    a user name, a wildcard) is refused rather than guessed at.
    """
    shape = ("scheme://host[:port] with no path, e.g. https://app.example.com "
             "or http://127.0.0.1:8000")
    if not isinstance(value, str):
        raise ValueError(f"expected origins as strings: {shape}")
    try:
        parts = urlsplit(value.strip())
        port = parts.port
    except ValueError:
        parts = port = None
    if (parts is None or parts.scheme.lower() not in DEFAULT_PORTS or not parts.hostname
            or "*" in parts.netloc or parts.username is not None or parts.password is not None
            or parts.path or parts.query or parts.fragment or value.strip().endswith(("?", "#"))):
        raise ValueError(f"{value!r} is not an origin: write {shape}")
    scheme, host = parts.scheme.lower(), parts.hostname
    host = f"[{host}]" if ":" in host else host
    return f"{scheme}://{host}" + ("" if port in (None, DEFAULT_PORTS[scheme]) else f":{port}")


def origins(value):
    """Return a frozenset of exact origins from a list, or from comma-separated text.

    Text that starts with "[" is read as a JSON list (older versions parsed every
    variable as JSON). A lone string is never used as a container: that was a
    substring test, and "https://app.example.co" was "in" "https://app.example.com".
    """
    if isinstance(value, str):
        if value.strip().startswith("["):
            try:
                value = json.loads(value)
            except ValueError:
                raise ValueError("expected a JSON list of origins, "
                                 "or origins separated by commas") from None
        else:
            value = [item for item in value.split(",") if item.strip()]
    if not isinstance(value, (list, tuple, set, frozenset)):
        raise ValueError("expected a list of origins (in a config file), or origins separated "
                         "by commas (in the environment)")
    return frozenset(origin(item) for item in value)
