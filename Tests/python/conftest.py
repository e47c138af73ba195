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
