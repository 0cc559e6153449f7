"""Exact outcomes of analyse() and merge_rounds() on hand-made answer sets."""
import json
import random

import pytest

from session_counter.race.model import Answer, RaceResult
from session_counter.race.report import analyse, merge_rounds


def ok(value, pid=100):
    """A status-200 answer carrying value from process pid."""
    return Answer(status=200, value=value, pid=pid, thread="t", instance="http://127.0.0.1:5001",
                  error=None, elapsed=0.01)


def failed():
    """A client that got no HTTP answer at all."""
    return Answer(status=0, value=None, pid=None, thread=None, instance="http://127.0.0.1:5001",
                  error="request failed: ConnectionResetError()", elapsed=0.02)


def run(answers, final_value=None, **kw):
    """analyse() with the boring arguments filled in."""
    return analyse("naive", answers, final_value=final_value, wall_time=0.5, **kw)


def test_perfect_round():
    r = run([ok(v) for v in [3, 1, 5, 2, 4]], final_value=5)
    assert (r.sent, r.answers, r.errors, r.distinct, r.duplicates) == (5, 5, 0, 5, 0)
    assert r.duplicated_values == [] and r.gaps == 0
    assert r.lost_updates == 0 and r.final_value == 5
    assert r.pids == [100]
    assert r.exact is True
    assert r.verdict == "exactly 1..5"


def test_duplicates_without_gaps():
    # 4 and 5 were never handed out, but they lie above max(values)=3: not gaps.
    r = run([ok(v) for v in [1, 2, 2, 3, 3]])
    assert (r.answers, r.distinct, r.duplicates) == (5, 3, 2)
    assert r.duplicated_values == [2, 3]
    assert r.gaps == 0
    assert r.lost_updates is None
    assert r.exact is False
    assert r.verdict == "2 duplicates, 1 process"


def test_triple_counts_as_two_duplicates():
    r = run([ok(v) for v in [1, 1, 1, 2]])
    assert (r.distinct, r.duplicates, r.duplicated_values) == (2, 2, [1])
    assert r.verdict == "2 duplicates, 1 process"


def test_gap():
    r = run([ok(v) for v in [1, 2, 4]], final_value=4)
    assert r.gaps == 1 and r.duplicates == 0
    assert r.lost_updates == -1  # one more increment stored than requests sent
    assert r.exact is False
    assert r.verdict == "1 gap, 1 out of range, 1 extra update, 1 process"


@pytest.mark.parametrize("values, gaps", [
    ([1, 2, 4], 1),
    ([2, 3], 1),
    ([5], 4),
    ([1, 3, 5, 7], 3),
    ([1, 1, 4, 4], 2),
])
def test_gap_counts(values, gaps):
    assert run([ok(v) for v in values]).gaps == gaps


@pytest.mark.timeout(10)  # a hang guard: walking to 10**12 one integer at a time never ends
@pytest.mark.parametrize("values, gaps, out_of_range", [
    ([1, 2, 10**12, 10**12], 10**12 - 3, 2),  # 3..10**12-1 never handed out
    ([-(10**12), 1, 3], 1, 1),  # values below start are out of range, never gaps
    ([-(10**12), -5], 0, 2),  # nothing at or above start: no gaps
    ([10**12 + 1, 10**12 + 3], 10**12 + 1, 2),  # 1..10**12 and 10**12+2
])
def test_gaps_of_huge_values_are_counted_exactly(values, gaps, out_of_range):
    r = run([ok(v) for v in values])
    assert r.gaps == gaps
    assert f"{out_of_range} out of range" in r.verdict


def test_gap_count_matches_walking_every_integer():
    """The counted gaps equal the integers start..max never handed out, found one by one."""
    rng = random.Random(9)
    for _ in range(2000):
        start = rng.randint(-3, 5)
        values = [rng.randint(-5, 40) for _ in range(rng.randint(1, 30))]
        walked = sum(1 for v in range(start, max(values) + 1) if v not in values)
        assert run([ok(v) for v in values], start=start).gaps == walked, (start, values)


def test_lost_updates():
    answers = [ok(v, pid=100 + v % 3) for v in [1, 2, 2, 3, 4, 4, 5, 6, 7, 7]]
    r = run(answers, final_value=7)
    assert (r.sent, r.answers, r.distinct, r.duplicates) == (10, 10, 7, 3)
    assert r.duplicated_values == [2, 4, 7]
    assert r.gaps == 0
    assert r.lost_updates == 3
    assert r.pids == [100, 101, 102]
    assert r.verdict == "3 duplicates, 3 lost updates, 3 processes"


def test_errors_are_not_answers_but_count_as_sent():
    answers = [ok(1), ok(2), ok(3), failed(), failed()]
    r = run(answers, final_value=5)
    assert (r.sent, r.answers, r.errors) == (5, 3, 2)
    assert r.lost_updates == 0  # the two failed clients still incremented
    assert r.pids == [100]
    assert r.exact is False
    assert r.verdict == "2 errors, 1 process"


