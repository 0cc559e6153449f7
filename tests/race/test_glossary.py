"""The verdict words: every word a verdict can use is defined, and each definition's count is
the one race/report.py makes."""

import random
import re
from collections import Counter

import pytest

from session_counter.race.glossary import GLOSSARY, defined, terms_in
from session_counter.race.judged import EXACT_NOT_SAFE, read_against_server
from session_counter.race.model import Answer
from session_counter.race.report import StrategyRun, analyse


def answers(values, pids=(7,)):
    """Answers 200 with ``values`` (None: an error), spread over ``pids`` in turn."""
    return [Answer(200 if v is not None else 0, v, pids[i % len(pids)], "t", None,
                   None if v is not None else "refused", 0.0)
            for i, v in enumerate(values)]


# (values, final value, pids) -> the words its verdict must use
CASES = [
    ([1, 2, 3], 3, (7,), ["exact"]),
    ([1, 2, 2, 4], 3, (7,), ["duplicate", "gap", "lost update", "process"]),
    ([1, 1, 2, 2], 4, (7, 8), ["duplicate", "process"]),
    ([1, 2, None], 3, (7,), ["error", "process"]),
    ([1, 2, 9], 9, (7,), ["gap", "out of range", "extra update", "process"]),
    ([None, None], None, (7,), ["no answers"]),
]


@pytest.mark.parametrize(("values", "final", "pids", "words"), CASES)
def test_each_verdict_uses_the_words_the_glossary_defines(values, final, pids, words):
    result = analyse("s", answers(values, pids), final_value=final, wall_time=0.0)
    assert terms_in(result.verdict) == words, result.verdict
    for part in result.verdict.split(", "):  # every part of a verdict is a defined word
        assert terms_in(part), part


def test_the_readings_and_the_rounds_words_are_defined():
    reading = read_against_server([], True, 1, True, 0.0)
    assert terms_in(reading["reading"]) == [EXACT_NOT_SAFE]
    run = StrategyRun("s", "process", inconclusive=True)
    run.results.append(analyse("s", answers([1, 1]), final_value=2, wall_time=0.0))
    assert "inconclusive" in terms_in(run.summary()["verdict"])
    run.results.append(analyse("s", answers([1, 2]), final_value=2, wall_time=0.0))
    assert set(terms_in(run.summary()["verdict"])) == {"inconclusive", "duplicate"}
    exact = StrategyRun("s", "global")
    exact.results += [analyse("s", answers([1, 2]), final_value=2, wall_time=0.0)] * 2
    assert terms_in(exact.summary()["verdict"]) == ["exact"]  # "exact in 2 of 2 rounds"


def test_each_definition_counts_what_the_report_counts():
    """duplicates = answers after the first per number; gaps = 1..max nobody got;
    lost updates = sent - final: checked on random rounds against analyse()."""
    rng = random.Random(13)
    for _ in range(300):
        values = [rng.randint(1, 12) for _ in range(rng.randint(1, 12))]
        final = rng.randint(0, 14)
        result = analyse("s", answers(values), final_value=final, wall_time=0.0)
        seen = Counter(values)
        assert result.duplicates == sum(c - 1 for c in seen.values())
        assert result.gaps == len(set(range(1, max(values) + 1)) - set(values))
        assert result.lost_updates == len(values) - final
        assert result.exact == (sorted(values) == list(range(1, len(values) + 1)))
        assert ("exact" in terms_in(result.verdict)) == (result.exact and final == len(values))


def test_each_definition_is_one_sentence_and_the_json_keeps_the_order():
    for term, definition in GLOSSARY.items():
        assert definition.endswith(".") and not re.search(r"\.\s+[A-Z]", definition), term
        assert re.match(r"[a-z]", definition), term  # it follows "term:" in the legend
    assert defined(["gap", "duplicate"]) == [
        {"term": "gap", "definition": GLOSSARY["gap"]},
        {"term": "duplicate", "definition": GLOSSARY["duplicate"]}]


def test_the_race_lab_page_quotes_the_definitions_as_the_code_says_them():
    from session_counter.servers.harness import PROJECT_ROOT

    with open(f"{PROJECT_ROOT}/docs/race-lab.md") as doc:
        rows = dict(re.findall(r"^\| ([a-z ]+) \| ([a-z].*\.) \|$", doc.read(), re.M))
    assert rows == {term: GLOSSARY[term] for term in ("duplicate", "gap", "lost update")}
