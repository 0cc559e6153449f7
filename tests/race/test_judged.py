"""An exact race read against the server it ran on (race/judged.py)."""

from session_counter.race.judged import (
    EXACT_NOT_SAFE,
    is_serial,
    lab_reading,
    read_against_server,
)
from session_counter.race.lab import LabSettings
from session_counter.race.model import Answer
from session_counter.race.report import analyse


def test_not_exact_or_covered_means_no_reading():
    assert read_against_server([], False, 1, False, 0.0) is None
    assert read_against_server(["threads"], True, 1, False, 0.0) is None
    assert read_against_server(["threads", "processes"], True, 4, False, 0.0) is None


def test_one_threaded_process_blames_the_gil_and_says_what_to_type():
    reading = read_against_server([], True, 1, False, 0.0)
    assert reading["reading"] == EXACT_NOT_SAFE
    assert reading["reason"].startswith("one process: the GIL rarely switches")
    assert reading["command"] == "SESSION_COUNTER_RACE_WINDOW=0.001 python run.py --workers 4"
    assert reading["text"] == f"{EXACT_NOT_SAFE}: {reading['reason']}: {reading['command']}"
    widened = read_against_server([], True, 1, False, 0.001, where="terminal")
    assert "(window 0.001 s)" in widened["reason"]
    assert widened["command"] == "flask --app session_counter race --server gunicorn --workers 4"


def test_several_processes_and_a_thread_safe_label():
    reading = read_against_server(["threads"], True, 3, False, 0.0, where="terminal")
    assert reading["reason"].startswith("3 processes answered and it is safe against threads")
    assert reading["command"] == "flask --app session_counter race --window 0.001"


def test_a_serial_server_says_nothing_could_interleave():
    reading = read_against_server([], True, 1, True, 0.0)
    assert "one request at a time" in reading["reason"]
    assert reading["command"] == "python run.py --workers 4"


def test_which_servers_answer_one_request_at_a_time():
    assert is_serial("dev-single", 1, 1) and is_serial("gunicorn", 1, 1)
    assert is_serial("waitress", 1, 1)
    assert not is_serial("gunicorn", 4, 1) and not is_serial("dev", 1, None)
    assert not is_serial("unknown", None, None) and not is_serial("waitress", 1, 4)


def test_the_lab_notes_the_reading_of_a_round():

    exact = analyse("naive_global", [Answer(200, v, 9, "t", "a", None, 0.0) for v in (1, 2)],
                    final_value=2, wall_time=0.1)
    settings = LabSettings(server="dev-single")
    [text] = lab_reading([], exact, settings)
    assert text.startswith("exact this time, not safe: this server answers one request")
    assert lab_reading(["threads", "processes"], exact, settings) == []
