"""One session file read and written by 4 processes at once: no read is ever damaged.

Without the flocks, two writers that overwrite and truncate the same file at once can
leave it cut short, but that takes about one read in 10,000 here: too rare to show in a
bounded test. `python -m tests.sessions.one_file_many_processes --without-flocks
--ops 20000` shows it in a longer run.
"""

from .one_file_many_processes import is_whole, run, value


def test_the_damage_check_tells_a_torn_session_from_a_whole_one():
    assert is_whole(value(7, 100)) and is_whole(value(0, 0))
    torn = value(7, 100)
    torn["pad"] = torn["pad"][:50] + value(8, 50)["pad"]  # half of one write, half another
    assert not is_whole(torn)
    assert not is_whole(None) and not is_whole({"counter": 7}) and not is_whole({})


def test_4_processes_reading_and_writing_one_session_file_damage_nothing(tmp_path):
    results = run(processes=4, ops=2000, folder=str(tmp_path))
    assert [reads + writes for reads, writes, _ in results] == [2000] * 4
    assert all(reads > 500 and writes > 500 for reads, writes, _ in results)
    assert [damaged for _, _, damaged in results] == [0, 0, 0, 0]
