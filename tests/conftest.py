"""Shared fixtures: an app with its own instance folder, its test client and CLI runner."""

import pytest

from session_counter import create_app
from session_counter.strategies import get_strategies


@pytest.fixture
def app(tmp_path):
    """An app whose instance folder (sessions, database, secret) is a fresh temp folder."""
    app = create_app({"TESTING": True}, instance_path=str(tmp_path / "instance"))
    for strategy in get_strategies(app).values():
        strategy.reset()  # the module-global strategies outlive one app
    yield app


@pytest.fixture
def client(app):
    """A test client: one cookie jar, like one browser."""
    return app.test_client()


@pytest.fixture
def runner(app):
    """A runner for the app's CLI commands."""
    return app.test_cli_runner()