def test_non_200_and_valueless_answers_are_errors():
    bad = [Answer(500, None, 100, "t", "u", None, 0.0), Answer(200, None, 100, "t", "u", None, 0.0),
           Answer(503, 9, 101, "t", "u", None, 0.0)]
    r = run([ok(1), ok(2)] + bad, final_value=2)
    assert (r.sent, r.answers, r.errors, r.gaps) == (5, 2, 3, 0)
    assert r.lost_updates == 3
    assert r.pids == [100, 101]
    assert r.verdict == "3 errors, 3 lost updates, 2 processes"


def test_full_problem_verdict_order():
    answers = [ok(v, pid=p) for v, p in [(1, 1), (1, 2), (3, 3), (3, 4), (6, 1)]] + [failed()]
    r = run(answers, final_value=4)
    assert (r.sent, r.answers, r.errors, r.duplicates, r.gaps) == (6, 5, 1, 2, 3)
    assert r.lost_updates == 2
    assert r.pids == [1, 2, 3, 4]
    assert r.verdict == "1 error, 2 duplicates, 3 gaps, 2 lost updates, 4 processes"


@pytest.mark.parametrize("answers", [[], [failed(), failed()]])
def test_no_answers(answers):
    r = run(answers, final_value=0)
    assert r.answers == 0 and r.exact is False
    assert r.verdict == "no answers"


def test_start_offset():
    r = run([ok(v) for v in [11, 12, 13]], final_value=13, start=11)
    assert r.exact is True and r.gaps == 0 and r.lost_updates == 0
    assert r.verdict == "exactly 11..13"
    late = run([ok(v) for v in [12, 13, 14]], final_value=14, start=11)
    assert late.gaps == 1 and late.exact is False and late.lost_updates == -1


def test_counter_not_reset_is_not_exact():
    r = run([ok(v) for v in [0, 1, 2]])
    assert r.duplicates == 0 and r.gaps == 0 and r.exact is False
    assert r.verdict == "1 out of range, 1 process"


def test_passthrough_and_to_dict():
    r = analyse("locked", [ok(1, pid=7), ok(2, pid=8)], final_value=2, wall_time=1.25, window=0.003)
    d = r.to_dict()
    assert json.loads(json.dumps(d)) == d
    assert d == {
        "strategy": "locked", "sent": 2, "answers": 2, "errors": 0, "distinct": 2,
        "duplicates": 0, "duplicated_values": [], "gaps": 0, "final_value": 2,
        "lost_updates": 0, "pids": [7, 8], "wall_time": 1.25, "window": 0.003,
        "exact": True, "verdict": "exactly 1..2", "retries": None,
    }


def test_merge_all_exact():
    results = [run([ok(1, pid=p), ok(2, pid=p)], final_value=2) for p in (3, 1, 3)]
    m = merge_rounds(results)
    assert m == {"rounds": 3, "exact_rounds": 3, "sent": 6, "errors": 0, "duplicates": 0,
                 "gaps": 0, "lost_updates": 0, "pids": [1, 3], "retries": None,
                 "verdict": "exact in 3 of 3 rounds"}


def test_merge_with_problems():
    results = [
        run([ok(1), ok(2), ok(3)], final_value=3),                      # exact
        run([ok(1, pid=5), ok(1, pid=6), ok(3)], final_value=2),        # 1 dup, 1 gap, 1 lost
        run([ok(1), ok(1), ok(1)], final_value=1),                      # 2 dups, 2 lost
        run([ok(1), failed(), ok(2)]),                                  # 1 error, lost unknown
    ]
    m = merge_rounds(results)
    assert (m["rounds"], m["exact_rounds"], m["sent"]) == (4, 1, 12)
    assert (m["duplicates"], m["gaps"], m["lost_updates"], m["errors"]) == (3, 1, 3, 1)
    assert m["pids"] == [5, 6, 100]
    assert m["verdict"] == ("duplicates in 2 of 4 rounds (3 in all); "
                            "gaps in 1 of 4 rounds (1 in all); "
                            "lost updates in 2 of 4 rounds (3 in all); "
                            "errors in 1 of 4 rounds (1 in all)")


def test_merge_lost_updates_unknown_and_empty():
    m = merge_rounds([run([ok(1), ok(1)])])
    assert m["lost_updates"] is None
    assert m["verdict"] == "duplicates in 1 of 1 rounds (1 in all)"
    assert merge_rounds([])["verdict"] == "no rounds"
    assert isinstance(run([ok(1)]), RaceResult)


def test_retries_are_summed_from_the_answers_and_over_rounds():
    """A compare-and-swap strategy's answers carry retries; others carry none (None)."""
    cas = [Answer(200, v, 100, "t", None, None, 0.0, retries) for v, retries in
           ((1, 0), (2, 3), (3, 1))]
    first = run(cas, final_value=3)
    assert first.retries == 4
    assert run([ok(1), ok(2)], final_value=2).retries is None
    second = run([Answer(200, 1, 100, "t", None, None, 0.0, 2)], final_value=1)
    assert merge_rounds([first, second])["retries"] == 6
    assert merge_rounds([run([ok(1)], final_value=1)])["retries"] is None
