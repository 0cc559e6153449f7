"""What safety costs: every route's req/s and latency as a ratio to a bare route, same run.

    python -m session_counter.bench [--json] [--redis-url redis://127.0.0.1:6379/0]
        [--memcached-url memcached://127.0.0.1:11211] [--contention 50]
    flask --app session_counter bench ...

All targets are measured in each of several short rounds, one after the other
(A B C ... A B C ...), so the drift of a shared machine hits every target alike.
Absolute req/s say what this machine did today; the ratios are the result. Then, with
--contention N, bursts of N simultaneous clients at every strategy (bench_contention).
"""

import json
import os
import shutil
import tempfile
import time
import urllib.request

import click

from ..servers import SERVER_MODELS
from .checks import check_targets, quotient
from .contention import measure_contention
from .load import LOAD_GENERATORS, Target, generator_version, measure, merged_percentile
from .report import machine, print_markdown, print_rich
from .servers import get_json, new_sessions, start_servers
from .trees import parse_trees, tree_targets

NONE_COMPLETED = "none completed (still in flight at the end: starting up? see --warmup)"


# The fixed rows: key, label, server, method, path, and whether each connection has a
# session of its own (else every request starts a new one, or uses none).
FIXED_ROWS = [
    ("bare", "bare: GET /healthz", "main", "GET", "/healthz", False),
    ("inc_lock", "/inc, session lock on", "main", "POST", "/inc", True),
    ("inc_nolock", "/inc, session lock off", "lock_off", "POST", "/inc", True),
    ("inc_cookie", "/inc, cookie store (Flask's own)", "cookie", "POST", "/inc", True),
    ("inc_dict", "/inc, dict store (one process)", "dict", "POST", "/inc", True),
    ("inc_seed", "/inc, the seed's Flask-Session defaults", "seed", "POST", "/inc", True),
    ("new_sweep", "/inc, new session each, sweep after the answer", "sweep_on", "POST", "/inc",
     False),
    ("new_sweep_inline", "/inc, new session each, sweep in the request", "sweep_inline",
     "POST", "/inc", False),
    ("new_nosweep", "/inc, new session each, sweep off", "sweep_off", "POST", "/inc", False),
]
ALWAYS = {"bare", "inc_lock"}  # the baselines every check needs
# The per-client rows whose sessions live in a store server, when its URL is given: key,
# label, server (the strategies' "stores" server, or one like it), setting, SESSION_STORE.
STORE_SESSION_ROWS = [
    ("inc_redis", "/inc, Redis sessions, lock on", "stores", "REDIS_URL", "redis"),
    ("inc_memcached", "/inc, sessions in memcached, lock on", "memcached_sessions",
     "MEMCACHED_URL", "memcached"),
]


def unknown_rows(only, counts):
    """Return the keys of ``only`` that name no row the bench can measure (sorted)."""
    from ..strategies import STRATEGY_CLASSES

    known = ({key for key, *_ in FIXED_ROWS} | {key for key, *_ in STORE_SESSION_ROWS}
             | {f"shared_{cls.name}" for cls in STRATEGY_CLASSES}
             | {f"sessions_{count}" for count in counts})
    return sorted(only - known)


def servers_for(only):
    """Return the names of the servers the rows in ``only`` need (None: every server)."""
    if only is None:
        return None
    return {"main"} | {server for key, _, server, *_ in FIXED_ROWS if key in only}


def session_stores(stores, only):
    """Return {server: SESSION_STORE} of the STORE_SESSION_ROWS the bench measures."""
    return {server: store for key, _, server, setting, store in STORE_SESSION_ROWS
            if setting in stores and (only is None or key in only)}


def build_targets(servers, cookies, connections, stores, only=None, trees=()):
    """List what to measure: bare, /inc per store, every strategy, scaling, other trees.

    ``only`` (a set of keys) keeps those rows and ALWAYS; the rows of ``trees``
    (another checkout's code, bench/trees.py) come last.
    """
    main = servers["main"].url
    targets = [Target(key, label, server, method, path,
                      new_sessions(servers[server].url, connections) if own else [])
               for key, label, server, method, path, own in FIXED_ROWS
               if only is None or key in only | ALWAYS]
    strategies = get_json(main + "/api/strategies")
    for s in strategies:
        targets.append(Target(f"shared_{s['name']}", f"/shared/{s['name']}/inc", "main",
                              "POST", f"/shared/{s['name']}/inc", safe_against=s["safe_against"]))
    for key, label, server, setting, _ in STORE_SESSION_ROWS:
        if setting in stores and server in servers:
            targets.append(Target(key, label, server, "POST", "/inc",
                                  new_sessions(servers[server].url, connections)))
    if "stores" in servers:
        url = servers["stores"].url
        known = {s["name"] for s in strategies}
        for s in get_json(url + "/api/strategies"):
            if s["name"] not in known:  # reset first: memcached counts only once reset
                urllib.request.urlopen(urllib.request.Request(
                    f"{url}/shared/{s['name']}/reset", method="POST"), timeout=10).close()
                targets.append(Target(f"shared_{s['name']}", f"/shared/{s['name']}/inc",
                                      "stores", "POST", f"/shared/{s['name']}/inc",
                                      safe_against=s["safe_against"]))
    for count in sorted(cookies):
        targets.append(Target(f"sessions_{count}", f"/inc, {count:,} sessions stored",
                              f"sessions_{count}", "POST", "/inc", cookies[count],
                              sessions=count))
    if only is not None:
        targets = [t for t in targets if t.key in only | ALWAYS]
    for key, label, server in tree_targets(trees):
        targets.append(Target(key, label, server, "POST", "/inc",
                              new_sessions(servers[server].url, connections)))
    return targets


