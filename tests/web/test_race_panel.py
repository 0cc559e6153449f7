"""The page's race panel in a real Chromium, against gunicorn with several workers.

How the page looks at phone width, the panel included, is tests/web/test_browser.py's job.
"""

import json
from collections import defaultdict

import pytest

from session_counter.race.glossary import GLOSSARY, terms_in
from session_counter.race.judged import EXACT_NOT_SAFE
from session_counter.servers.chromium import DESKTOP, run_race_panel
from session_counter.servers.harness import running_booted_server, running_server
from session_counter.strategies import PROCESSES, STRATEGY_CLASSES

from .browser import WORKERS, PageErrors

pytestmark = [pytest.mark.browser, pytest.mark.server, pytest.mark.slow]

PROCESS_SAFE = {cls.name for cls in STRATEGY_CLASSES if PROCESSES in cls.safe_against}
CLIENTS = 40


def test_the_panel_draws_each_strategys_numbers_and_verdict(new_context, server):
    page = new_context(viewport=DESKTOP).new_page()
    errors = PageErrors(page)
    page.goto(server.url + "/")
    panel = run_race_panel(page, CLIENTS)
    names = [box.get_attribute("value") for box in panel.get_by_role("checkbox").all()]
    assert PROCESS_SAFE & set(names), names
    for name in PROCESS_SAFE & set(names):
        result = panel.get_by_test_id(f"race-result-{name}")
        assert result.get_attribute("data-exact") == "true"
        assert panel.get_by_test_id(f"race-verdict-{name}").inner_text() == \
            f"exactly 1..{CLIENTS}"
        assert result.locator(".race-box > [aria-hidden]").all_inner_texts() == \
            [str(n) for n in range(1, CLIENTS + 1)]
        assert result.locator(".race-box.dup, .race-box.gap").count() == 0
    # Three worker processes answer, each with its own copy of the global.
    naive = panel.get_by_test_id("race-result-naive_global")
    assert naive.get_attribute("data-exact") == "false"
    assert "duplicate" in panel.get_by_test_id("race-verdict-naive_global").inner_text()
    assert naive.locator(".race-box.dup").count() > 0
    assert panel.locator("[data-testid^='race-result-']").count() == len(names)
    # compare-and-swap: the retries its answers carried, summed by the server
    assert " retries (swaps lost to another request" in panel.get_by_test_id(
        "race-result-sqlite_cas").inner_text()
    assert "retries" not in panel.get_by_test_id("race-result-sqlite").inner_text()
    assert errors.messages == []


def test_the_panel_refuses_a_bad_n_then_races(new_context, server):
    page = new_context(viewport=DESKTOP).new_page()
    page.goto(server.url + "/")
    panel = page.get_by_test_id("race-panel")
    panel.get_by_role("spinbutton").fill("501")
    panel.get_by_test_id("race-run").click()
    assert "from 1 to 500" in panel.get_by_test_id("race-status").inner_text()
    assert panel.locator("[data-testid^='race-result-']").count() == 0
    run_race_panel(page, 10, only={"sqlite"})
    assert panel.get_by_test_id("race-result-sqlite").get_attribute("data-exact") == "true"


def test_an_exact_race_on_a_serial_server_reads_exact_this_time_not_safe(new_context):
    """dev-single answers one request at a time: naive_global comes out exact, and is not safe."""
    with running_server("dev-single") as single:
        page = new_context(viewport=DESKTOP).new_page()
        errors = PageErrors(page)
        page.goto(single.url + "/")
        panel = run_race_panel(page, 15, only={"naive_global", "sqlite"})
        assert panel.get_by_test_id("race-verdict-naive_global").inner_text() == "exactly 1..15"
        reading = panel.get_by_test_id("race-reading-naive_global").inner_text()
        assert reading == ("exact this time, not safe: this server answers one request at a "
                           "time, so nothing could interleave; start more workers: "
                           "python run.py --workers 4")
        assert panel.get_by_test_id("race-reading-sqlite").count() == 0
        assert words_beside(panel.get_by_test_id("race-result-naive_global")) == [
            (term, GLOSSARY[term]) for term in ("exact", EXACT_NOT_SAFE)]
        assert errors.messages == []


def words_beside(result):
    """Open a result's "words of this verdict" and return [(term, definition)] as shown."""
    words = result.locator("details.race-terms")
    words.locator("summary").click()
    return list(zip(words.locator("dt").all_inner_texts(), words.locator("dd").all_inner_texts(),
                    strict=True))


