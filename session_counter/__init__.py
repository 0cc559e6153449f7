"""session-counter: per-client counters in server-side sessions, and shared counters
with several strategies side by side, to show which ones hand out every number once."""

from flask import Flask

from . import cli, errors, sessions, strategies, web
from .config import ensure_secret_key, instance_path_from_env, load_config
from .startup_checks import run_checks


def create_app(test_config=None, instance_path=None):
    """Build the app: config, checks, sessions, strategies, routes, error pages, commands."""
    app = Flask(__name__, instance_relative_config=True,
                instance_path=instance_path or instance_path_from_env(),
                template_folder="../templates")
    load_config(app, test_config)
    run_checks(app)
    ensure_secret_key(app)

    sessions.init_app(app)
    strategies.init_app(app)
    web.init_app(app)
    errors.init_app(app)
    cli.init_app(app)
    return app
