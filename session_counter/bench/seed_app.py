"""The seed's own configuration, for the bench's comparison row: Flask-Session, its defaults.

``SESSION_TYPE = "filesystem"`` and nothing else of the seed's second answer changed,
except where the files go (the server's instance folder, not the working directory).
The same per-client POST /inc and GET /healthz as the app, no hooks, no lock.
"""

import os

from flask import Flask, jsonify, session
from flask_session import Session


def create_app():
    """Build the seed's app: Flask-Session on the filesystem, a session counter."""
    app = Flask(__name__)
    folder = os.environ.get("SESSION_COUNTER_INSTANCE_PATH", app.instance_path)
    app.config.update(SESSION_TYPE="filesystem",
                      SESSION_FILE_DIR=os.path.join(folder, "flask_session"))
    Session(app)

    @app.post("/inc")
    def inc():
        session["counter"] = session.get("counter", 0) + 1
        return jsonify(counter=session["counter"], pid=os.getpid())

    @app.get("/healthz")
    def healthz():
        return jsonify(status="ok", pid=os.getpid())

    return app
