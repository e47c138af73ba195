"""An independent check of meetingd's JSON-RPC 2.0 protocol over ZeroMQ, with
pyzmq: it shares no code with the daemon or meetingctl, so it catches
mistakes the two Swift sides could make in agreement.

Run: python3 -m pytest Tests/python
Env: MEETINGD_BIN (default .build/debug/meetingd in the repo root)

Every socket wait is a poll with a timeout, so no test can hang on a silent
daemon; every daemon is started on a free loopback port and stopped at the end.
"""
import json
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
import zmq

ROOT = Path(__file__).resolve().parents[2]
MEETINGD = Path(os.environ.get("MEETINGD_BIN", ROOT / ".build/debug/meetingd"))
HELLO_SOURCE = ROOT / "Plugins/hello-c/hello.c"
ABI_HEADER_DIR = ROOT / "Sources/MeetingKit/Sources/CMeetingdModule/include"
REPLY_TIMEOUT_MS = 5000
START_TIMEOUT_S = 30
CTX = zmq.Context.instance()

PING = {"jsonrpc": "2.0", "id": 1, "method": "meetingd.ping"}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def encode(body):
    """Bytes go on the wire as they are (for malformed requests); anything else as JSON."""
    return body if isinstance(body, bytes) else json.dumps(body).encode()


def call(endpoint, body, timeout_ms=REPLY_TIMEOUT_MS, tries=1):
    """One request over a REQ socket, Lazy Pirate style: on a timeout the REQ
    socket is stuck, so close it, open a new one and resend, up to `tries`."""
    for _ in range(tries):
        sock = CTX.socket(zmq.REQ)
        sock.linger = 0
        sock.connect(endpoint)
        try:
            sock.send(encode(body))
            if sock.poll(timeout_ms, zmq.POLLIN):
                return sock.recv()
        finally:
            sock.close()
    raise AssertionError(f"no reply from {endpoint} after {tries} tries of {timeout_ms} ms")


def rpc(endpoint, body, **kwargs):
    return json.loads(call(endpoint, body, **kwargs))


def assert_error(reply, code, id):
    """A JSON-RPC 2.0 error response: exactly jsonrpc, id and error; returns error."""
    assert set(reply) == {"jsonrpc", "id", "error"}, reply
    assert reply["jsonrpc"] == "2.0"
    assert reply["id"] == id, reply
    error = reply["error"]
    assert error["code"] == code, reply
    assert isinstance(error["message"], str) and error["message"], reply
    return error


