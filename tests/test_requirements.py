"""requirements.txt alone installs every distribution the app and its server models import."""

import json
import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REQUIREMENTS = Path(__file__).resolve().parents[1] / "requirements.txt"
# What run.py's server models and the app import at run time (each worker class, each store).
RUNTIME_MODULES = ("session_counter.servers.serve", "gunicorn.workers.sync",
                   "gunicorn.workers.gthread", "gunicorn.workers.ggevent", "waitress",
                   "gevent.monkey", "psycopg", "redis", "pymemcache", "flask_caching",
                   "flask_session", "rich")


def pinned():
    """Return the Requirements of requirements.txt (each must pin ==)."""
    found = []
    for line in REQUIREMENTS.read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            assert re.search(r"==\S+$", line), f"not pinned: {line}"
            found.append(Requirement(line))
    return found


def installed_closure(requirements):
    """Return the canonical names of what pip installs for ``requirements`` (their deps too)."""
    names, todo = set(), [(req, frozenset(req.extras)) for req in requirements]
    while todo:
        req, extras = todo.pop()
        name = canonicalize_name(req.name)
        if name in names and not extras:
            continue
        names.add(name)
        for raw in metadata.requires(req.name) or ():
            dep = Requirement(raw)
            if dep.marker is None or any(dep.marker.evaluate({"extra": e})
                                         for e in (extras or {""})):
                todo.append((dep, frozenset(dep.extras)))
    return names


def imported_distributions():
    """Return the canonical names of the distributions RUNTIME_MODULES load, in a fresh python."""
    code = ("import importlib, json, sys\n"
            "before = set(sys.modules)\n"  # what site.py loaded (setuptools' .pth hook)
            f"for m in {RUNTIME_MODULES!r}: importlib.import_module(m)\n"
            "from session_counter import create_app\n"
            "print(json.dumps(sorted({n.split('.')[0] for n in set(sys.modules) - before})))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=120).stdout
    by_module = metadata.packages_distributions()
    return {canonicalize_name(dist) for top in json.loads(out.splitlines()[-1])
            for dist in by_module.get(top, ())}


@pytest.mark.slow
def test_requirements_txt_installs_what_the_server_models_import():
    """gunicorn's gevent worker imports `packaging` without declaring it: the pin covers it."""
    missing = imported_distributions() - installed_closure(pinned()) - {"session-counter"}
    assert not missing, f"imported at run time but not installed by requirements.txt: {missing}"


def test_packaging_is_pinned_for_gunicorns_gevent_worker():
    assert "packaging" in {canonicalize_name(r.name) for r in pinned()}
