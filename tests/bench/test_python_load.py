"""The Python load generator on a loaded machine: a short round still measures something."""

import pytest

from session_counter.bench.load import Target, python_load
from session_counter.servers.harness import free_port, running_server

HEALTH = Target("bare", "bare", "main", "GET", "/healthz")


@pytest.mark.server
def test_a_round_over_before_its_threads_run_still_sends_one_request_per_connection():
    """Duration 0 is what a loaded machine makes of a short round: the threads first run
    after its end. Each connection still sends one request (it used to send none, and the
    empty round's quantiles raised IndexError)."""
    with running_server("dev") as server:
        sample = python_load(server.url, HEALTH, 3, 0.0)
    assert (sample.requests, sample.errors) == (3, 0)
    assert len(sample.quantiles) == 1000 and 0 < sample.quantiles[0] <= sample.quantiles[-1]


def test_a_round_where_every_request_fails_has_no_quantiles():
    """Nothing listens: every request is an error, and no latency is made up."""
    sample = python_load(f"http://127.0.0.1:{free_port()}", HEALTH, 2, 0.0)
    assert (sample.requests, sample.errors, sample.quantiles) == (0, 2, [])
