"""How the lab reads a counter back: the final value and staleness, from hand-made answers."""

import pytest

from session_counter.race.model import Answer
from session_counter.race.reading import final_from_reads, stale_note, state_scope
from session_counter.strategies import STRATEGY_CLASSES


def answer(value, pid, instance="a", status=200):
    """A hand-made Answer."""
    return Answer(status, value, pid, None, instance, None, 0.0)


def test_per_process_final_value_is_the_sum_of_the_copies_that_counted():
    counted = {("a", 1), ("a", 2)}
    reads = [answer(30, 1), answer(20, 2), answer(99, 3), answer(30, 1)]
    assert final_from_reads("process", counted, reads)[0] == 50


def test_per_process_final_value_is_unknown_when_a_copy_was_not_read():
    final, note = final_from_reads("process", {("a", 1), ("a", 2)}, [answer(30, 1)])
    assert final is None and "1 of 2 processes" in note


@pytest.mark.parametrize("scope, expected", [("instance", 15), ("global", 7)])
def test_shared_final_values(scope, expected):
    reads = [answer(7, 1, "a"), answer(8, 5, "b")] if scope == "instance" else [answer(7, 1)]
    assert final_from_reads(scope, set(), reads)[0] == expected


def test_a_process_no_reset_reached_is_reported():
    note = stale_note("process", {("a", 1), ("a", 2)}, {("a", 1)})
    assert "process(es) 2 answered but no reset reached them" in note
    assert stale_note("instance", {("a", 1), ("a", 2)}, {("a", 1)}) is None


@pytest.mark.parametrize("name, scope", [("naive_global", "process"),
                                         ("thread_lock", "process"),
                                         ("sqlite", "instance"), ("manager", "instance")])
def test_state_scope_comes_from_the_strategy(name, scope):
    (cls,) = [c for c in STRATEGY_CLASSES if c.name == name]
    assert state_scope({"name": name, "state_lives_in": cls.state_lives_in}) == scope
    assert state_scope({"name": name}) == "instance"  # an older server: the safe guess
