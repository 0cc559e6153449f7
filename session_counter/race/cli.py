"""`flask --app session_counter race`: the race lab in the terminal (a table, or --json)."""

import json

import click
from click.core import ParameterSource

from ..servers import SERVER_MODELS, describe_model
from ..strategies import STRATEGY_CLASSES
from .lab import LabError, LabSettings, run_lab
from .simultaneous import loopback_target

# Options that configure servers the lab starts; they mean nothing with --url.
SERVER_OPTIONS = ("server", "workers", "threads", "window", "window_at", "instances",
                  "redis_url", "memcached_url", "postgres_url", "port_range",
                  "session_stores", "session_lock")


def parse_port_range(ctx, param, value):
    """Return (first, last) from 'A-B' (1024 <= A <= B <= 65535), or None."""
    if value is None:
        return None
    try:
        first, last = (int(part) for part in value.split("-"))
    except ValueError:
        raise click.BadParameter(f"{value!r} is not A-B, e.g. 20000-20099") from None
    if not 1024 <= first <= last <= 65535:
        raise click.BadParameter(f"{value!r}: need 1024 <= A <= B <= 65535")
    return first, last


@click.command("race")
@click.option("--clients", type=click.IntRange(1, 1000), default=100, show_default=True,
              help="Simultaneous requests per round.")
@click.option("--rounds", type=click.IntRange(1, 100), default=1, show_default=True,
              help="Rounds per strategy (each starts from a reset counter).")
@click.option("--strategy", "strategies", multiple=True,
              type=click.Choice([cls.name for cls in STRATEGY_CLASSES]),
              help="Strategy to race; repeat for several. Default: all the server offers.")
@click.option("--server", type=click.Choice(SERVER_MODELS), default="gunicorn",
              show_default=True, help="Server model the lab starts on 127.0.0.1.")
@click.option("--workers", type=click.IntRange(1, 16),
              help="Worker processes (default 4 for gunicorn, gthread, dev-processes; else 1).")
@click.option("--threads", type=click.IntRange(1, 64),
              help="Threads per worker (default 4 for gthread and waitress; else 1).")
@click.option("--url", help="Race a server already running on loopback instead of starting one.")
@click.option("--window", type=click.FloatRange(0, 5), default=0.0, show_default=True,
              help="Seconds to pause inside each increment, in the gap --window-at names "
                   "(0: the question's code exactly).")
@click.option("--window-at", type=click.Choice(["read-write", "write-return"]),
              help="Which gap --window opens. read-write: between the read and the write "
                   "(in naive_global, inside `self.param += 1`, split into its load and "
                   "store): both read 5, both write 6, lost updates. write-return: between "
                   "the write and `return self.param`, which re-reads the shared value: "
                   "duplicates and gaps; only naive_global and thread_lock re-read, the "
                   "others return what they wrote. Default: each strategy's own gap, "
                   "write-return for naive_global and thread_lock, read-write for the rest.")
@click.option("--trace", is_flag=True,
              help="Ask every increment for its measured trace (when it read and wrote what, "
                   "pid, thread): in --json under each round's \"trace\", and the story of "
                   "the first duplicate and lost update of each round printed.")
@click.option("--same-session", is_flag=True,
              help="Race one client's cookie on POST /inc, with the session lock on and off.")
@click.option("--session-store", "session_stores", multiple=True,
              type=click.Choice(["filesystem", "redis", "memcached", "cookie", "dict"]),
              help="--same-session: the per-client store to race; repeat for several. "
                   "Default: every store this configuration can run.")
@click.option("--one-at-a-time", is_flag=True,
              help="--same-session: send the client's requests one after another, each on "
                   "a new connection, in turn to every instance (does the counter follow?).")
@click.option("--session-lock", type=click.Choice(["on", "off", "both"]), default="both",
              show_default=True,
              help="--same-session: race the filesystem, redis and memcached stores with "
                   "their lock on, off, or both side by side.")
@click.option("--instances", type=click.IntRange(1, 8), default=1, show_default=True,
              help="Start K instances (as K machines would) and spread clients over them.")
@click.option("--redis-url", help="Give the servers this Redis (sessions and the redis strategy).")
@click.option("--memcached-url",
              help="Give the servers this memcached (memcached://host:port: its strategies "
                   "and the memcached session store).")
@click.option("--postgres-url",
              help="Give the servers this PostgreSQL (postgresql://user:password@host:port/db: "
                   "its strategies).")
@click.option("--port-range", callback=parse_port_range, metavar="A-B",
              help="Start every server on a free 127.0.0.1 port between A and B (both "
                   "included); default: any free port.")
