"""Appends the daemon's stderr to the report of every failed test that used one."""
import pytest


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    report = (yield).get_result()
    if report.failed:
        for name, value in getattr(item, "funcargs", {}).items():
            log = getattr(value, "log_path", None)
            if log is not None and log.exists():
                report.sections.append((f"meetingd stderr ({name})", log.read_text(errors="replace")[-8000:]))


@pytest.fixture(scope="session")
def corpus_daemon():
    """One daemon for the module tests: the seed page and the QMSum validation meetings."""
    from meetingd_client import CorpusDaemon, ROOT, SHARED
    daemon = CorpusDaemon([ROOT / "Samples", SHARED / "qmsum" / "val.jsonl"])
    yield daemon
    daemon.stop()


@pytest.fixture(scope="session")
def pages_daemon():
    """The seed, our own official pages in English and Russian, and the QMSum validation meetings."""
    from meetingd_client import CorpusDaemon, ROOT, SHARED
    fixtures = ROOT / "Tests" / "MeetingIngestTests" / "Fixtures"
    pages = [fixtures / name for name in ("talks_with_press.txt", "security_council.txt", "transport_council.txt",
                                          "ru_cis_council.txt", "ru_talks_with_press.txt")]
    daemon = CorpusDaemon([ROOT / "Samples", *pages, SHARED / "qmsum" / "val.jsonl"])
    yield daemon
    daemon.stop()
