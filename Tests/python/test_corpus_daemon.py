"""The shared module-test daemon serves the ingested corpus through every stock module."""
from meetingd_client import SEED_ID


def test_serves_seed_and_qmsum(corpus_daemon):
    status = corpus_daemon.call("meetingd.status")
    assert status["modules"] == ["lookup", "search", "summarise", "events"]
    assert status["corpus"]["meetings"] == 36  # the seed page and 35 QMSum meetings
    assert corpus_daemon.call("lookup.meeting", {"id": SEED_ID})["title"] == "Meeting of CIS Heads of State Council"