def run_rounds(targets, servers, load, connections, rounds, duration, warmup, workdir, say):
    """Measure every target once per round, rotating the order; return {key: [Sample]}."""
    samples = {t.key: [] for t in targets}
    if warmup > 0:
        for t in targets:
            say(f"warm-up {t.label}")
            measure(load, servers[t.server], t, connections, warmup, workdir)
    for r in range(rounds):
        shift = r % len(targets)  # no target always runs right after the same other one
        for i, t in enumerate(targets[shift:] + targets[:shift]):
            sample = measure(load, servers[t.server], t, connections, duration, workdir)
            samples[t.key].append(sample)
            say(f"[{r * len(targets) + i + 1}/{rounds * len(targets)}] round {r + 1}: "
                f"{t.label}: "
                + (f"{sample.rate:,.0f} req/s" if sample.requests else NONE_COMPLETED)
                + (f", {sample.errors} errors" if sample.errors else ""))
    return samples


def summarise(targets, samples):
    """Turn samples into rows (req/s, p50, p99, ratios) and check the three targets."""
    rows = []
    for t in targets:
        ss = samples[t.key]
        requests = sum(s.requests for s in ss)
        rows.append({"key": t.key, "label": t.label, "server": t.server,
                     "safe_against": t.safe_against, "sessions": t.sessions,
                     "requests": requests, "errors": sum(s.errors for s in ss),
                     # wrk counts only finished requests: 0 of them is no rate, not 0 req/s
                     "none_completed": requests == 0,
                     "req_per_s": quotient(requests, sum(s.seconds for s in ss)) or None,
                     "round_req_per_s": [s.rate if s.requests else None for s in ss],
                     "round_cpu_us_per_request": [quotient(s.cpu_seconds * 1e6, s.requests)
                                                  for s in ss],
                     "p50_ms": merged_percentile(ss, 50), "p99_ms": merged_percentile(ss, 99),
                     "cpu_us_per_request": quotient(sum(s.cpu_seconds for s in ss) * 1e6,
                                                    requests)})
    by_key = {row["key"]: row for row in rows}
    scaling = [row for row in rows if row["sessions"] is not None]
    for row in rows:
        if row["sessions"] is None:  # throughput relative to the bare route
            base = by_key["bare"]
            row["ratio"] = quotient(row["req_per_s"], base["req_per_s"])
            row["cpu_ratio"] = quotient(base["cpu_us_per_request"], row["cpu_us_per_request"])
            rounds = zip(row["round_req_per_s"], base["round_req_per_s"], strict=True)
            row["round_ratios"] = [quotient(a, b) for a, b in rounds]
        else:  # cost per request (1 / req/s) relative to the fewest sessions stored
            base = scaling[0]
            row["ms_per_request"] = quotient(1000, row["req_per_s"])
            row["cost_ratio"] = quotient(base["req_per_s"], row["req_per_s"])
            row["cpu_cost_ratio"] = quotient(row["cpu_us_per_request"],
                                             base["cpu_us_per_request"])
            rounds = zip(row["round_req_per_s"], base["round_req_per_s"], strict=True)
            row["round_ratios"] = [quotient(b, a) for a, b in rounds]
    return rows, check_targets(by_key, scaling)



def run_bench(model="gunicorn", workers=2, connections=4, rounds=5, duration=3.0, warmup=1.0,
              session_counts=(100, 10_000, 100_000), stores=None, load_generator="auto",
              root=None, contention=0, say=lambda message: None, only=None, trees=None):
    """Run the whole benchmark and return the report as a dict.

    ``only``: the row keys to measure (bare and inc_lock always); ``trees``: {label:
    folder} of other checkouts whose per-client rows are measured alongside.
    """
    if load_generator == "auto":
        load_generator = "wrk" if shutil.which("wrk") else "python"
    load = LOAD_GENERATORS[load_generator]
    host = machine()  # its load average before the run
    root = tempfile.mkdtemp(prefix="session-counter-bench-", dir=root)
    servers = {}
    try:
        if session_counts:
            say(f"writing {', '.join(f'{n:,}' for n in session_counts)} session files")
        stores = stores or {}
        trees = trees or {}
        servers, cookies = start_servers(root, model, workers, session_counts, stores,
                                         servers_for(only), trees,
                                         session_stores(stores, only))
        targets = build_targets(servers, cookies, connections, stores, only, trees)
        samples = run_rounds(targets, servers, load, connections, rounds, duration, warmup,
                             root, say)
        bursts = (measure_contention(targets, servers, contention, rounds, say)
                  if contention else [])
    finally:
        for server in servers.values():
            server.stop()
        shutil.rmtree(root, ignore_errors=True)
    rows, checks = summarise(targets, samples)
    settings = {"model": model, "workers": workers, "connections": connections,
                "rounds": rounds, "duration": duration, "warmup": warmup,
                "load_generator": generator_version(load_generator), "stores": stores,
                "contention": contention, "only": sorted(only) if only else None,
                "trees": trees}
    return {"machine": host, "settings": settings, "rows": rows, "checks": checks,
            "contention": bursts}


