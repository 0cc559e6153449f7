"""Serve the app under a named server model: the one entry point of run.py and the harness.

Server models, one per classic answer to "is my global shared?":
  dev-single     Flask's dev server, one thread (app.run(threaded=False))
  dev            Flask's dev server, a thread per request (the default since Flask 1.0)
  dev-processes  Flask's dev server, a forked process per request (app.run(processes=N))
  gunicorn       gunicorn, N sync worker processes
  gthread        gunicorn, N processes with T threads each
  gevent         gunicorn's gevent worker: greenlets, still no safety for globals
  waitress       waitress, one process with T threads
"""

import argparse
import importlib
import os
import sys

from . import SERVER_MODELS, describe_model


def pick_model(args):
    """Choose the server model when --server is not given: --workers > 1 means gunicorn."""
    if args.server:
        return args.server
    return "gunicorn" if args.workers > 1 else "dev"


def app_factory(module="session_counter"):
    """Return the create_app of ``module``: this app, or another (the bench's seed app)."""
    return importlib.import_module(module).create_app


def serve(model, host, port, workers=1, threads=1, module="session_counter"):
    """Run the app under ``model`` until interrupted."""
    from ..web.banner import SERVED_AS

    os.environ[SERVED_AS] = f"{model} {workers} {threads}"  # the page's banner; workers inherit it
    create_app = app_factory(module)

    if model.startswith("dev"):
        app = create_app()
        options = {"dev-single": {"threaded": False},
                   "dev": {"threaded": True},
                   "dev-processes": {"threaded": False, "processes": max(workers, 2)}}[model]
        app.run(host=host, port=port, use_reloader=False, **options)
    elif model == "waitress":
        import waitress

        waitress.serve(create_app(), host=host, port=port, threads=max(threads, 1))
    else:
        run_gunicorn(model, host, port, workers, threads, create_app)


def run_gunicorn(model, host, port, workers, threads, create_app):
    """Run gunicorn in this process; each worker builds its own app (no preload)."""
    from gunicorn.app.base import BaseApplication

    worker_class = {"gunicorn": "sync", "gthread": "gthread", "gevent": "gevent"}[model]
    options = {"bind": f"{host}:{port}", "workers": workers, "worker_class": worker_class,
               "threads": threads, "timeout": 60, "graceful_timeout": 5,
               "worker_connections": 1000, "backlog": 2048, "accesslog": None,
               # one shared ~/.gunicorn/gunicorn.ctl would be fought over by parallel servers
               "control_socket_disable": True}

    class Gunicorn(BaseApplication):
        def load_config(self):
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self):
            return create_app()

    Gunicorn().run()


def build_parser():
    """Return the command-line parser of run.py."""
    parser = argparse.ArgumentParser(description="Serve session-counter.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5000)
    parser.add_argument("--workers", type=int, default=1,
                        help="worker processes; more than 1 starts gunicorn")
    parser.add_argument("--threads", type=int, default=1,
                        help="threads per worker (gthread, waitress)")
    parser.add_argument("--server", choices=SERVER_MODELS,
                        help="server model (default: dev, or gunicorn with --workers > 1)")
    parser.add_argument("--app", default="session_counter",
                        help="module whose create_app() is served (the bench's seed app)")
    return parser


def main(argv=None):
    """Check the configuration, print the URL to open, then serve."""
    from ..startup_checks import StartupError

    args = build_parser().parse_args(argv)
    create_app = app_factory(args.app)
    model = pick_model(args)
    if args.threads > 1 and model == "gunicorn":
        model = "gthread"
    try:
        create_app()  # fail here, with one clear message, before any worker starts
    except StartupError as error:
        print(f"session-counter cannot start: {error.message}", file=sys.stderr)
        return 1
    print(f"session-counter on {describe_model(model, args.workers, args.threads)}: "
          f"open http://{args.host}:{args.port}/", flush=True)
    serve(model, args.host, args.port, args.workers, args.threads, args.app)
    return 0


if __name__ == "__main__":
    sys.exit(main())
