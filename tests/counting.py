"""Helpers that count what a strategy hands out."""

import threading


def hand_out_from_threads(strategy, threads=8, each=25):
    """Call ``strategy.increment()`` from several threads at once; return every number."""
    handed_out, lock = [], threading.Lock()
    start = threading.Barrier(threads)

    def work():
        start.wait()
        for _ in range(each):
            value = strategy.increment()
            with lock:
                handed_out.append(value)

    workers = [threading.Thread(target=work) for _ in range(threads)]
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    return handed_out


def check_round_trip(client, name):
    """Reset, read 0, increment to 3, read 3, reset, increment to 1, through the routes."""
    json = {"Accept": "application/json"}
    assert client.post(f"/shared/{name}/reset", headers=json).json["value"] == 0
    assert client.get(f"/shared/{name}", headers=json).json["value"] == 0
    values = [client.post(f"/shared/{name}/inc", headers=json).json["value"] for _ in range(3)]
    assert values == [1, 2, 3]
    assert client.get(f"/shared/{name}").get_data(as_text=True) == "3\n"
    assert client.post(f"/shared/{name}/reset", headers=json).json["value"] == 0
    assert client.post(f"/shared/{name}/inc").get_data(as_text=True) == "1\n"