@click.command("bench")
@click.option("--model", type=click.Choice(SERVER_MODELS), default="gunicorn", show_default=True)
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64))
@click.option("--connections", default=4, show_default=True, type=click.IntRange(1, 256),
              help="simultaneous connections; each has its own sessions")
@click.option("--rounds", default=5, show_default=True, type=click.IntRange(1, 100))
@click.option("--duration", default=3.0, show_default=True, type=click.FloatRange(0.1, 600),
              help="seconds per target per round (wrk: whole seconds)")
@click.option("--warmup", default=1.0, show_default=True, type=click.FloatRange(0, 60),
              help="seconds per target before the rounds, not counted (0: none)")
@click.option("--sessions", "session_counts", default="100,10000,100000", show_default=True,
              help="session files stored for the scaling rows, comma-separated ('' for none)")
@click.option("--redis-url", default=None, help="also measure Redis (sessions and strategies)")
@click.option("--memcached-url", default=None,
              help="also measure memcached (sessions and strategies)")
@click.option("--postgres-url", default=None, help="also measure the PostgreSQL strategies")
@click.option("--contention", default=0, show_default=True, type=click.IntRange(0, 1000),
              help="then fire a burst of this many simultaneous clients at every strategy, "
                   "once per round (0: no bursts)")
@click.option("--load-generator", type=click.Choice(["auto", "wrk", "python"]), default="auto",
              show_default=True, help="auto: wrk when installed, else Python threads")
@click.option("--root", type=click.Path(exists=True, file_okay=False, writable=True),
              help="where the servers' instance folders go (default: the temp folder)")
@click.option("--only", default=None,
              help="measure only these rows, comma-separated keys (bare and inc_lock always)")
@click.option("--tree", "tree_options", multiple=True, metavar="LABEL=FOLDER",
              help="also measure files + lock and the cookie store served by another "
                   "checkout's code (before/after in one run; repeatable)")
@click.option("--json", "as_json", is_flag=True, help="print the report as JSON")
@click.option("--markdown", is_flag=True, help="print the tables as Markdown")
def bench_command(model, workers, connections, rounds, duration, warmup, session_counts,
                  redis_url, memcached_url, postgres_url, contention, load_generator, root,
                  only, tree_options, as_json, markdown):
    """Measure what safety costs: req/s, p50/p99 and the ratio to a bare route."""
    try:
        counts = sorted({int(n) for n in session_counts.split(",") if n.strip()})
    except ValueError:
        raise click.BadParameter("a comma-separated list of whole numbers",
                                 param_hint="--sessions") from None
    if any(n < 1 for n in counts):
        raise click.BadParameter("counts must be at least 1", param_hint="--sessions")
    trees = parse_trees(tree_options)
    only = None if only is None else {key.strip() for key in only.split(",") if key.strip()}
    if only is not None and unknown_rows(only, counts):  # else measured silently without
        raise click.BadParameter(
            f"no row called {', '.join(unknown_rows(only, counts))}; rows: "
            f"{', '.join(key for key, *_ in FIXED_ROWS + STORE_SESSION_ROWS)}, "
            "shared_<strategy>, sessions_<a count of --sessions>", param_hint="--only")
    if os.environ.get("SESSION_COUNTER_REDIS_URL"):
        raise click.ClickException("the bench decides where sessions live: unset "
                                   "SESSION_COUNTER_REDIS_URL and pass --redis-url instead")
    if load_generator == "wrk" and not shutil.which("wrk"):
        raise click.ClickException("wrk is not installed (apt-get install wrk), "
                                   "or use --load-generator python")

    def say(message):
        click.echo(f"[{time.strftime('%H:%M:%S')}] {message}", err=True)

    try:
        stores = {key: url for key, url in (("REDIS_URL", redis_url),
                                            ("MEMCACHED_URL", memcached_url),
                                            ("POSTGRES_URL", postgres_url)) if url}
        report = run_bench(model, workers, connections, rounds, duration, warmup, counts,
                           stores, load_generator, root, contention, say, only, trees)
    except (RuntimeError, TimeoutError) as error:  # a server that did not start, or wrk
        raise click.ClickException(str(error)) from None
    if as_json:
        click.echo(json.dumps(report, indent=2))
    elif markdown:
        print_markdown(report)
    else:
        print_rich(report)

