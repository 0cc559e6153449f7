"""session-counter: per-client counters in server-side sessions, and shared counters
with several strategies side by side, to show which ones hand out every number once."""

from flask import Flask

from . import errors, sessions, strategies
from .config import ensure_secret_key, instance_path_from_env, load_config
from .race import cli as race_cli
from .startup_checks import run_checks
from .web import client_counter, origin_check, race_api, shared_counter


def create_app(test_config=None, instance_path=None):
    """Build the app: config, checks, sessions, strategies, routes, error pages."""
    app = Flask(__name__, instance_relative_config=True,
                instance_path=instance_path or instance_path_from_env(),
                template_folder="../templates")
    load_config(app, test_config)
    run_checks(app)
    ensure_secret_key(app)

    sessions.init_app(app)
    strategies.init_app(app)
    origin_check.init_app(app)
    errors.init_app(app)
    app.register_blueprint(client_counter.bp)
    app.register_blueprint(shared_counter.bp)
    app.register_blueprint(race_api.bp)
    app.cli.add_command(race_cli.race_command)
    from .bench.cli import bench_command  # not at the top, or `python -m` warns about a 2nd import
    app.cli.add_command(bench_command)
    return app
