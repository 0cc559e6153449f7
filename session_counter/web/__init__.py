"""The routes and the page: per-client and shared counters, the origin check, the race API."""

from . import (
    banner,
    client_counter,
    origin_check,
    race_api,
    race_ids,
    shared_counter,
    strategy_code,
)


def init_app(app):
    """Register the origin check and every blueprint of the page and its API."""
    origin_check.init_app(app)
    app.register_blueprint(banner.bp)
    app.register_blueprint(client_counter.bp)
    app.register_blueprint(shared_counter.bp)
    app.register_blueprint(race_api.bp)
    race_ids.init_app(app)
    app.register_blueprint(strategy_code.bp)
