"""The race lab's matrix: each strategy in its store's row and its technique's column."""

from session_counter.race.matrix import markdown, matrix_rows, outcome


def result(name, store, technique, safe_against, duplicates=0, lost=0, retries=None):
    """A race-lab result of one round of 10 clients, as `race --json` gives it."""
    exact = not duplicates and not lost
    return {"strategy": name, "store": store, "technique": technique,
            "safe_against": safe_against,
            "summary": {"rounds": 1, "exact_rounds": int(exact), "duplicates": duplicates,
                        "lost_updates": lost, "errors": 0, "retries": retries,
                        "verdict": "exactly 1..10" if exact else "problems"},
            "rounds": [{"verdict": "exactly 1..10" if exact else "problems"}]}


RESULTS = [
    result("redis_watch", "redis", "compare-and-swap", ["threads", "processes", "machines"],
           retries=7),
    result("naive_global", "process", "read-then-write", [], duplicates=6),
    result("redis_get_set", "redis", "read-then-write", [], duplicates=4, lost=4),
    result("redis", "redis", "atomic", ["threads", "processes", "machines"]),
]


def test_rows_follow_the_stores_order_and_cells_the_techniques():
    rows = matrix_rows(RESULTS)
    assert [store for store, _ in rows] == ["process memory", "Redis"]
    process, redis = rows[0][1], rows[1][1]
    assert process == [[("naive_global", "nothing", "6 duplicates")], [], [], []]
    assert redis == [[("redis_get_set", "nothing", "4 duplicates, 4 lost updates")], [],
                     [("redis", "machines", "exactly 1..10")],
                     [("redis_watch", "machines", "exactly 1..10, 7 retries")]]


def test_outcome_of_several_rounds():
    run = result("sqlite", "sqlite", "atomic", ["threads", "processes"])
    run["summary"].update(rounds=3, exact_rounds=3)
    assert outcome(run) == "exact in 3 of 3 rounds"


def test_markdown_table():
    text = markdown(RESULTS, "10 clients on gunicorn",
                    skipped=[{"strategy": "postgres", "reason": "needs PostgreSQL"}])
    lines = text.splitlines()
    assert lines[0] == "| store | read-then-write | lock | atomic | compare-and-swap |"
    assert lines[1] == "|---|---|---|---|---|"
    assert lines[3] == ("| Redis | `redis_get_set` (nothing): 4 duplicates, 4 lost updates |  | "
                        "`redis` (machines): exactly 1..10 | "
                        "`redis_watch` (machines): exactly 1..10, 7 retries |")
    assert "10 clients on gunicorn; in brackets: what each claims" in text
    assert "Not raced: `postgres` (needs PostgreSQL)." in text