class Daemon:
    """`meetingd serve ARGS...` with stderr in a file; waits until it answers a ping."""

    def __init__(self, args, tmp_path, endpoint):
        self.endpoint = endpoint
        self.log_path = tmp_path / "meetingd.stderr"
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen([str(MEETINGD), "serve", *args],
                                         stdout=subprocess.DEVNULL, stderr=log)

    def stderr(self):
        return self.log_path.read_text(errors="replace")

    def wait_ready(self):
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"meetingd exited with {self.proc.returncode} at start:\n{self.stderr()}")
            try:
                if rpc(self.endpoint, PING, timeout_ms=500).get("result") == "pong":
                    return self
            except AssertionError:
                pass  # not listening yet
        self.kill()
        pytest.fail(f"meetingd did not answer a ping within {START_TIMEOUT_S} s:\n{self.stderr()}")

    def wait_exit(self, timeout_s):
        try:
            return self.proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self.kill()
            pytest.fail(f"meetingd still running after {timeout_s} s:\n{self.stderr()}")

    def stop(self):
        """SIGTERM must end the daemon cleanly: exit status 0."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        assert self.wait_exit(15) == 0, f"meetingd exited with {self.proc.returncode}:\n{self.stderr()}"

    def kill(self):
        self.proc.kill()
        self.proc.wait()


@pytest.fixture(scope="module", autouse=True)
def built_daemon():
    if not MEETINGD.is_file():
        pytest.fail(f"no meetingd at {MEETINGD}: run `swift build` or set MEETINGD_BIN")


@pytest.fixture(scope="module")
def daemon(tmp_path_factory):
    """The daemon as built, on its default config, listening on tcp and ipc."""
    tmp = tmp_path_factory.mktemp("plain")
    tcp = f"tcp://127.0.0.1:{free_port()}"
    ipc = f"ipc://{tmp}/meetingd.sock"
    d = Daemon(["--endpoint", tcp, "--endpoint", ipc], tmp, tcp).wait_ready()
    d.ipc = ipc
    yield d
    d.stop()


# --- The C module. Building it needs only cc and the ABI header.

def build_hello(out_dir, *defines):
    out_dir.mkdir(parents=True, exist_ok=True)
    subprocess.run(["cc", "-std=c11", "-O2", "-fPIC", "-shared", "-fvisibility=hidden",
                    f"-I{ABI_HEADER_DIR}", *defines, str(HELLO_SOURCE), "-o", str(out_dir / "hello.so")],
                   check=True)
    return out_dir


# CONFIG FORMAT: this function is the only place that knows the daemon's YAML
# config keys (endpoints, workers, module_dirs, modules.NAME.enabled/settings).
# The module's `settings` mapping is what its `open` receives as JSON.
def write_config(tmp_path, endpoint, module_dir, settings):
    path = tmp_path / "meetingd.yaml"
    path.write_text(
        f'endpoints: ["{endpoint}"]\n'
        "workers: 2\n"  # a second worker answers while the first sleeps
        f'module_dirs: ["{module_dir}"]\n'
        "modules:\n"
        f"  hello: {{enabled: true, settings: {json.dumps(settings)}}}\n")
    return path


def start_with_hello(tmp_path, module_dir, settings):
    endpoint = f"tcp://127.0.0.1:{free_port()}"
    config = write_config(tmp_path, endpoint, module_dir, settings)
    return Daemon(["--config", str(config)], tmp_path, endpoint)


@pytest.fixture
def start_hello(tmp_path):
    """start_hello(module_dir, settings) for tests that run their own daemon;
    any still running at the end of the test is killed."""
    started = []

    def start(module_dir, settings):
        started.append(start_with_hello(tmp_path, module_dir, settings))
        return started[-1]
    yield start
    for d in started:
        if d.proc.poll() is None:
            d.kill()


@pytest.fixture(scope="module")
def hello_daemon(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("hello")
    d = start_with_hello(tmp, build_hello(tmp / "modules"), {"greeting": "Howdy"}).wait_ready()
    yield d
    d.stop()


# --- Ping and batches

@pytest.mark.parametrize("id", [1, 0, -7, "a-string-id"])
def test_ping_echoes_the_id(daemon, id):
    assert rpc(daemon.endpoint, {**PING, "id": id}) == {"jsonrpc": "2.0", "id": id, "result": "pong"}


def test_ping_over_ipc(daemon):
    assert rpc(daemon.ipc, PING)["result"] == "pong"


def test_batch_answers_each_call_by_id(daemon):
    replies = rpc(daemon.endpoint, [{**PING, "id": 1}, {**PING, "id": "two"}])
    assert isinstance(replies, list) and len(replies) == 2, replies
    assert {r["id"]: r["result"] for r in replies} == {1: "pong", "two": "pong"}


def test_batch_mixes_results_errors_and_notifications(daemon):
    # JSON-RPC 2.0: every call is answered on its own, notifications are not.
    replies = rpc(daemon.endpoint, [
        {**PING, "id": 1},
        {"jsonrpc": "2.0", "method": "meetingd.ping"},
        {"jsonrpc": "2.0", "id": 2, "method": "no.such_method"},
        5,
    ])
    assert isinstance(replies, list) and len(replies) == 3, replies
    by_id = {json.dumps(r["id"]): r for r in replies}
    assert by_id["1"]["result"] == "pong"
    assert_error(by_id["2"], -32601, 2)
    assert_error(by_id["null"], -32600, None)


# --- Errors from deliberately bad requests

@pytest.mark.parametrize("body, code, id", [
    (b'{"jsonrpc":"2.0","id":1,"method":', -32700, None),       # truncated JSON
    (b"\xff\xfe not utf-8", -32700, None),
    (b"[]", -32600, None),                                       # an empty batch
    (b"5", -32600, None),                                        # neither object nor array
    ({"jsonrpc": "2.0", "id": 3, "method": 5}, -32600, 3),
    ({"jsonrpc": "2.0", "id": 4}, -32600, 4),                    # no method
    ({"jsonrpc": "2.0", "id": 5, "method": "meetingd.ping", "params": 5}, -32600, 5),
])
def test_bad_request_gets_its_error_code(daemon, body, code, id):
    assert_error(rpc(daemon.endpoint, body), code, id)


def test_wrong_jsonrpc_version_is_an_invalid_request(daemon):
    reply = rpc(daemon.endpoint, {"jsonrpc": "1.0", "id": 7, "method": "meetingd.ping"})
    # The id may or may not be trusted in a request that is not JSON-RPC 2.0.
    assert_error(reply, -32600, reply.get("id"))
    assert reply["id"] in (7, None)


def test_unknown_method_names_it_in_data(daemon):
    error = assert_error(rpc(daemon.endpoint, {"jsonrpc": "2.0", "id": 8, "method": "nope.nothing"}), -32601, 8)
    assert "nope.nothing" in json.dumps(error.get("data")), error


# --- Notifications: the reply frame is empty, because REQ sockets need one.

@pytest.mark.parametrize("method", ["meetingd.ping", "nope.nothing"])
def test_notification_gets_an_empty_frame(daemon, method):
    assert call(daemon.endpoint, {"jsonrpc": "2.0", "method": method}) == b""
    assert rpc(daemon.endpoint, PING)["result"] == "pong"


# --- Socket types: the reply keeps the envelope the client sent.

@pytest.mark.parametrize("frames", [[b""], []], ids=["with-delimiter", "without-delimiter"])
def test_dealer_gets_reply_in_its_envelope(daemon, frames):
    sock = CTX.socket(zmq.DEALER)
    sock.linger = 0
    sock.connect(daemon.endpoint)
    try:
        sock.send_multipart([*frames, encode({**PING, "id": 11})])
        assert sock.poll(REPLY_TIMEOUT_MS, zmq.POLLIN), "no reply"
        reply = sock.recv_multipart()
    finally:
        sock.close()
    assert reply[:-1] == frames, reply
    assert json.loads(reply[-1]) == {"jsonrpc": "2.0", "id": 11, "result": "pong"}


# --- The C module, loaded through the ABI (depends on write_config).

def test_module_answers_with_configured_greeting(hello_daemon):
    name = 'Wörld "quoted" \\ back\nslash 😀 \u0001'
    reply = rpc(hello_daemon.endpoint, {"jsonrpc": "2.0", "id": 20, "method": "hello.greet", "params": {"name": name}})
    assert reply == {"jsonrpc": "2.0", "id": 20, "result": {"greeting": f"Howdy, {name}!"}}


@pytest.mark.parametrize("method, params, field", [
    ("hello.greet", {"name": 5}, "name"),        # wrong type
    ("hello.greet", {}, "name"),                 # missing required
    ("hello.greet", {"name": ""}, "name"),       # minLength
    ("hello.sleep", {"ms": 60001}, "ms"),        # maximum
])
def test_invalid_params_name_the_field(hello_daemon, method, params, field):
    reply = rpc(hello_daemon.endpoint, {"jsonrpc": "2.0", "id": 21, "method": method, "params": params})
    error = assert_error(reply, -32602, 21)
    assert error["data"]["field"] == field, error
    assert isinstance(error["data"]["reason"], str) and error["data"]["reason"], error


def test_module_error_reaches_the_client(hello_daemon):
    reply = rpc(hello_daemon.endpoint, {"jsonrpc": "2.0", "id": 22, "method": "hello.fail", "params": {}})
    assert reply == {"jsonrpc": "2.0", "id": 22, "error": {
        "code": -32004, "message": "hello.fail always fails", "data": {"reason": "requested"}}}
    assert rpc(hello_daemon.endpoint, PING)["result"] == "pong"


def test_discover_lists_module_methods(hello_daemon):
    doc = rpc(hello_daemon.endpoint, {"jsonrpc": "2.0", "id": 23, "method": "rpc.discover"})["result"]
    assert doc["openrpc"].startswith("1.")
    names = {m["name"] for m in doc["methods"]}
    assert {"meetingd.ping", "hello.greet", "hello.sleep", "hello.fail"} <= names, names


def test_lazy_pirate_retry_past_a_slow_request(hello_daemon):
    # Give up on a slow call like a Lazy Pirate client: close, reopen, resend.
    # The new socket gets its own answer, not the late reply to the old one.
    # (A ping may queue behind the sleep on the same worker; the retry is what
    # gets it through, so no timing is asserted.)
    with pytest.raises(AssertionError, match="no reply"):
        call(hello_daemon.endpoint, {"jsonrpc": "2.0", "id": 30, "method": "hello.sleep", "params": {"ms": 1500}},
             timeout_ms=200)
    assert rpc(hello_daemon.endpoint, {**PING, "id": 31}, timeout_ms=1000, tries=3) == \
        {"jsonrpc": "2.0", "id": 31, "result": "pong"}


def test_sigterm_lets_a_slow_request_finish(tmp_path, start_hello):
    d = start_hello(build_hello(tmp_path / "modules"), {}).wait_ready()
    sock = CTX.socket(zmq.DEALER)
    sock.linger = 0
    sock.connect(d.endpoint)
    try:
        sock.send_multipart([b"", encode({"jsonrpc": "2.0", "id": 40, "method": "hello.sleep", "params": {"ms": 1000}})])
        time.sleep(0.3)  # let a worker pick it up
        d.proc.send_signal(signal.SIGTERM)
        assert sock.poll(REPLY_TIMEOUT_MS, zmq.POLLIN), f"no reply after SIGTERM:\n{d.stderr()}"
        assert json.loads(sock.recv_multipart()[-1]) == {"jsonrpc": "2.0", "id": 40, "result": {"slept_ms": 1000}}
    finally:
        sock.close()
    assert d.wait_exit(15) == 0, d.stderr()


# --- Start-up failures: serve exits non-zero, naming the library and the reason.

@pytest.mark.parametrize("defines, settings, expected", [
    ([], {"fail_open": True}, "fail_open"),
    (["-DHELLO_ABI_VERSION=99"], {}, "99"),
    (["-DHELLO_DUPLICATE_METHOD"], {}, "hello.greet"),
])
def test_bad_module_stops_serve(tmp_path, start_hello, defines, settings, expected):
    module_dir = build_hello(tmp_path / "modules", *defines)
    d = start_hello(module_dir, settings)
    assert d.wait_exit(START_TIMEOUT_S) != 0, d.stderr()
    assert str(module_dir / "hello.so") in d.stderr() and expected in d.stderr(), d.stderr()


def test_missing_module_stops_serve(tmp_path, start_hello):
    (tmp_path / "empty").mkdir()
    d = start_hello(tmp_path / "empty", {})
    assert d.wait_exit(START_TIMEOUT_S) != 0, d.stderr()
    assert "hello" in d.stderr(), d.stderr()