def test_each_verdict_has_its_words_defined_beside_it(new_context, server):
    """Every word a verdict (and an "exact this time" reading) uses, from race/glossary.py."""
    page = new_context(viewport=DESKTOP).new_page()
    page.goto(server.url + "/")
    glossary = page.get_by_test_id("race-glossary")
    glossary.locator("summary").focus()
    page.keyboard.press("Enter")  # a keyboard opens it
    assert glossary.locator("dt").all_inner_texts() == list(GLOSSARY)
    assert glossary.locator("dd").all_inner_texts() == list(GLOSSARY.values())
    panel = run_race_panel(page, CLIENTS, only={"naive_global", "cache", "sqlite"})
    used = set()
    for name in ("naive_global", "cache", "sqlite"):
        result = panel.get_by_test_id(f"race-result-{name}")
        verdict = panel.get_by_test_id(f"race-verdict-{name}").inner_text()
        reading = result.get_by_test_id(f"race-reading-{name}")
        said = reading.locator("strong").inner_text() if reading.count() else ""
        words = terms_in(verdict, said)
        assert words, verdict
        assert words_beside(result) == [(t, GLOSSARY[t]) for t in words], verdict
        assert result.locator("details.race-terms summary").inner_text() == \
            "The words of this verdict: " + "; ".join(words)
        used.update(words)
    assert "exact" in used  # sqlite


def answers_by_process(responses, name):
    """Return {pid: sorted values} of the JSON answers the page got from /shared/<name>/inc."""
    grouped = defaultdict(list)
    for response in responses:
        if response.url.endswith(f"/shared/{name}/inc") and response.status == 200:
            answer = json.loads(response.body())
            grouped[answer["pid"]].append(answer["value"])
    return {pid: sorted(values) for pid, values in grouped.items()}


DRAWN_BY_PROCESS = """result => Array.from(result.querySelectorAll(".race-process"), group => [
  Number(group.dataset.pid), group.querySelector("h5").textContent,
  Array.from(group.querySelectorAll(".race-answer > [aria-hidden]"),
             box => Number(box.firstChild.textContent))])"""


def test_each_process_group_holds_exactly_the_numbers_that_process_answered(new_context):
    """gunicorn, 3 sync workers, 20 ms inside naive_global: several processes answer."""
    with running_booted_server("gunicorn", workers=WORKERS, config={"RACE_WINDOW": 0.02}) as s:
        page = new_context(viewport=DESKTOP).new_page()
        errors = PageErrors(page)
        responses = []
        page.on("response", lambda response: responses.append(response))
        page.goto(s.url + "/")
        for _ in range(5):  # the kernel picks the workers: race until two of them answered
            responses.clear()
            panel = run_race_panel(page, 30, only={"naive_global", "sqlite"})
            if len(answers_by_process(responses, "naive_global")) > 1:
                break
        else:
            pytest.fail("one process answered every request of five races")
        for name in ("naive_global", "sqlite"):
            got = answers_by_process(responses, name)
            result = panel.get_by_test_id(f"race-result-{name}")
            drawn = result.get_by_test_id(f"race-by-process-{name}").evaluate(DRAWN_BY_PROCESS)
            assert drawn == [[pid, f"process {pid} (answered {len(got[pid])})", got[pid]]
                             for pid in sorted(got)], name
            for pid, values in got.items():  # a screen reader hears the group by its heading
                heard = result.get_by_role("list", name=f"process {pid} (answered {len(values)})")
                assert heard.locator("li").count() == len(values)
        naive = answers_by_process(responses, "naive_global")
        # each process counts on its own copy: its own numbers start at 1, in every group
        assert all(values[0] == 1 for values in naive.values())
        assert sum(len(v) for v in naive.values()) == 30
        assert errors.messages == []


def test_a_race_refused_for_too_many_races_says_so_then_races_when_one_ends(new_context, server):
    """Every place taken (RACE_MAX_LIVE, 8): the panel says why; once one ends, it races."""
    from session_counter.race.servers import request_json

    taken = []
    while (answer := request_json("POST", server.url + "/api/race/start"))[0] == 201:
        taken.append(answer[1]["race"])
    assert answer[0] == 429 and len(taken) <= 8
    try:
        page = new_context(viewport=DESKTOP).new_page()
        errors = PageErrors(page)
        page.goto(server.url + "/")
        panel = page.get_by_test_id("race-panel")
        panel.get_by_test_id("race-run").click()
        status = panel.get_by_test_id("race-status")
        status.filter(has_text="The race did not start").wait_for(timeout=30_000)
        assert "races are running on this server" in status.inner_text()
        assert panel.locator("[data-testid^='race-result-']").count() == 0
        request_json("POST", f"{server.url}/api/race/{taken.pop()}/finish")
        run_race_panel(page, 10, only={"sqlite"})
        assert panel.get_by_test_id("race-verdict-sqlite").inner_text() == "exactly 1..10"
        # the browser's own line for the refused start, and nothing else (no script error)
        assert len(errors.messages) == 1 and "status of 429" in errors.messages[0] and \
            "/api/race/start" in errors.messages[0], errors.messages
    finally:
        for race in taken:
            request_json("POST", f"{server.url}/api/race/{race}/finish")
