"""The servers the bench measures, started in parallel, and the sessions they start with."""

import json
import os
import secrets
import urllib.request
from concurrent.futures import ThreadPoolExecutor

from .trees import tree_specs


def fill_sessions(app, count):
    """Write ``count`` session files as the app's own store would.

    Straight to disk (no server runs yet), with the store's own encoder and file names.
    Returns the cookies ("name=sid") that point at them.
    """
    interface, cache = app.session_interface, app.session_interface.cache
    name, cookies = app.config["SESSION_COOKIE_NAME"], []
    for n in range(count):
        sid = secrets.token_urlsafe(32)
        key = interface._get_store_id(sid)
        data = cache.encode({"_permanent": True, "counter": n}, app.permanent_session_lifetime)
        fd = os.open(cache.path_for(key), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.write(fd, data)
        os.close(fd)
        cookies.append(f"{name}={sid}")
    return cookies


def new_sessions(url, count):
    """Start ``count`` sessions through HTTP; return their cookies ("name=sid")."""
    cookies = []
    for _ in range(count):
        request = urllib.request.Request(url + "/inc", method="POST",
                                         headers={"Accept": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as answer:
            cookies.append(answer.headers["Set-Cookie"].split(";")[0])
    return cookies


def get_json(url):
    """GET a JSON document."""
    with urllib.request.urlopen(url, timeout=10) as answer:
        return json.load(answer)


def start_servers(root, model, workers, session_counts, stores, needed=None, trees=None,
                  session_stores=None):
    """Start every server the bench needs, in parallel; return ({name: server}, cookies).

    ``stores`` ({"REDIS_URL": url, ...}) go to one more server, "stores": the strategies
    that need a store server are measured there (and sessions in Redis, with REDIS_URL).
    ``session_stores`` ({name: SESSION_STORE}) sets where the sessions of "stores", or
    of a server like it, live. ``needed`` (names) leaves out the other fixed servers;
    ``trees`` ({label: folder}) adds the servers of other checkouts (trees.py).
    """
    from .. import create_app
    from ..servers.harness import PROJECT_ROOT, start_server

    specs = {"main": {"SESSION_LOCK": True}, "lock_off": {"SESSION_LOCK": False},
             # the other per-client stores, and the seed's own Flask-Session app
             "cookie": {"SESSION_STORE": "cookie"}, "dict": {"SESSION_STORE": "dict"},
             "seed": {},
             "sweep_on": {"PERMANENT_SESSION_LIFETIME": 5},  # the sweep deletes as it goes
             "sweep_inline": {"PERMANENT_SESSION_LIFETIME": 5,  # as before: in the request
                              "SESSION_SWEEP_IN_BACKGROUND": False},
             "sweep_off": {"PERMANENT_SESSION_LIFETIME": 5, "SESSION_SWEEP_BATCH": 0}}
    if needed is not None:
        specs = {name: spec for name, spec in specs.items() if name in needed}
    roots = dict.fromkeys(specs, PROJECT_ROOT)
    for name, (spec, folder) in tree_specs(trees or {}).items():
        specs[name], roots[name] = spec, folder
    if stores:
        specs["stores"] = {**stores, "SESSION_LOCK": True}
        roots["stores"] = PROJECT_ROOT
    for name, store in (session_stores or {}).items():
        specs[name] = {**stores, "SESSION_STORE": store, "SESSION_LOCK": True}
        roots[name] = PROJECT_ROOT
    cookies = {}
    for count in session_counts:
        folder = os.path.join(root, f"sessions_{count}")
        cookies[count] = fill_sessions(create_app(instance_path=folder), count)
        specs[f"sessions_{count}"] = {"SESSION_LOCK": True}
        roots[f"sessions_{count}"] = PROJECT_ROOT

    def start(name):
        folder = os.path.join(root, name)
        os.makedirs(folder, exist_ok=True)
        module = "session_counter.bench.seed_app" if name == "seed" else "session_counter"
        return start_server(model, workers=workers, instance_path=folder, config=specs[name],
                            app_module=module, project_root=roots[name])

    with ThreadPoolExecutor(len(specs)) as pool:
        futures = {name: pool.submit(start, name) for name in specs}
    servers = {name: f.result() for name, f in futures.items() if f.exception() is None}
    failures = [f.exception() for f in futures.values() if f.exception() is not None]
    if failures:
        for server in servers.values():
            server.stop()
        raise failures[0]
    return servers, cookies
