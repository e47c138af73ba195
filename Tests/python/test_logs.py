"""Request ids in the daemon's log, through the real daemon: the broker numbers
each request, and every line about it carries that number (`request_id`), in
the `key=value` text format and in `log_format: json`."""
import json
import re

import pytest
import zmq

from meetingd_client import check_config
from test_protocol import CTX, MEETINGD, REPLY_TIMEOUT_MS, Daemon, build_hello, free_port

SLEEP_MS = 300
TEXT_LINE = re.compile(r"^\S+ (?P<level>\w+) (?P<logger>\S+): (?P<message>.*)$")


def parse_text(line):
    """A text line as a dict: time, level, logger, message and its `key=value` fields."""
    match = TEXT_LINE.match(line)
    assert match, f"not a log line: {line!r}"
    fields = dict(re.findall(r" (\w+)=(\S*)", match["message"]))
    message = re.split(r" \w+=", match["message"], maxsplit=1)[0]
    return {**fields, "level": match["level"], "logger": match["logger"], "message": message}


def parse_json(line):
    entry = json.loads(line)
    assert isinstance(entry, dict) and {"time", "level", "logger", "message"} <= set(entry), line
    return entry


def serve_hello(tmp_path, log_format):
    module_dir = build_hello(tmp_path / "modules")
    endpoint = f"tcp://127.0.0.1:{free_port()}"
    config = tmp_path / "meetingd.yaml"
    config.write_text(f'endpoints: ["{endpoint}"]\nworkers: 2\nmodule_dirs: ["{module_dir}"]\n'
                      f"modules:\n  hello: {{}}\nlog_level: debug\nlog_format: {log_format}\n")
    return Daemon(["--config", str(config)], tmp_path, endpoint).wait_ready()


def exchange_at_once(endpoint, bodies):
    """Sends every body on its own socket before reading any reply; the replies in order."""
    sockets = []
    try:
        for body in bodies:
            sock = CTX.socket(zmq.REQ)
            sock.linger = 0
            sock.connect(endpoint)
            sock.send_json(body)
            sockets.append(sock)
        replies = []
        for sock in sockets:
            assert sock.poll(REPLY_TIMEOUT_MS + SLEEP_MS, zmq.POLLIN), "no reply"
            replies.append(sock.recv_json())
        return replies
    finally:
        for sock in sockets:
            sock.close()


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_every_line_about_a_request_carries_its_id(tmp_path, log_format):
    d = serve_hello(tmp_path, log_format)
    try:
        sleeps = exchange_at_once(d.endpoint, [
            {"jsonrpc": "2.0", "id": name, "method": "hello.sleep", "params": {"ms": SLEEP_MS}} for name in ("a", "b")])
        assert [reply["result"] for reply in sleeps] == [{"slept_ms": SLEEP_MS}] * 2, sleeps
        batch = exchange_at_once(d.endpoint, [[
            {"jsonrpc": "2.0", "id": "greet", "method": "hello.greet", "params": {"name": "log"}},
            {"jsonrpc": "2.0", "id": "fail", "method": "hello.fail"},
            {"jsonrpc": "2.0", "id": "nope", "method": "nope.x"},
        ]])[0]
        assert [("error" in reply) for reply in batch] == [False, True, True], batch
    finally:
        d.stop()

    text = d.stderr()
    entries = [(parse_json if log_format == "json" else parse_text)(line) for line in text.splitlines()]
    about_requests = [entry for entry in entries if "rpc_id" in entry]
    # The readiness pings, the two sleeps, the batch's three calls.
    assert len(about_requests) >= 5, text
    for entry in about_requests:
        assert re.fullmatch(r"[1-9][0-9]*", entry.get("request_id", "")), entry
        assert float(entry["ms"]) >= 0, entry
    for entry in entries:
        if "rpc_id" not in entry:
            assert "request_id" not in entry, f"a line about no request carries an id: {entry}"

    by_rpc_id = {entry["rpc_id"]: entry for entry in about_requests}
    a, b = by_rpc_id['"a"'], by_rpc_id['"b"']
    assert a["request_id"] != b["request_id"], (a, b)
    assert a["method"] == b["method"] == "hello.sleep" and float(a["ms"]) >= SLEEP_MS, (a, b)
    greet, fail, nope = by_rpc_id['"greet"'], by_rpc_id['"fail"'], by_rpc_id['"nope"']
    # One frame is one request: a batch's calls share its id, and no other request has it.
    assert greet["request_id"] == fail["request_id"] == nope["request_id"], (greet, fail, nope)
    assert greet["request_id"] not in {a["request_id"], b["request_id"]}
    assert "code" not in greet and fail["code"] == "-32004" and nope["code"] == "-32601", (greet, fail, nope)
    assert fail["method"] == "hello.fail", fail


def test_check_config_refuses_an_unknown_log_format(tmp_path):
    checked = check_config(tmp_path, "log_format: xml\n")
    assert checked.returncode != 0, checked
    assert "log_format: expected one of text, json, got \"xml\"" in checked.stdout + checked.stderr, checked
    checked = check_config(tmp_path, "log_format: json\n")
    assert checked.returncode == 0 and '"log_format"' in checked.stdout and '"json"' in checked.stdout, checked
