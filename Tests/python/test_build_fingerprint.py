"""The build fingerprint (ABI 3's meetingkit_build), through the real daemon: every
stock Swift module of this build carries the daemon's own and loads; a copy compiled
(as other_build.py makes it) against another MeetingKit build is refused at start,
naming both builds and the file. C modules carry none (test_protocol.py loads hello-c)."""
import re
import shutil
import subprocess
import sys

import pytest

from test_protocol import MEETINGD, PING, ROOT, START_TIMEOUT_S, Daemon, free_port, rpc

STOCK_MODULES = ["lookup", "search", "summarise", "events"]
FINGERPRINT = re.compile(rb"MeetingKit [0-9a-f]{16}, Swift [0-9A-Za-z.\-]+")
OTHER_BUILD = ROOT / "Tests/systemd/other_build.py"


def start_with(tmp_path, module_dir, module):
    endpoint = f"tcp://127.0.0.1:{free_port()}"
    config = tmp_path / "meetingd.yaml"
    (tmp_path / "inbox").mkdir()  # ingested at start: an empty corpus to open
    config.write_text(f'endpoints: ["{endpoint}"]\nworkers: 1\ncorpus: "{tmp_path / "corpus.sqlite"}"\n'
                      f'ingest: ["{tmp_path / "inbox"}"]\n'
                      f'module_dirs: ["{module_dir}"]\nmodules:\n  {module}: {{}}\n')
    return Daemon(["--config", str(config)], tmp_path, endpoint)


def test_stock_modules_carry_the_daemons_build_and_load(tmp_path):
    endpoint = f"tcp://127.0.0.1:{free_port()}"
    d = Daemon(["--endpoint", endpoint, "--corpus", str(tmp_path / "corpus.sqlite")], tmp_path, endpoint).wait_ready()
    try:
        status = rpc(endpoint, {**PING, "method": "meetingd.status"})["result"]
        loaded = rpc(endpoint, {**PING, "method": "meetingd.modules"})["result"]
    finally:
        d.stop()
    own = status["meetingkit_build"]
    assert FINGERPRINT.fullmatch(own.encode()), own
    version = subprocess.run([str(MEETINGD), "--version"], capture_output=True, text=True, check=True).stdout
    assert own in version, version
    for name in STOCK_MODULES:
        carried = set(FINGERPRINT.findall((MEETINGD.parent / f"lib{name}.so").read_bytes()))
        assert carried == {own.encode()}, (name, carried, own)
    assert sorted(m["name"] for m in loaded) == sorted(STOCK_MODULES), loaded


@pytest.mark.parametrize("module", ["events", "lookup"])
def test_a_module_built_against_another_meetingkit_is_refused(tmp_path, module):
    modules = tmp_path / "modules"
    modules.mkdir()
    library = modules / f"lib{module}.so"
    out = subprocess.run([sys.executable, str(OTHER_BUILD), str(MEETINGD.parent / f"lib{module}.so"), str(library)],
                         capture_output=True, text=True, check=True).stdout
    own, other = out.split("\n")[:2]
    assert own != other
    d = start_with(tmp_path, modules, module)
    assert d.wait_exit(START_TIMEOUT_S) != 0, d.stderr()
    log = d.stderr()
    assert str(library) in log and f"built against {other}" in log and own in log, log

    # The same copy without the change loads: only the fingerprint was refused.
    shutil.copy(MEETINGD.parent / f"lib{module}.so", library)
    again = tmp_path / "again"
    again.mkdir()
    start_with(again, modules, module).wait_ready().stop()
