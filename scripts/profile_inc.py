"""Where a per-client POST /inc spends its time, per session store: cProfile over a wrk run.

    .venv/bin/python scripts/profile_inc.py [--seconds 10] [--store filesystem --store cookie]
        [--tree before=/tmp/before]

For each store: start the app on Flask's single-threaded dev server under
``python -m cProfile`` (one process, so one profile holds every request), start one
session, let wrk send POST /inc with that cookie for N seconds (1 connection), stop the
server (cProfile writes its file on the way out), then print the cumulative time per
request of the parts that matter (the view, opening and saving the session, the lock,
the app's hooks) as microseconds per request. ``--tree LABEL=FOLDER`` adds a column
for the filesystem store served by another checkout's code (before/after).
"""

import argparse
import os
import pstats
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from session_counter.servers.harness import free_port, server_env  # noqa: E402

# (label, file part, function name) of the parts reported; cumulative time each, under
# cProfile (which slows every call: compare stores with each other, not with the bench).
PARTS = [
    ("whole request (wsgi_app)", "flask/app.py", "wsgi_app"),
    ("open the session", "", "open_session"),
    ("save the session", "", "save_session"),
    ("lock: acquire (now: opens, locks and reads the session file)", "file_lock.py",
     "acquire"),
    ("lock: release (teardown)", "sessions/base.py", "finish_session"),
    ("the view (change)", "client_counter.py", "change"),
    ("app hooks before the view (preprocess_request)", "flask/app.py", "preprocess_request"),
    ("after-request hooks (process_response)", "flask/app.py", "process_response"),
    ("url matching for @uses_session", "sessions/base.py", "route_uses_session"),
    ("write the file, lock off or before (store's set)", "file_store.py", "set"),
    ("read the file, lock off or before (store's get)", "file_store.py", "get"),
    ("write the held file (set_held)", "file_store.py", "set_held"),
    ("read the held file (get_held)", "file_store.py", "get_held"),
]


def profile(store, seconds, workdir, name=None, root=ROOT):
    """Profile one store (run from the checkout ``root``); return (requests, {label: us})."""
    name = name or store
    port = free_port()
    out = os.path.join(workdir, f"{name}.prof")
    instance = os.path.join(workdir, name)
    env = server_env(instance, {"SESSION_STORE": store}, None, root)
    server = subprocess.Popen(
        [sys.executable, "-m", "cProfile", "-o", out, "-m", "session_counter.servers.serve",
         "--server", "dev-single", "--port", str(port)], env=env, cwd=root,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                urllib.request.urlopen(url + "/healthz", timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        request = urllib.request.Request(url + "/inc", method="POST",
                                         headers={"Accept": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as answer:
            cookie = answer.headers["Set-Cookie"].split(";")[0]
        script = os.path.join(workdir, "inc.lua")
        with open(script, "w") as f:
            f.write(f'wrk.method = "POST"\nwrk.headers["Cookie"] = "{cookie}"\n'
                    'wrk.headers["Accept"] = "application/json"\n')
        wrk = subprocess.run(["wrk", "-t1", "-c1", f"-d{seconds}s", "-s", script, url + "/inc"],
                             capture_output=True, text=True, check=True)
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=30)
    stats = pstats.Stats(out)
    requests = next(int(line.split()[0]) for line in wrk.stdout.splitlines()
                    if "requests in" in line)
    found = {}
    for (path, _, name), (_, _, _, cumulative, _) in stats.stats.items():
        for label, part, wanted in PARTS:
            if name == wanted and part in path:
                # the outermost of same-named methods (a mixin calling super()) holds the rest
                found[label] = max(found.get(label, 0.0), cumulative)
    return requests, {label: found[label] / requests * 1e6 for label, *_ in PARTS
                      if label in found}


def main():
    """Profile every store asked for, print one table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--store", action="append", dest="stores")
    parser.add_argument("--tree", action="append", default=[], metavar="LABEL=FOLDER",
                        help="also profile the filesystem store of another checkout")
    args = parser.parse_args()
    stores = args.stores or ["filesystem", "cookie", "dict"]
    trees = dict(tree.partition("=")[::2] for tree in args.tree)
    if not all(label and folder and os.path.isdir(os.path.join(folder, "session_counter"))
               for label, folder in trees.items()):
        parser.error("--tree wants LABEL=FOLDER, a checkout of session-counter")
    with tempfile.TemporaryDirectory() as workdir:
        results = {store: profile(store, args.seconds, workdir) for store in stores}
        for label, folder in trees.items():
            name = f"filesystem [{label}]"
            results[name] = profile("filesystem", args.seconds, workdir, label,
                                    os.path.abspath(folder))
    stores = list(results)
    labels = [label for label, *_ in PARTS]
    print("| us per request (cProfile, cumulative) | " + " | ".join(stores) + " |")
    print("|---|" + "---|" * len(stores))
    print("| requests profiled | " + " | ".join(str(results[s][0]) for s in stores) + " |")
    for label in labels:
        cells = [f"{results[s][1][label]:.0f}" if label in results[s][1] else "" for s in stores]
        print(f"| {label} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
