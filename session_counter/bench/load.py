"""Driving load at one bench target and measuring one run of it: a load generator (wrk
with a Lua script, or Python threads with http.client as the fallback) sends the
target's requests over a fixed number of connections, each keeping its own session
cookies, and returns a Sample of requests, errors, seconds, latency quantiles and the
server's CPU time meanwhile; merged_percentile merges several rounds' samples into one
latency percentile.
"""

import http.client
import json
import os
import platform
import subprocess
import threading
import time
from dataclasses import dataclass, field
from string import Template
from urllib.parse import urlsplit

from ..procfs import group_cpu_seconds

QUANTILES = [(i + 0.5) / 10 for i in range(1000)]  # percentiles kept per round, to merge rounds

WRK_SCRIPT = Template("""
wrk.method = "$method"
wrk.body = ""
local next_id = 0
function setup(thread) thread:set("id", next_id); next_id = next_id + 1 end
function init(args)
  mine, turn = {}, 0
  local i = 0
  for line in io.lines("$cookie_file") do
    if i % $connections == id then mine[#mine + 1] = line end
    i = i + 1
  end
end
function request()
  local headers = {Accept = "application/json"}
  if #mine > 0 then turn = turn % #mine + 1; headers.Cookie = mine[turn] end
  return wrk.format(nil, nil, headers)
end
function done(summary, latency, requests)
  local e, q = summary.errors, {}
  for _, p in ipairs({$quantiles}) do q[#q + 1] = latency:percentile(p) end
  io.write(string.format('BENCH {"requests": %d, "errors": %d, "seconds": %f, "us": [%s]}\\n',
    summary.requests, e.connect + e.read + e.write + e.status + e.timeout,
    summary.duration / 1e6, table.concat(q, ",")))
end
""")


@dataclass
class Target:
    """One request to measure against one of the bench's servers."""

    key: str
    label: str
    server: str
    method: str
    path: str
    cookies: list = field(default_factory=list)  # "name=sid"; connection i uses i, i+C, ...
    safe_against: list = None
    sessions: int = None


@dataclass
class Sample:
    """What one load run of one target measured."""

    requests: int
    errors: int
    seconds: float
    quantiles: list  # latency in ms at QUANTILES
    cpu_seconds: float = None  # used by the server's processes meanwhile

    @property
    def rate(self):
        """Requests per second."""
        return self.requests / self.seconds if self.seconds else 0.0


def wrk_load(url, target, connections, duration, workdir):
    """Run wrk: one thread per connection, so each connection keeps its own sessions."""
    cookie_file = os.path.join(workdir, f"{target.key}.cookies")
    with open(cookie_file, "w") as f:
        f.writelines(cookie + "\n" for cookie in target.cookies)
    script = os.path.join(workdir, f"{target.key}.lua")
    with open(script, "w") as f:
        f.write(WRK_SCRIPT.substitute(method=target.method, cookie_file=cookie_file,
                                      connections=connections,
                                      quantiles=",".join(map(str, QUANTILES))))
    seconds = max(1, round(duration))  # wrk takes whole seconds
    out = subprocess.run(["wrk", "-t", str(connections), "-c", str(connections),
                          "-d", f"{seconds}s", "--timeout", "10s", "-s", script,
                          url + target.path], capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"wrk failed on {target.path}: {out.stderr.strip()}")
    line = next(line for line in out.stdout.splitlines() if line.startswith("BENCH "))
    data = json.loads(line[len("BENCH "):])
    return Sample(data["requests"], data["errors"], data["seconds"],
                  [us / 1000 for us in data["us"]] if data["requests"] else [])


def python_load(url, target, connections, duration, _workdir=None):
    """The fallback load generator: one thread and one HTTP connection per connection.

    The clock starts once every thread runs, and each connection sends at least one
    request: on a loaded machine a thread may first run after a short round has ended,
    and a round of nothing measures nothing.
    """
    parts = urlsplit(url)
    latencies, errors = [[] for _ in range(connections)], [0] * connections
    clock = {}
    ready = threading.Barrier(connections, action=lambda: clock.update(
        start=time.perf_counter(), deadline=time.perf_counter() + duration))

    def run(i):
        mine, turn, conn = target.cookies[i::connections], 0, None
        ready.wait()
        while turn == 0 or time.perf_counter() < clock["deadline"]:
            headers = {"Accept": "application/json", "Content-Length": "0"}
            if mine:
                headers["Cookie"] = mine[turn % len(mine)]
            turn += 1
            try:
                if conn is None:
                    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
                    conn.connect()  # wrk's latency starts after connecting, too
                began = time.perf_counter()
                conn.request(target.method, target.path, headers=headers)
                answer = conn.getresponse()
                answer.read()
                latencies[i].append(time.perf_counter() - began)
                errors[i] += answer.status != 200
                if answer.will_close:
                    conn.close()
                    conn = None
            except (OSError, http.client.HTTPException):
                errors[i] += 1
                if conn is not None:
                    conn.close()
                conn = None

    threads = [threading.Thread(target=run, args=(i,)) for i in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - clock["start"]
    done = sorted(x * 1000 for lat in latencies for x in lat)
    quantiles = [done[min(int(len(done) * p / 100), len(done) - 1)] for p in QUANTILES] \
        if done else []  # all failed: no latency to tell
    return Sample(len(done), sum(errors), seconds, quantiles)


LOAD_GENERATORS = {"wrk": wrk_load, "python": python_load}


def server_cpu_seconds(server):
    """Return the CPU time (user + system) the server's process group has used so far.

    The harness starts each server in its own session, so its workers (and the
    manager process a worker starts) share the leader's process group.
    """
    return group_cpu_seconds(server.process.pid)


def measure(load, server, target, connections, duration, workdir):
    """Run one load on one target; note the server's CPU time it took."""
    before = server_cpu_seconds(server)
    sample = load(server.url, target, connections, duration, workdir)
    sample.cpu_seconds = server_cpu_seconds(server) - before
    return sample


def generator_version(name):
    """Name the load generator and its version, for the report."""
    if name == "python":
        return f"Python threads + http.client ({platform.python_version()})"
    out = subprocess.run(["wrk", "--version"], capture_output=True, text=True)
    return (out.stdout or out.stderr).splitlines()[0].split(" Copyright")[0].strip()


def merged_percentile(samples, pct):
    """Return the pct-th latency (ms) over all rounds, each round weighted by its requests."""
    points = sorted((q, s.requests / len(s.quantiles)) for s in samples for q in s.quantiles)
    goal, seen = sum(w for _, w in points) * pct / 100, 0.0
    for value, weight in points:
        seen += weight
        if seen >= goal:
            return value
    return points[-1][0] if points else None
