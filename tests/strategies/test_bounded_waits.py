"""A stopped process holding the file_lock counter's flock cannot hang a request."""

import os

from ..stalls import answer_within

JSON = {"Accept": "application/json"}


def test_a_stopped_holder_of_the_counter_file_costs_the_timeout_then_503(make_app,
                                                                        stalled_writer):
    app = make_app({"TESTING": True, "SESSION_LOCK_TIMEOUT": 0.5})
    client = app.test_client()
    assert client.post("/shared/file_lock/inc", headers=JSON).json["value"] == 1
    holder = stalled_writer(os.path.join(app.instance_path, "file_lock_counter.txt"))
    answer = answer_within(10, lambda: client.post("/shared/file_lock/inc", headers=JSON))
    assert answer is not None, "the request is still waiting for the stopped holder"
    assert answer.status_code == 503
    assert "the counter file" in answer.json["message"]
    assert "stayed locked for 0.5 s" in answer.json["message"]
    holder.kill()
    holder.wait(timeout=10)
    assert client.post("/shared/file_lock/inc", headers=JSON).json["value"] == 2
