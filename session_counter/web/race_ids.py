"""POST /api/race/start and /api/race/<id>/finish: a race's own counters, by its id.

A request naming a race (header X-Race-Id) counts in that race's counters; the id is
checked by the registry first (400 not an id, 404 unknown, 410 ended), so a forged or
stale one touches no counter at all.
"""

from flask import Blueprint, current_app, jsonify, request

from ..race.registry import init_app as init_registry
from ..race.registry import registry_of
from ..strategies.namespaces import DEFAULT, RACE_HEADER

bp = Blueprint("race_ids", __name__)


def race_namespace():
    """Return the namespace this request counts in: the table's, or its live race's."""
    race = request.headers.get(RACE_HEADER)
    if race is None:
        return DEFAULT
    return registry_of(current_app).check(race)


@bp.route("/api/race/start", methods=["POST"])
def start():
    """Issue a race id: counters of its own at 0 for every strategy, for RACE_LIFETIME s."""
    return jsonify({**registry_of(current_app).start(), "header": RACE_HEADER}), 201


@bp.route("/api/race/<race>/finish", methods=["POST"])
def finish(race):
    """End a race: its counters are dropped."""
    return jsonify(registry_of(current_app).finish(race))


def init_app(app):
    """Make the registry and register the routes."""
    init_registry(app)
    app.register_blueprint(bp)