@click.option("--matrix", is_flag=True,
              help="Race every strategy under every server model (each with its default "
                   "workers and threads), one table: strategies by model. Takes about a "
                   "minute with 100 clients and no stores.")
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON, no table.")
@click.option("--markdown", is_flag=True,
              help="Print the results as a Markdown matrix: stores by technique.")
@click.pass_context
def race_command(ctx, as_json, markdown, matrix, **options):
    """Fire N truly simultaneous clients at real servers and show what each strategy hands out."""
    check_options(ctx, options)
    if matrix:
        return print_matrix(ctx, options, as_json, markdown)
    if markdown and (as_json or options["same_session"]):
        raise click.UsageError("--markdown prints the shared counters' matrix: not with "
                               "--json or --same-session.")
    settings = LabSettings(**{**options, "strategies": tuple(options["strategies"]),
                              "session_stores": tuple(options["session_stores"])})
    try:
        report = run_with_progress(settings, enabled=not (as_json or markdown))
    except LabError as error:
        raise click.ClickException(f"the race lab failed: {error}") from error
    if as_json:
        click.echo(json.dumps(report.to_dict(), indent=2))
    elif markdown:
        from .matrix import markdown as matrix_markdown

        click.echo(matrix_markdown(report.to_dict()["results"], describe_settings(report),
                                   report.skipped))
    else:
        from .table import print_report, print_stories

        print_report(report, describe_settings(report))
        if options["trace"]:
            print_stories(report)


def check_options(ctx, options):
    """Refuse options that contradict each other, with a message saying why."""
    if options["url"]:
        try:
            loopback_target(options["url"])
        except ValueError as error:
            raise click.BadParameter(str(error), param_hint="--url") from error
        given = [f"--{name.replace('_', '-')}" for name in SERVER_OPTIONS
                 if ctx.get_parameter_source(name) == ParameterSource.COMMANDLINE]
        if given:
            raise click.UsageError(f"{', '.join(given)} configure a server the lab starts; "
                                   "with --url the running server keeps its own settings.")
    if not options["same_session"] and (options["session_stores"] or options["one_at_a_time"]):
        raise click.UsageError("--session-store and --one-at-a-time race one client's "
                               "session: use them with --same-session.")
    if options["same_session"] and options["strategies"]:
        raise click.UsageError("--same-session races the per-client counter; "
                               "--strategy does not apply to it.")


def run_with_progress(settings, enabled):
    """Run the lab with a progress bar on stderr (none when disabled)."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    what = settings.url or f"{settings.server} server"
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  console=Console(stderr=True), transient=True,
                  disable=not enabled) as progress:
        task = progress.add_task(f"starting the {what}", total=None)

        def on_step(description, done, total):
            progress.update(task, description=description, completed=done, total=total)

        if settings.same_session:
            from .session_stores import run_session_lab

            return run_session_lab(settings, on_step)
        return run_lab(settings, on_step)


def describe_settings(report):
    """Return one line saying what was raced, against what."""
    s = report.settings
    if "url" in s:
        where = f"the server at {s['url']} (its own RACE_WINDOW)"
    else:
        where = describe_model(s["server"], s["workers"], s["threads"])
        if s["instances"] > 1:
            where += f", {s['instances']} instances"
        window = s["window"]
        if report.mode == "shared":
            where += (f", window {window:g} s" if window else
                      ", window 0 (the question's code exactly)")
    rounds = f"{s['rounds']} round{'s' if s['rounds'] > 1 else ''}"
    return f"{s['clients']} simultaneous clients x {rounds} on {where}"


def print_matrix(ctx, options, as_json, markdown):
    """Run and print race --matrix (every strategy under every server model)."""
    from .across_models import markdown as matrix_markdown
    from .across_models import run_matrix, text
    from .table import console_for_output

    given = [f"--{name.replace('_', '-')}" for name in ("server", "workers", "threads", "url",
                                                        "same_session")
             if ctx.get_parameter_source(name) == ParameterSource.COMMANDLINE]
    if given:
        raise click.UsageError(f"--matrix races every server model with its defaults: "
                               f"not with {', '.join(given)}.")
    shared = {k: v for k, v in options.items() if k not in ("server", "workers", "threads",
                                                              "url", "same_session")}
    result = run_matrix({**shared, "strategies": tuple(shared["strategies"])})
    window = shared["window"] or 0
    caption = (f"{shared['clients']} simultaneous clients x {shared['rounds']} round(s) per "
               f"strategy and model, window {window:g} s"
               + (f" at {shared['window_at']}" if window and shared["window_at"] else "")
               + f"; the whole matrix took {result['seconds']:.0f} s.")
    if as_json:
        click.echo(json.dumps({**result, "caption": caption}, indent=2))
    elif markdown:
        click.echo(matrix_markdown(result, caption))
    else:
        click.echo(text(result, caption, console_for_output().width))

