"""The race lab's terminal table: fits 80 columns, never cuts a name or a verdict; a legend."""

import re

import pytest

from session_counter.race.glossary import GLOSSARY, terms_in
from session_counter.race.judged import EXACT_NOT_SAFE, read_against_server
from session_counter.race.model import RaceResult
from session_counter.race.report import LabReport, StrategyRun
from session_counter.race.table import print_report

RUNS = [("postgres_for_update", "lock", "exactly 1..100"),
        ("memcached_get_set_with_a_much_longer_name_than_any", "read-then-write",
         "49 duplicates, 48 gaps, 48 lost updates, 4 processes"),
        ("file_lock", "lock", "3 errors, 2 duplicates, 1 gap, 97 out of range, 2 lost updates, "
                              "4 processes")]
CAPTION = ("100 simultaneous clients x 1 round on gunicorn (4 sync worker processes), "
           "window 0 (the question's code exactly)")


def report():
    runs = []
    for name, technique, verdict in RUNS:
        run = StrategyRun(name, "global", store=name.split("_")[0], technique=technique)
        run.results.append(RaceResult(name, 100, 97, 3, 88, 9, gaps=3, final_value=52,
                                      lost_updates=48, pids=[1, 2, 3, 4], verdict=verdict))
        runs.append(run)
    return LabReport("shared", {}, runs)


def printed(monkeypatch, capsys, columns):
    monkeypatch.setenv("COLUMNS", str(columns))
    print_report(report(), CAPTION)
    return capsys.readouterr().out


def flat(text):
    return re.sub(r"\s+", " ", text)


@pytest.mark.parametrize("columns", [80, 100])
def test_narrow_terminals_get_every_name_and_verdict_whole(monkeypatch, capsys, columns):
    out = printed(monkeypatch, capsys, columns)
    assert max(len(line) for line in out.splitlines()) <= columns, out
    for name, technique, verdict in RUNS:
        assert any(line.startswith(name) for line in out.splitlines()), (name, out)
        assert f"{technique}: {verdict}" in flat(out), (verdict, out)
    assert flat(CAPTION) in flat(out)
    for word in ("dup:", "gaps:", "lost:", "retries:", "pids:"):
        assert f"  {word}" in out  # the legend says what each header counts


def test_a_wide_terminal_gets_every_column_on_one_line_per_strategy(monkeypatch, capsys):
    out = printed(monkeypatch, capsys, 220)
    assert max(len(line) for line in out.splitlines()) <= 220
    for name, _, verdict in RUNS:
        assert any(name in line and verdict in line for line in out.splitlines()), out
    assert "answers" in out and "distinct" in out and "wall s" in out
    assert "  answers: answered 200 with a number" in out


@pytest.mark.parametrize("columns", [80, 220])
def test_the_legend_defines_the_words_of_the_columns_and_verdicts(monkeypatch, capsys, columns):
    """The glossary's sentences (race/glossary.py, the page's too), only for words used."""
    out = printed(monkeypatch, capsys, columns)
    assert max(len(line) for line in out.splitlines()) <= columns
    used = {"exact", "error", "duplicate", "gap", "out of range", "lost update", "process"}
    assert set(terms_in(*(verdict for _, _, verdict in RUNS))) == used
    for term, definition in GLOSSARY.items():
        assert (f"{term}: {definition}" in flat(out)) == (term in used), term


def test_a_reading_note_is_defined_under_the_table(monkeypatch, capsys):
    monkeypatch.setenv("COLUMNS", "80")
    run = StrategyRun("naive_global", "process")
    run.results.append(RaceResult("naive_global", 5, 5, 0, 5, 0, final_value=5,
                                  lost_updates=0, pids=[1], exact=True, verdict="exactly 1..5"))
    run.note(read_against_server([], True, 1, True, 0.0, where="terminal")["text"])
    print_report(LabReport("shared", {}, [run]), CAPTION)
    out = flat(capsys.readouterr().out)
    assert f"{EXACT_NOT_SAFE}: {GLOSSARY[EXACT_NOT_SAFE]}" in out
    assert f"exact: {GLOSSARY['exact']}" in out
    assert f"duplicate: {GLOSSARY['duplicate']}" in out  # a column's word, always defined
