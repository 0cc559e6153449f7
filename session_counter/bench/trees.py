"""Before/after in one run: the per-client rows served by another checkout of the code.

    git worktree add /tmp/before <commit>
    python -m session_counter.bench --tree before=/tmp/before --only inc_cookie

For each ``--tree LABEL=FOLDER`` the bench starts two more servers from that folder's
code (files + lock, and the cookie store) and measures them in the same interleaved
rounds as this checkout's own rows, so a change is judged against the code before it
on the same machine at the same moment, not against a figure from another day.
"""

import os

import click

# The rows each tree adds: key, what it measures, the server's settings.
TREE_ROWS = [("inc_lock", "/inc, session lock on", {"SESSION_LOCK": True}),
             ("inc_cookie", "/inc, cookie store (Flask's own)", {"SESSION_STORE": "cookie"})]


def parse_trees(values):
    """Turn ``--tree LABEL=FOLDER`` options into {label: absolute folder}, or a usage error."""
    trees = {}
    for value in values:
        label, sep, folder = value.partition("=")
        if not sep or not label or not folder:
            raise click.BadParameter(f"{value!r}: want LABEL=FOLDER", param_hint="--tree")
        if not os.path.isfile(os.path.join(folder, "session_counter", "__init__.py")):
            raise click.BadParameter(f"{folder} is not a checkout of session-counter",
                                     param_hint="--tree")
        trees[label] = os.path.abspath(folder)
    return trees


def tree_specs(trees):
    """Return {server name: (settings, project root)} of the servers the trees need."""
    return {f"{key}@{label}": (settings, folder)
            for label, folder in trees.items() for key, _, settings in TREE_ROWS}


def tree_targets(trees):
    """Return (key, label, server name) of the rows the trees add, in the order measured."""
    return [(f"{key}@{label}", f"{what} [{label}]", f"{key}@{label}")
            for label in trees for key, what, _ in TREE_ROWS]


def tree_pairs(by_key):
    """Yield (label, files + lock row, cookie row) of each tree measured."""
    for key, row in by_key.items():
        if key.startswith("inc_lock@"):
            label = key.partition("@")[2]
            cookie = by_key.get(f"inc_cookie@{label}")
            if cookie is not None:
                yield label, row, cookie
