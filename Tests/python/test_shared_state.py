"""Shared read-only state: a fresh daemon answers the first typo-corrected search and the
first summary on every worker, from one copy of the vocabulary and word statistics built
before it said it was ready. (How fast is measured by Benchmarks/language/first_request.py,
not here.)"""
import json
import threading

import zmq

from meetingd_client import ROOT, SHARED, CorpusDaemon


def both_at_once(daemon, method, params):
    """Two requests sent together, so that each of the two workers answers one."""
    replies = [None, None]

    def one(index):
        sock = zmq.Context.instance().socket(zmq.REQ)
        sock.linger = 0
        sock.connect(daemon.endpoint)
        sock.send(json.dumps({"jsonrpc": "2.0", "id": index, "method": method, "params": params}).encode())
        if sock.poll(30000):
            replies[index] = json.loads(sock.recv())
        sock.close()
    threads = [threading.Thread(target=one, args=(index,)) for index in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return replies


def test_every_worker_answers_its_first_requests_from_the_shared_state():
    daemon = CorpusDaemon([ROOT / "Samples", SHARED / "qmsum" / "val.jsonl"], workers=2)
    try:
        searches = both_at_once(daemon, "search.query", {"q": "vacines"})
        for reply in searches:
            assert reply and "result" in reply, reply
            (word,) = reply["result"]["corrected"]["words"]
            assert word["from"] == "vacines" and word["to"].startswith("vaccin"), word
            assert reply["result"]["hits"]
        summaries = both_at_once(daemon, "summarise.meeting", {"meeting": "val-3", "max_words": 60})
        assert all(reply and reply["result"]["sentences"] for reply in summaries), summaries
    finally:
        daemon.stop()
